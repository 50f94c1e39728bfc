package rollout

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// TestPlanUnstick: a StatefulSet whose template is already its current
// revision's but which waits for a crash-looping pod of another revision
// gets the plan that replaces only that pod, pinned to the current
// revision (even when Helm manages it: the template is not written); a set
// not stuck, a set still at the bad revision and a Deployment get none.
func TestPlanUnstick(t *testing.T) {
	for _, tt := range []struct {
		name     string
		image    string   // the set's template
		pods     []string // per ordinal: the revision (1 good, 3 bad), "c" crash-looping
		helm     bool
		workload string
		stuck    string
	}{
		{name: "rolled back, stuck", image: "app:v1", pods: []string{"1", "1", "3c"}, stuck: "db-2"},
		{name: "rolled back by Helm, stuck", image: "app:v1", pods: []string{"1", "1", "3c"}, helm: true, stuck: "db-2"},
		{name: "rolled back, not stuck", image: "app:v1", pods: []string{"1", "1", "1"}},
		{name: "still at the bad revision", image: "app:crash", pods: []string{"1", "1", "3c"}},
		{name: "a deployment", image: "app:v1", workload: "deployment/web"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sts := statefulSet(tt.image)
			if tt.helm {
				sts.Labels = map[string]string{"app.kubernetes.io/managed-by": "Helm"}
				sts.Annotations["meta.helm.sh/release-name"] = "db"
				sts.Annotations["meta.helm.sh/release-namespace"] = "shop"
			}
			crs := map[string]*appsv1.ControllerRevision{
				"1": controllerRevision(sts, "StatefulSet", 1, "app:v1", "good"),
				"3": controllerRevision(sts, "StatefulSet", 3, "app:crash", ""),
			}
			objs := []runtime.Object{sts, crs["1"], crs["3"]}
			for i, p := range tt.pods {
				cs, ready := runningStatus, true
				if len(p) > 1 {
					cs, ready = crashStatus, false
				}
				objs = append(objs, setPod(sts, "StatefulSet", "db-"+string(rune('0'+i)), crs[p[:1]], ready, cs))
			}
			c := NewClients(fake.NewClientset(objs...), "shop")
			c.ConfigMaps = nil // no start check
			w := tt.workload
			if w == "" {
				w = "sts/db"
			}
			p, err := PlanUnstick(context.Background(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			if tt.stuck == "" {
				if p != nil {
					t.Fatalf("plan %+v, want none", p)
				}
				return
			}
			if p == nil || !p.PodsOnly || p.ReplaceStuck != tt.stuck || p.To == nil || !p.To.Current {
				t.Fatalf("plan %+v; want only %s replaced, at the current revision", p, tt.stuck)
			}
		})
	}
}
