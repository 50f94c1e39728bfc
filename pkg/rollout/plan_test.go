package rollout

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/podrefs"
)

func TestPlanUndoRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(d *appsv1.Deployment)
		force   bool
		refused string
		warning string
		skip    bool
	}{
		{name: "paused", mutate: func(d *appsv1.Deployment) { d.Spec.Paused = true }, refused: "rollback app resume web"},
		{name: "argo cd label", mutate: func(d *appsv1.Deployment) { d.Labels = map[string]string{"argocd.argoproj.io/instance": "shop"} }, refused: "argocd app set shop --sync-policy none"},
		{name: "argo cd instance + annotation", mutate: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"app.kubernetes.io/instance": "shop"}
			d.Annotations["argocd.argoproj.io/tracking-id"] = "shop:apps/Deployment:shop/web"
		}, refused: "Argo CD"},
		{name: "instance label alone is not argo", mutate: func(d *appsv1.Deployment) { d.Labels = map[string]string{"app.kubernetes.io/instance": "shop"} }},
		{name: "flux kustomization", mutate: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
		}, refused: "flux suspend kustomization apps -n flux-system"},
		{name: "flux helm", mutate: func(d *appsv1.Deployment) { d.Labels = map[string]string{"helm.toolkit.fluxcd.io/name": "web"} }, refused: "flux suspend helmrelease web"},
		{name: "gitops with force warns", mutate: func(d *appsv1.Deployment) { d.Labels = map[string]string{"helm.toolkit.fluxcd.io/name": "web"} }, force: true, warning: "forced past Flux HelmRelease web"},
		{name: "flux opt-out", mutate: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps"}
			d.Annotations["kustomize.toolkit.fluxcd.io/reconcile"] = "disabled"
		}, warning: "opts out"},
		{name: "operator", mutate: func(d *appsv1.Deployment) {
			d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "WebApp", Name: "shop", Controller: ptr(true)}}
		}, refused: "kubectl edit webapp.example.com shop -n shop"},
		{name: "helm release", mutate: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "web"}
			d.Annotations["meta.helm.sh/release-name"] = "web"
			d.Annotations["meta.helm.sh/release-namespace"] = "shop"
		}, refused: "rollback helm undo web -n shop"},
		{name: "helm release forced", mutate: func(d *appsv1.Deployment) {
			d.Annotations["meta.helm.sh/release-name"] = "web"
		}, force: true, warning: "helm history of web still says"},
		{name: "last-applied warns", mutate: func(d *appsv1.Deployment) { d.Annotations[corev1.LastAppliedConfigAnnotation] = "{}" }, warning: "kubectl apply"},
		{name: "already at target", mutate: func(d *appsv1.Deployment) { d.Spec.Template = template("app:v2") }, skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment("app:crash")
			tt.mutate(d)
			rss := []appsv1.ReplicaSet{replicaSet(d, 1, "app:v1", ""), replicaSet(d, 2, "app:v2", "good"), replicaSet(d, 3, "app:crash", "")}
			p, err := planDeployment(d, rss, PlanOptions{Force: tt.force})
			if tt.refused != "" {
				if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want refusal containing %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Skip != tt.skip {
				t.Errorf("skip = %t, want %t", p.Skip, tt.skip)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(p.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q lack %q", p.Warnings, tt.warning)
			}
			if p.To.Number != 2 {
				t.Errorf("target %d, want 2", p.To.Number)
			}
		})
	}
}

func TestUndoPatchLikeKubectl(t *testing.T) {
	d := deployment("app:crash")
	d.Annotations[corev1.LastAppliedConfigAnnotation] = "{}"
	d.Annotations["team"] = "shop"
	rss := []appsv1.ReplicaSet{replicaSet(d, 2, "app:v2", "good"), replicaSet(d, 3, "app:crash", "")}
	p, err := planDeployment(d, rss, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, ann := p.undoTemplate()
	if _, ok := tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		t.Error("pod-template-hash must be removed from the template")
	}
	if ann[corev1.LastAppliedConfigAnnotation] != "{}" || ann["deployment.kubernetes.io/revision"] != "3" {
		t.Errorf("skip-listed annotations must be kept from the deployment: %v", ann)
	}
	if ann[changeCauseAnnotation] != "deploy app:v2" {
		t.Errorf("change-cause must come from the replicaset: %v", ann)
	}
	if _, ok := ann["team"]; ok {
		t.Errorf("other deployment annotations are replaced by the replicaset's, as kubectl does: %v", ann)
	}
	if _, ok := ann[AnnotationKnownGoodAt]; ok {
		t.Errorf("rollback's stamps must not be copied to the deployment: %v", ann)
	}
	patch, err := undoPatch(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(patch, []byte(`{"op":"test","path":"/metadata/generation","value":4}`)) || !bytes.Contains(patch, []byte(`{"op":"test","path":"/metadata/annotations"`)) {
		t.Errorf("patch lacks the generation and annotations preconditions: %s", patch)
	}
}

func TestDescribeChange(t *testing.T) {
	a := deployment("app:crash")
	b := deployment("app:v9")
	b.Spec.Replicas = ptr(int32(4))
	b.ResourceVersion = "101"
	got := strings.Join(describeChange(object{d: a}, object{d: b}), "\n")
	for _, want := range []string{"replicas: 3 -> 4", "container app image: app:crash -> app:v9"} {
		if !strings.Contains(got, want) {
			t.Errorf("describeChange = %q, want %q", got, want)
		}
	}
	if got := describeChange(object{d: a}, object{d: a}); len(got) != 1 || !strings.Contains(got[0], "metadata or status only") {
		t.Errorf("describeChange(same) = %q", got)
	}
}

// TestPlanUndoRefusesTargetThatCannotStart: the target's pod template
// needs a Secret key and a PVC that do not exist; a snapshot holds the key.
func TestPlanUndoRefusesTargetThatCannotStart(t *testing.T) {
	d := deployment("app:crash")
	rss := []appsv1.ReplicaSet{replicaSet(d, 2, "app:v2", "good"), replicaSet(d, 3, "app:crash", "")}
	spec := &rss[0].Spec.Template.Spec
	spec.Containers[0].Env = []corev1.EnvVar{{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "API_KEY"}}}}
	spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	cs := fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"}, Data: map[string][]byte{"OTHER": []byte("x")}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "shop"}})
	c := NewClients(cs, "shop")
	_, err := planDeployment(d, rss, PlanOptions{Start: c.startChecker("shop", fakeSnapshots{})})
	if outcome.KindOf(err) != outcome.Refused {
		t.Fatalf("err = %v, want a refusal", err)
	}
	for _, want := range []string{"revision 2 of deployment web cannot start", "persistentvolumeclaim data (used by volume data)",
		"secret api key API_KEY (used by container app env API_KEY); snapshot api.snap-1 (taken 2026-11-26T01:00:00Z) holds it: `rollback config undo web -n shop --config secret/api --to api.snap-1`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q\nlacks %q", err, want)
		}
	}
}

type fakeSnapshots struct{}

func (fakeSnapshots) FindSnapshot(_ context.Context, _ string, _ podrefs.Kind, name, _ string) (string, time.Time, bool, error) {
	return name + ".snap-1", time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), true, nil
}
