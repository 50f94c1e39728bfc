//go:build e2e

package controller_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/pkg/guardcontroller"
)

// kubectl runs kubectl with the admin kubeconfig.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not installed")
	}
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", sb.Kubeconfig}, args...)...)
	cmd.Dir = clitest.RepoRoot()
	out, err := cmd.CombinedOutput()
	t.Logf("kubectl %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// The shipped RBAC (deploy/rbac.yaml, applied for real) is enough: the
// controller, running as ServiceAccount rollback-system/rollback-guard with
// a TokenRequest token and nothing else, guards a crash-looping release and
// rolls it back (settings from a ConfigMap; a Deployment with a bad setting
// gets a Warning Event). And it is nothing more: SelfSubjectAccessReviews and real
// requests show what it must not do is forbidden. The whole kustomization
// (Deployment, PodDisruptionBudget) passes a server-side dry run.
func TestShippedRBACIsEnoughAndNothingMore(t *testing.T) {
	kubectl(t, "apply", "-k", "deploy/")

	kc, sa := sb.ServiceAccount(t, "rollback-system", "rollback-guard")
	ns := sb.Namespace(t)
	// Settings from a ConfigMap (read with the ServiceAccount's configmaps get).
	if _, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "web-guard"},
		Data:       map[string]string{"bake": "3s", "interval": "1s", "settle": "1s", "timeout": "2m"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	newDeployment(t, ns, "web", "vibestack/app:v1", map[string]string{
		guardcontroller.AnnotationGuard: guardcontroller.EnabledValue, guardcontroller.AnnotationConfig: "web-guard",
	})
	markGood(t, ns, "web")
	// A Deployment with a bad setting: a Warning Event, never a crash.
	newDeployment(t, ns, "bad", "vibestack/app:v1", guardAnnotations(map[string]string{"bake": "soon"}))

	ctl := startController(t, "guard-sa", kc, "--lease-namespace", "rollback-system",
		"--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms")
	eventually(t, 30*time.Second, "the controller leads", func() bool { return ctl.has("guard-sa: became the leader") })
	eventually(t, 30*time.Second, "the controller synced", func() bool { return ctl.has("guarding deployments") })

	eventually(t, 30*time.Second, "a Warning Event on the badly configured deployment", func() bool {
		return countReason(events(t, sb.Clientset, ns, "bad"), guardcontroller.ReasonInvalidSettings) == 1
	})
	logEvents(t, events(t, sb.Clientset, ns, "bad"))

	start := time.Now()
	setImage(t, ns, "web", "vibestack/app:crash-v2")
	eventually(t, 90*time.Second, "the crash-looping revision 2 rolled back", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 2 && (s.Phase == guardcontroller.PhaseRolledBack || s.Phase == guardcontroller.PhaseFailed)
	})
	s := state(t, ns, "web")
	t.Logf("rolled back %s after the bad release: %+v", time.Since(start).Round(time.Millisecond), s)
	if s.Phase != guardcontroller.PhaseRolledBack {
		t.Fatalf("phase %s (%s), want rolled-back", s.Phase, s.Reason)
	}
	if d := getDeployment(t, ns, "web"); image(d) != "vibestack/app:v1" {
		t.Errorf("image %s, want vibestack/app:v1", image(d))
	}
	evs := events(t, sb.Clientset, ns, "web")
	logEvents(t, evs)
	if countReason(evs, guardcontroller.ReasonRolledBack) != 1 {
		t.Errorf("want one %s event", guardcontroller.ReasonRolledBack)
	}
	if len(journalEntries(t, ns)) != 1 {
		t.Errorf("want one incident journal mirrored in %s", ns)
	}
	if strings.Contains(strings.ToLower(ctl.output()), "forbidden") {
		t.Errorf("the controller hit a forbidden request with the shipped RBAC")
	}

	// Nothing more.
	tests := []struct {
		name string
		ra   authzv1.ResourceAttributes
		want bool
	}{
		{"patch deployments", authzv1.ResourceAttributes{Namespace: ns, Verb: "patch", Group: "apps", Resource: "deployments"}, true},
		{"watch pods in every namespace", authzv1.ResourceAttributes{Verb: "watch", Resource: "pods"}, true},
		{"create events", authzv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "events"}, true},
		{"patch configmaps (journal mirror)", authzv1.ResourceAttributes{Namespace: ns, Verb: "patch", Resource: "configmaps"}, true},
		{"update its own lease", authzv1.ResourceAttributes{Namespace: "rollback-system", Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: guardcontroller.LeaseName}, true},
		{"delete deployments", authzv1.ResourceAttributes{Namespace: ns, Verb: "delete", Group: "apps", Resource: "deployments"}, false},
		{"update deployments (only patch)", authzv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "apps", Resource: "deployments"}, false},
		{"scale deployments", authzv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "apps", Resource: "deployments", Subresource: "scale"}, false},
		{"create deployments", authzv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "apps", Resource: "deployments"}, false},
		{"get secrets", authzv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets"}, false},
		{"list secrets", authzv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{"delete pods (a stuck StatefulSet's; the pods policy narrows it)", authzv1.ResourceAttributes{Namespace: ns, Verb: "delete", Resource: "pods"}, true},
		{"read pod logs (the evidence)", authzv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "pods", Subresource: "log"}, true},
		{"exec into pods", authzv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "pods", Subresource: "exec"}, false},
		{"delete configmaps", authzv1.ResourceAttributes{Namespace: ns, Verb: "delete", Resource: "configmaps"}, false},
		{"list configmaps", authzv1.ResourceAttributes{Namespace: ns, Verb: "list", Resource: "configmaps"}, false},
		// The workload locks: Leases in every namespace by RBAC, and only
		// rollback-* ones by the admission policy (real requests below).
		{"create leases in an app namespace", authzv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{"update leases in an app namespace", authzv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "rollback-deployment-web"}, true},
		{"list leases", authzv1.ResourceAttributes{Namespace: ns, Verb: "list", Group: "coordination.k8s.io", Resource: "leases"}, false},
		{"escalate with a clusterrolebinding", authzv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
		{"patch services", authzv1.ResourceAttributes{Namespace: ns, Verb: "patch", Resource: "services"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := review(t, sa, tt.ra); got != tt.want {
				t.Errorf("%s: allowed=%t, want %t", tt.name, got, tt.want)
			}
		})
	}
	// Real requests, not only reviews.
	if _, err := sa.CoreV1().Secrets(ns).List(ctx(t), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list secrets as the controller: %v, want Forbidden", err)
	} else {
		t.Logf("list secrets as the controller: %v", err)
	}
	if err := sa.AppsV1().Deployments(ns).Delete(ctx(t), "web", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("delete deployment as the controller: %v, want Forbidden", err)
	} else {
		t.Logf("delete deployment as the controller: %v", err)
	}
	getDeployment(t, ns, "web") // still there

	// The admission policies (deploy/base/admission-policy.yaml) refuse what
	// RBAC alone would allow the ServiceAccount; the undo above went through.
	refused := []struct {
		name  string
		patch func() error
	}{
		{"change serviceAccountName", func() error {
			_, err := sa.AppsV1().Deployments(ns).Patch(ctx(t), "web", types.MergePatchType, []byte(`{"spec":{"template":{"spec":{"serviceAccountName":"default"}}}}`), metav1.PatchOptions{})
			return err
		}},
		{"add a container", func() error {
			_, err := sa.AppsV1().Deployments(ns).Patch(ctx(t), "web", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"miner","image":"evil/miner:1"}}]`), metav1.PatchOptions{})
			return err
		}},
		{"mount a hostPath", func() error {
			_, err := sa.AppsV1().Deployments(ns).Patch(ctx(t), "web", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/template/spec/volumes","value":[{"name":"root","hostPath":{"path":"/"}}]}]`), metav1.PatchOptions{})
			return err
		}},
		{"scale a Deployment by patch", func() error {
			_, err := sa.AppsV1().Deployments(ns).Patch(ctx(t), "web", types.MergePatchType, []byte(`{"spec":{"replicas":9}}`), metav1.PatchOptions{})
			return err
		}},
		{"patch a Deployment that is not guarded", func() error {
			_, err := sa.AppsV1().Deployments(ns).Patch(ctx(t), "bad", types.MergePatchType, []byte(`{"metadata":{"annotations":{"rollback.vibestack.dev/guard":"disabled"}}}`), metav1.PatchOptions{})
			if err == nil {
				_, err = sa.AppsV1().Deployments(ns).Patch(ctx(t), "bad", types.MergePatchType, []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"evil/x:1"}]}}}}`), metav1.PatchOptions{})
			}
			return err
		}},
		{"create a ConfigMap in kube-system", func() error {
			_, err := sa.CoreV1().ConfigMaps("kube-system").Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "rollback-inc-x",
				Labels: map[string]string{"app.kubernetes.io/managed-by": "rollback"}}}, metav1.CreateOptions{})
			return err
		}},
		{"patch a ConfigMap in kube-system", func() error {
			// One that would pass every other rule: named and labelled like a mirror.
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "rollback-inc-" + strings.ToLower(t.Name()[:8]), Namespace: "kube-system",
				Labels: map[string]string{"app.kubernetes.io/managed-by": "rollback"}}}
			if _, err := sb.Clientset.CoreV1().ConfigMaps("kube-system").Create(ctx(t), cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
			_, err := sa.CoreV1().ConfigMaps("kube-system").Patch(ctx(t), cm.Name, types.MergePatchType, []byte(`{"data":{"x":"y"}}`), metav1.PatchOptions{})
			return err
		}},
		{"write a ConfigMap that is not a journal mirror", func() error {
			_, err := sa.CoreV1().ConfigMaps(ns).Patch(ctx(t), "web-guard", types.MergePatchType, []byte(`{"data":{"bake":"0s"}}`), metav1.PatchOptions{})
			return err
		}},
		{"relabel a ReplicaSet", func() error {
			rss, err := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil || len(rss.Items) == 0 {
				t.Fatalf("replicasets: %v", err)
			}
			_, err = sa.AppsV1().ReplicaSets(ns).Patch(ctx(t), rss.Items[0].Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"other"}}}`), metav1.PatchOptions{})
			return err
		}},
	}
	for _, tt := range refused {
		err := tt.patch()
		if err == nil || !(apierrors.IsInvalid(err) || apierrors.IsForbidden(err)) {
			t.Errorf("%s as the controller: %v, want refused by the admission policy", tt.name, err)
			continue
		}
		t.Logf("%s as the controller: %v", tt.name, err)
	}
	if d := getDeployment(t, ns, "web"); d.Spec.Template.Spec.ServiceAccountName != "" || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("the refused patches changed the Deployment: %+v", d.Spec.Template.Spec)
	}

	// Leases: the controller writes only rollback's own (the admission
	// policy), wherever RBAC lets it write Leases.
	other := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses-leader-election"}}
	if _, err := sb.Clientset.CoordinationV1().Leases(ns).Create(ctx(t), other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := sa.CoordinationV1().Leases(ns).Get(ctx(t), other.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get a lease as the controller: %v", err)
	}
	holder := "guard-sa"
	got.Spec.HolderIdentity = &holder
	if _, err := sa.CoordinationV1().Leases(ns).Update(ctx(t), got, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Errorf("update another component's lease as the controller: %v, want refused", err)
	} else {
		t.Logf("update another component's lease as the controller: %v", err)
	}
	if _, err := sa.CoordinationV1().Leases(ns).Create(ctx(t), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "not-rollbacks"}}, metav1.CreateOptions{}); !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Errorf("create a lease not named rollback-* as the controller: %v, want refused", err)
	}
	if _, err := sa.CoordinationV1().Leases(ns).Create(ctx(t), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "rollback-deployment-other"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("create a workload lock lease as the controller: %v", err)
	}
}
