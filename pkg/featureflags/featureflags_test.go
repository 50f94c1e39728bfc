package featureflags

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func flagsCM(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "flags", Namespace: "shop"}, Data: data}
}

func TestDisableEnable(t *testing.T) {
	tests := []struct {
		name    string
		data    map[string]string
		do      func(context.Context, Provider, string) (Change, error)
		flag    string
		want    Change
		wantErr string
		after   string
	}{
		{"disable on", map[string]string{"new-checkout": "true"}, Disable, "new-checkout", Change{"new-checkout", "true", "false", false}, "", "false"},
		{"disable off is skipped", map[string]string{"new-checkout": "FALSE"}, Disable, "new-checkout", Change{"new-checkout", "FALSE", "FALSE", true}, "", "FALSE"},
		{"enable off", map[string]string{"new-checkout": "false"}, Enable, "new-checkout", Change{"new-checkout", "false", "true", false}, "", "true"},
		{"unknown flag", map[string]string{"a": "true", "b": "1"}, Disable, "c", Change{}, `feature flag "c" in configmap shop/flags: not found (known flags: a, b)`, ""},
		{"bad name", nil, Disable, "new checkout", Change{}, `invalid feature flag name "new checkout"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(flagsCM(tt.data))
			p := &ConfigMap{ConfigMaps: cs.CoreV1().ConfigMaps("shop"), Name: "flags", Namespace: "shop"}
			got, err := tt.do(context.Background(), p, tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			if v, _ := p.Get(context.Background(), tt.flag); v != tt.after {
				t.Errorf("value after = %q, want %q", v, tt.after)
			}
		})
	}
}

func TestMissingConfigMap(t *testing.T) {
	p := &ConfigMap{ConfigMaps: fake.NewClientset().CoreV1().ConfigMaps("shop"), Name: "flags"}
	if _, err := Disable(context.Background(), p, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestSetConcurrentWriter(t *testing.T) {
	cs := fake.NewClientset(flagsCM(map[string]string{"f": "true", "g": "x"}))
	raced := false
	cs.PrependReactor("patch", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		if !raced { // another engineer writes "maybe" between our read and our patch
			raced = true
			cm, _ := cs.Tracker().Get(corev1.SchemeGroupVersion.WithResource("configmaps"), "shop", "flags")
			cm.(*corev1.ConfigMap).Data["f"] = "maybe"
			cs.Tracker().Update(corev1.SchemeGroupVersion.WithResource("configmaps"), cm, "shop")
		}
		return false, nil, nil
	})
	p := &ConfigMap{ConfigMaps: cs.CoreV1().ConfigMaps("shop"), Name: "flags"}
	before, err := p.Set(context.Background(), "f", "false")
	if err != nil || before != "maybe" {
		t.Fatalf("Set = %q, %v; want the concurrent value as before", before, err)
	}
	flags, err := List(context.Background(), p)
	if err != nil || len(flags) != 2 || flags[0] != (Flag{"f", "false"}) {
		t.Errorf("List = %+v, %v", flags, err)
	}
}
