package evidence

import (
	"context"
	"fmt"
	"sort"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/pkg/rollout"
)

// maxSelected bounds the workloads of a Selection that are described.
const maxSelected = 20

// Selection is every Deployment matching a label selector (a bulk undo):
// the evidence of those whose rollout is not healthy, at most 20.
type Selection struct {
	// Clientset reaches the cluster.
	Clientset kubernetes.Interface
	// Namespace is where to look; empty means every namespace.
	Namespace string
	// Selector is the label selector.
	Selector string
}

// Describe names the source.
func (s Selection) Describe() string {
	where := "namespace " + s.Namespace
	if s.Namespace == "" {
		where = "every namespace"
	}
	return fmt.Sprintf("deployments matching %s in %s", s.Selector, where)
}

type selectionPart struct{ parts []part }

func (s Selection) start(ctx context.Context, col *collector) (part, []logTask) {
	list, err := s.Clientset.AppsV1().Deployments(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.Selector})
	if err != nil {
		col.fail(s.Describe(), err)
		return nil, nil
	}
	var unhealthy []appsv1.Deployment
	for _, d := range list.Items {
		if !settled(&d) {
			unhealthy = append(unhealthy, d)
		}
	}
	sort.Slice(unhealthy, func(i, j int) bool {
		return unhealthy[i].Namespace+"/"+unhealthy[i].Name < unhealthy[j].Namespace+"/"+unhealthy[j].Name
	})
	if len(unhealthy) > maxSelected {
		col.bundle.skip(fmt.Sprintf("%d more unhealthy deployments matching %s", len(unhealthy)-maxSelected, s.Selector), fmt.Sprintf("limit: %d workloads", maxSelected))
		unhealthy = unhealthy[:maxSelected]
	}
	sp := &selectionPart{parts: make([]part, len(unhealthy))}
	tasks := make([][]logTask, len(unhealthy))
	var wg sync.WaitGroup
	for i, d := range unhealthy {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := Workload{Clients: rollout.NewClients(s.Clientset, d.Namespace), Namespace: d.Namespace, Name: d.Name}
			sp.parts[i], tasks[i] = w.start(ctx, col)
		}()
	}
	wg.Wait()
	var all []logTask
	for _, t := range tasks {
		all = append(all, t...)
	}
	return sp, all
}

func (p *selectionPart) summarize(s *Summary) {
	for _, q := range p.parts {
		if q != nil {
			q.summarize(s)
		}
	}
}

// settled reports whether a Deployment's rollout looks done and healthy
// from its status alone.
func settled(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want &&
		st.AvailableReplicas == want && st.ReadyReplicas == want && st.UnavailableReplicas == 0
}
