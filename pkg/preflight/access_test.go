package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeAuthz returns a fake clientset whose identity is user and whose
// SelfSubjectAccessReviews allow everything but the verb/resource pairs
// denied ("patch deployments"); broken makes every review fail.
func fakeAuthz(user string, broken bool, denied ...string) *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: user}}}, nil
	})
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		ra := r.Spec.ResourceAttributes
		if broken {
			return true, nil, errors.New("connection refused")
		}
		key := ra.Verb + " " + ra.Resource
		out := r.DeepCopy()
		out.Status.Allowed = true
		for _, d := range denied {
			if d == key {
				out.Status.Allowed = false
			}
		}
		return true, out, nil
	})
	return cs
}

func TestCheckAccess(t *testing.T) {
	tests := []struct {
		name    string
		secrets bool
		broken  bool
		denied  []string
		want    map[string]Status
		detail  map[string]string
	}{
		{name: "everything allowed", want: map[string]Status{
			"deployments.apps": OK, "replicasets.apps": OK, "pods": OK, "events": OK, "configmaps": OK, "leases.coordination.k8s.io": OK}},
		{name: "secrets only when the runbook has secrets", secrets: true, want: map[string]Status{"secrets": OK}},
		{name: "viewer may not patch", denied: []string{"patch deployments", "update deployments", "delete leases"},
			want: map[string]Status{"deployments.apps": Fail, "pods": OK, "leases.coordination.k8s.io": Fail},
			detail: map[string]string{
				"deployments.apps":           "user sandbox-viewer may not patch, update deployments.apps in namespace shop",
				"leases.coordination.k8s.io": "user sandbox-viewer may not delete leases.coordination.k8s.io in namespace shop",
			}},
		{name: "unanswered is unknown", broken: true, want: map[string]Status{"deployments.apps": Unknown, "events": Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fakeAuthz("sandbox-viewer", tt.broken, tt.denied...)
			checks := CheckAccess(context.Background(), cs, "prod", "shop", Needs(tt.secrets))
			got := map[string]Check{}
			for _, c := range checks {
				if c.Group != GroupAccess || c.Cluster != "prod" {
					t.Errorf("check %+v: wrong group or cluster", c)
				}
				got[c.Name] = c
			}
			if _, ok := got["secrets"]; ok != tt.secrets {
				t.Errorf("secrets checked = %t, want %t", ok, tt.secrets)
			}
			for name, st := range tt.want {
				if got[name].Status != st {
					t.Errorf("%s: status %q, want %q (%s)", name, got[name].Status, st, got[name].Detail)
				}
				if got[name].Status.Problem() && got[name].Fix == "" {
					t.Errorf("%s: a problem without a fix", name)
				}
			}
			for name, d := range tt.detail {
				if !strings.Contains(got[name].Detail, d) {
					t.Errorf("%s: detail %q does not contain %q", name, got[name].Detail, d)
				}
			}
		})
	}
}

func TestAccessFixNamesVerbsAndUser(t *testing.T) {
	cs := fakeAuthz("sandbox-viewer", false, "patch deployments")
	for _, c := range CheckAccess(context.Background(), cs, "prod", "shop", Needs(false)) {
		if c.Name == "deployments.apps" {
			want := "--verb=patch --resource=deployments.apps -n shop"
			if !strings.Contains(c.Fix, want) || !strings.Contains(c.Fix, "--user=sandbox-viewer") {
				t.Errorf("fix %q lacks %q or the user", c.Fix, want)
			}
		}
	}
}
