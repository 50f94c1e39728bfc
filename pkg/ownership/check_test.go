package ownership

import (
	"context"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vibestack/rollback/pkg/outcome"
)

// apps is an ApplicationReader over a map "ns/name" -> Application.
type apps map[string]*Application

func (a apps) Application(_ context.Context, ns, name string) (*Application, error) {
	if app, ok := a[ns+"/"+name]; ok {
		return app, nil
	}
	if ns+"/"+name == "argocd/forbidden" {
		return nil, apierrors.NewForbidden(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, name, errors.New("no"))
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, name)
}

func TestCheck(t *testing.T) {
	reader := apps{
		"argocd/shop":     {Automated: true, SelfHeal: true},
		"argocd/manual":   {},
		"team-a/web":      {Automated: true},
		"argocd/instance": {Automated: true},
	}
	tests := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		owners      []metav1.OwnerReference
		reader      ApplicationReader
		// want: the kind of the blocking owner ("" when nothing blocks),
		// and text its refusal or the verdict's notes must contain.
		blocks Kind
		text   string
	}{
		{name: "nothing", text: "no operator, Argo CD, Flux or Helm owner"},
		{name: "argo tracking-id annotation, self-heal", annotations: map[string]string{AnnotationArgoTrackingID: "shop:apps/Deployment:shop/web"}, reader: reader,
			blocks: KindArgoCD, text: "self-heal is on"},
		{name: "argo annotation+label", labels: map[string]string{LabelInstance: "shop"}, annotations: map[string]string{AnnotationArgoTrackingID: "shop:apps/Deployment:shop/web"}, reader: reader,
			blocks: KindArgoCD, text: "argocd app set shop --sync-policy none"},
		{name: "argo custom label", labels: map[string]string{LabelArgoInstance: "shop"},
			blocks: KindArgoCD, text: "sync policy is unknown"},
		{name: "argo label tracking confirmed by the Application", labels: map[string]string{LabelInstance: "instance"}, reader: reader,
			blocks: KindArgoCD, text: "automated sync is on"},
		{name: "instance label without Application is not argo", labels: map[string]string{LabelInstance: "nothing"}, reader: reader,
			text: "no operator, Argo CD, Flux or Helm owner"},
		{name: "instance label without reader is a doubt", labels: map[string]string{LabelInstance: "nothing"},
			text: "may be Argo CD's label tracking"},
		{name: "argo manual sync does not block", annotations: map[string]string{AnnotationArgoTrackingID: "manual:apps/Deployment:shop/web"}, reader: reader,
			text: "automated sync is off"},
		{name: "argo app in any namespace", annotations: map[string]string{AnnotationArgoTrackingID: "team-a_web:apps/Deployment:shop/web"}, reader: reader,
			blocks: KindArgoCD, text: "argocd app set team-a/web --sync-policy none"},
		{name: "argo application forbidden", annotations: map[string]string{AnnotationArgoTrackingID: "forbidden:apps/Deployment:shop/web"}, reader: reader,
			blocks: KindArgoCD, text: "could not be read"},
		{name: "flux kustomization", labels: map[string]string{LabelFluxKustomizationName: "apps", LabelFluxKustomizationNamespace: "flux-system"},
			blocks: KindFluxKustomization, text: "flux suspend kustomization apps -n flux-system"},
		{name: "flux opt-out", labels: map[string]string{LabelFluxKustomizationName: "apps"}, annotations: map[string]string{AnnotationFluxReconcile: "disabled"},
			text: "opts out"},
		{name: "flux helmrelease before helm", labels: map[string]string{LabelFluxHelmReleaseName: "web", LabelFluxHelmReleaseNamespace: "flux-system", LabelManagedBy: "Helm", LabelInstance: "web"},
			annotations: map[string]string{AnnotationHelmReleaseName: "web", AnnotationHelmReleaseNamespace: "shop"},
			blocks:      KindFluxHelmRelease, text: "flux suspend helmrelease web -n flux-system"},
		{name: "helm", labels: map[string]string{LabelManagedBy: "Helm", LabelInstance: "web"},
			annotations: map[string]string{AnnotationHelmReleaseName: "web", AnnotationHelmReleaseNamespace: "shop"},
			blocks:      KindHelm, text: "rollback helm undo web -n shop"},
		{name: "operator", owners: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "WebApp", Name: "web", Controller: ptr(true)}},
			blocks: KindOperator, text: "kubectl edit webapp.example.com web -n shop"},
		{name: "non-controller owner reference", owners: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "WebApp", Name: "web"}},
			text: "no operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: tt.labels, Annotations: tt.annotations, OwnerReferences: tt.owners}
			v := Checker{Applications: tt.reader}.Check(context.Background(), "Deployment", obj)
			err := v.Refusal()
			var got Kind
			if b := v.Blocking(); b != nil {
				got = b.Kind
			}
			if got != tt.blocks {
				t.Fatalf("blocking owner %q, want %q (verdict %+v)", got, tt.blocks, v)
			}
			text := v.Summary() + "\n" + strings.Join(v.Notes(), "\n")
			if err != nil {
				if outcome.KindOf(err) != outcome.Refused {
					t.Errorf("refusal kind %v", outcome.KindOf(err))
				}
				text = err.Error()
			}
			if !strings.Contains(text, tt.text) {
				t.Errorf("got %q, want it to contain %q", text, tt.text)
			}
		})
	}
}

func TestDecodeApplication(t *testing.T) {
	tests := []struct {
		json                string
		automated, selfHeal bool
	}{
		{`{"spec":{}}`, false, false},
		{`{"spec":{"syncPolicy":{"automated":{}}}}`, true, false},
		{`{"spec":{"syncPolicy":{"automated":{"selfHeal":true}}}}`, true, true},
		{`{"spec":{"syncPolicy":{"automated":{"enabled":false,"selfHeal":true}}}}`, false, false},
	}
	for _, tt := range tests {
		a, err := decodeApplication("argocd", "shop", []byte(tt.json))
		if err != nil {
			t.Fatal(err)
		}
		if a.Automated != tt.automated || a.SelfHeal != tt.selfHeal {
			t.Errorf("%s: automated %t selfHeal %t", tt.json, a.Automated, a.SelfHeal)
		}
	}
}

func ptr[T any](v T) *T { return &v }
