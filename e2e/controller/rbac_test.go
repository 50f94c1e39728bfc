//go:build e2e

package controller_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

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

// serviceAccountKubeconfig writes a kubeconfig (context "sandbox") that
// authenticates as ServiceAccount ns/name with a token from the
// TokenRequest API, and returns its path and a clientset for it.
func serviceAccountKubeconfig(t *testing.T, ns, name string) (string, kubernetes.Interface) {
	t.Helper()
	exp := int64(3600)
	tr, err := sb.Clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx(t), name, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &exp},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for serviceaccount %s/%s: %v", ns, name, err)
	}
	ca := sb.Config.TLSClientConfig.CAData
	if len(ca) == 0 && sb.Config.TLSClientConfig.CAFile != "" {
		if ca, err = os.ReadFile(sb.Config.TLSClientConfig.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sandbox"] = &clientcmdapi.Cluster{Server: sb.Config.Host, CertificateAuthorityData: ca}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["sandbox"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: name}
	cfg.CurrentContext = "sandbox"
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return path, cs
}

// The shipped RBAC (deploy/rbac.yaml, applied for real) is enough: the
// controller, running as ServiceAccount rollback-system/rollback-guard with
// a TokenRequest token and nothing else, guards a crash-looping release and
// rolls it back (settings from a ConfigMap; a Deployment with a bad setting
// gets a Warning Event). And it is nothing more: SelfSubjectAccessReviews and real
// requests show what it must not do is forbidden. The whole kustomization
// (Deployment, PodDisruptionBudget) passes a server-side dry run.
func TestShippedRBACIsEnoughAndNothingMore(t *testing.T) {
	kubectl(t, "apply", "-f", "deploy/namespace.yaml", "-f", "deploy/rbac.yaml", "-f", "deploy/lease-policy.yaml")
	kubectl(t, "apply", "--dry-run=server", "-k", "deploy/")

	kc, sa := serviceAccountKubeconfig(t, "rollback-system", "rollback-guard")
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
	eventually(t, 30*time.Second, "the controller synced", func() bool { return ctl.has("guarding deployments annotated") })

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
	review := func(ra authzv1.ResourceAttributes) bool {
		r, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx(t), &authzv1.SelfSubjectAccessReview{
			Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SelfSubjectAccessReview: %v", err)
		}
		return r.Status.Allowed
	}
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
		{"delete pods", authzv1.ResourceAttributes{Namespace: ns, Verb: "delete", Resource: "pods"}, false},
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
			if got := review(tt.ra); got != tt.want {
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
