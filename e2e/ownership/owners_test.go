//go:build e2e

package ownership_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/vibestack/rollback/internal/exitcode"
)

// TestOwners: every Argo CD tracking method (with the Application, CRD
// installed here, read for its sync policy), every Flux marker and the
// opt-out, an operator's custom resource and a Helm release.
func TestOwners(t *testing.T) {
	dyn, err := dynamic.NewForConfig(sb.Config)
	if err != nil {
		t.Fatal(err)
	}
	installCRD(t, dyn, appGVR, "Application")
	installCRD(t, dyn, webGVR, "WebApp")
	if _, err := sb.Clientset.CoreV1().Namespaces().Get(ctx(t), "argocd", metav1.GetOptions{}); err != nil {
		if _, err := sb.Clientset.CoreV1().Namespaces().Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	app := func(name string, syncPolicy map[string]any) {
		obj := map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": map[string]any{"name": name}, "spec": map[string]any{}}
		if syncPolicy != nil {
			obj["spec"] = map[string]any{"syncPolicy": syncPolicy}
		}
		dyn.Resource(appGVR).Namespace("argocd").Delete(ctx(t), name, metav1.DeleteOptions{})
		createObject(t, dyn, appGVR, "argocd", obj)
	}
	app("selfheal", map[string]any{"automated": map[string]any{"selfHeal": true}})
	app("auto", map[string]any{"automated": map[string]any{}})
	app("manual", nil)
	app("disabled", map[string]any{"automated": map[string]any{"enabled": false}})

	tests := []struct {
		name   string
		mutate func(t *testing.T, ns string, d *appsv1.Deployment)
		force  bool
		code   int
		want   string
	}{
		{name: "argo annotation, self-heal", mutate: func(_ *testing.T, ns string, d *appsv1.Deployment) {
			d.Annotations["argocd.argoproj.io/tracking-id"] = "selfheal:apps/Deployment:" + ns + "/web"
		}, code: exitcode.Refused, want: "automated sync with self-heal is on"},
		{name: "argo annotation+label, automated", mutate: func(_ *testing.T, ns string, d *appsv1.Deployment) {
			d.Labels["app.kubernetes.io/instance"] = "auto"
			d.Annotations["argocd.argoproj.io/tracking-id"] = "auto:apps/Deployment:" + ns + "/web"
		}, code: exitcode.Refused, want: "argocd app set auto --sync-policy none"},
		{name: "argo label tracking, confirmed by the Application", mutate: func(_ *testing.T, _ string, d *appsv1.Deployment) {
			d.Labels["app.kubernetes.io/instance"] = "auto"
		}, code: exitcode.Refused, want: `kubectl patch application auto -n argocd --type merge -p '{"spec":{"syncPolicy":{"automated":null}}}'`},
		{name: "instance label with no Application is no owner", mutate: func(_ *testing.T, _ string, d *appsv1.Deployment) {
			d.Labels["app.kubernetes.io/instance"] = "not-an-app"
		}, code: 0, want: "no operator, Argo CD, Flux or Helm owner"},
		{name: "argo manual sync goes ahead with a note", mutate: func(_ *testing.T, ns string, d *appsv1.Deployment) {
			d.Annotations["argocd.argoproj.io/tracking-id"] = "manual:apps/Deployment:" + ns + "/web"
		}, code: 0, want: "automated sync is off"},
		{name: "argo 3 automated.enabled false", mutate: func(_ *testing.T, ns string, d *appsv1.Deployment) {
			d.Annotations["argocd.argoproj.io/tracking-id"] = "disabled:apps/Deployment:" + ns + "/web"
		}, code: 0, want: "automated sync is off"},
		{name: "argo custom label forced", mutate: func(_ *testing.T, _ string, d *appsv1.Deployment) {
			d.Labels["argocd.argoproj.io/instance"] = "selfheal"
		}, force: true, code: 0, want: "forced past Argo CD Application selfheal"},
		{name: "flux kustomization", mutate: func(_ *testing.T, _ string, d *appsv1.Deployment) {
			d.Labels["kustomize.toolkit.fluxcd.io/name"], d.Labels["kustomize.toolkit.fluxcd.io/namespace"] = "apps", "flux-system"
		}, code: exitcode.Refused, want: "flux suspend kustomization apps -n flux-system"},
		{name: "flux opt-out", mutate: func(_ *testing.T, _ string, d *appsv1.Deployment) {
			d.Labels["kustomize.toolkit.fluxcd.io/name"] = "apps"
			d.Annotations["kustomize.toolkit.fluxcd.io/reconcile"] = "disabled"
		}, code: 0, want: "opts out with kustomize.toolkit.fluxcd.io/reconcile: disabled"},
		{name: "flux helmrelease", mutate: func(_ *testing.T, _ string, d *appsv1.Deployment) {
			d.Labels["helm.toolkit.fluxcd.io/name"], d.Labels["helm.toolkit.fluxcd.io/namespace"] = "web", "flux-system"
		}, code: exitcode.Refused, want: "flux suspend helmrelease web -n flux-system"},
		{name: "helm release", mutate: func(_ *testing.T, ns string, d *appsv1.Deployment) {
			d.Labels["app.kubernetes.io/managed-by"] = "Helm"
			d.Annotations["meta.helm.sh/release-name"], d.Annotations["meta.helm.sh/release-namespace"] = "web", ns
		}, code: exitcode.Refused, want: "roll it back through its release with `rollback helm undo web -n"},
		{name: "helm release forced", mutate: func(_ *testing.T, ns string, d *appsv1.Deployment) {
			d.Annotations["meta.helm.sh/release-name"] = "web"
		}, force: true, code: 0, want: "helm history of web still says its last revision is deployed"},
		{name: "operator", mutate: func(t *testing.T, ns string, d *appsv1.Deployment) {
			cr := createObject(t, dyn, webGVR, ns, map[string]any{"apiVersion": "example.com/v1", "kind": "WebApp", "metadata": map[string]any{"name": "shop"}})
			yes := true
			d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "WebApp", Name: "shop", UID: cr.GetUID(), Controller: &yes}}
		}, code: exitcode.Refused, want: "kubectl edit webapp.example.com shop -n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := sb.Namespace(t)
			twoRevisions(t, ns, func(d *appsv1.Deployment) { tt.mutate(t, ns, d) }, nil, nil)
			before := generation(t, ns)
			args := []string{"app", "undo", "web", "-n", ns, "--yes", "--settle", "0s"}
			if tt.force {
				args = append(args, "--force")
			}
			code, out, errOut := run(t, args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q", code, tt.code, tt.want)
			}
			if tt.code == exitcode.Refused && generation(t, ns) != before {
				t.Errorf("a refusal changed the deployment")
			}
			// The same verdict in the JSON of a dry run.
			_, out, _ = run(t, "app", "undo", "web", "-n", ns, "--dry-run", "--force", "-o", "json")
			if !strings.Contains(out, `"ownership"`) {
				t.Errorf("dry-run json lacks the ownership verdict: %s", out)
			}
		})
	}
}
