package configs

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

const testNS = "shop"

var testNow = time.Date(2026, 11, 26, 1, 30, 0, 0, time.UTC)

func testDeployment(spec *corev1.PodSpec) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNS, ResourceVersion: "7"}}
	d.Spec.Template.Spec = *spec
	return d
}

func cm(name string, data map[string]string, immutable bool) *corev1.ConfigMap {
	c := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, ResourceVersion: "1"}, Data: data}
	if immutable {
		c.Immutable = &immutable
	}
	return c
}

func testUndo(objs ...runtime.Object) (*Undo, *fake.Clientset) {
	cs := fake.NewClientset(objs...)
	return &Undo{
		Deployments: cs.AppsV1().Deployments(testNS),
		Store:       NewStore(cs, testNS),
		Clock:       clocktesting.NewFakeClock(testNow),
	}, cs
}

func TestPlanVersioned(t *testing.T) {
	spec := testPodSpec()
	objs := []runtime.Object{
		testDeployment(spec),
		cm("app-config-v1", map[string]string{"SANDBOX_MODE": "ok"}, true),
		cm("app-config-v2", map[string]string{"SANDBOX_MODE": "crash"}, true),
		cm("app-config-v3", map[string]string{"SANDBOX_MODE": "ok3"}, true),
		cm("other-v1", map[string]string{"x": "y"}, false),
	}
	tests := []struct {
		config, to     string
		wantTo         string
		wantSkipped    bool
		wantRefusedMsg string
	}{
		{config: "app-config", wantTo: "app-config-v1"},
		{config: "app-config-v2", to: "v1", wantTo: "app-config-v1"},
		{config: "configmap/app-config", to: "3", wantTo: "app-config-v3"},
		{config: "app-config", to: "app-config-v3", wantTo: "app-config-v3"},
		{config: "app-config", to: "v2", wantTo: "app-config-v2", wantSkipped: true},
		{config: "app-config", to: "v9", wantRefusedMsg: "Versions that exist: v1 = app-config-v1, v2 = app-config-v2 (current), v3 = app-config-v3"},
		{config: "secret/app-config", wantRefusedMsg: "does not reference secret/app-config"},
		{config: "", wantRefusedMsg: "--config is required"},
		{config: "nope", wantRefusedMsg: "It references: configmap/app-config-v2, configmap/ca-bundle, secret/api-token"},
	}
	for _, tt := range tests {
		t.Run(tt.config+" to "+tt.to, func(t *testing.T) {
			u, _ := testUndo(objs...)
			u.Config, u.To = tt.config, tt.to
			p, err := u.plan(context.Background(), "web")
			if tt.wantRefusedMsg != "" {
				if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), tt.wantRefusedMsg) {
					t.Fatalf("err = %v (code %d), want a refusal containing %q", err, outcome.KindOf(err), tt.wantRefusedMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Strategy != StrategyVersioned || p.To != tt.wantTo || (p.Skipped != "") != tt.wantSkipped {
				t.Fatalf("plan = strategy %s to %s skipped %q; want versioned to %s skipped %v", p.Strategy, p.To, p.Skipped, tt.wantTo, tt.wantSkipped)
			}
			if !tt.wantSkipped && len(p.TemplateChanges) != 3 {
				t.Errorf("template changes = %v, want env, envFrom and volume", p.TemplateChanges)
			}
		})
	}
}

func TestPlanSnapshot(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}}}}
	good := map[string]string{"SANDBOX_MODE": "ok"}
	bad := map[string]string{"SANDBOX_MODE": "crash"}

	t.Run("restores the newest snapshot that differs", func(t *testing.T) {
		u, _ := testUndo(testDeployment(spec), cm("settings", good, false))
		ctx := context.Background()
		snap := Snapshotter{Store: u.Store, Clock: u.Clock}
		first, err := snap.Take(ctx, FromConfigMap(cm("settings", good, false)), "manual")
		if err != nil {
			t.Fatal(err)
		}
		u.Clock.(*clocktesting.FakeClock).Step(time.Minute)
		if _, err := snap.Take(ctx, FromConfigMap(cm("settings", bad, false)), "manual"); err != nil {
			t.Fatal(err)
		}
		// The object now holds the bad data, like its newest snapshot.
		if _, err := u.Store.ConfigMaps.Update(ctx, cm("settings", bad, false), metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		u.Config = "settings"
		p, err := u.plan(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if p.Strategy != StrategySnapshot || p.To != first.Snapshot || len(p.Changes) != 1 {
			t.Fatalf("plan = %s to %s with %d changes, want snapshot %s with 1 change", p.Strategy, p.To, len(p.Changes), first.Snapshot)
		}
	})
	t.Run("other deployments using the object are named", func(t *testing.T) {
		other := testDeployment(spec)
		other.Name = "worker"
		u, _ := testUndo(testDeployment(spec), other, cm("settings", bad, false))
		u.Config, u.ManifestName = "settings", "good.yaml"
		u.Manifest = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  SANDBOX_MODE: ok\n")
		p, err := u.plan(context.Background(), "web")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "also used by deployment worker") {
			t.Errorf("warnings = %q, want one naming deployment worker", p.Warnings)
		}
	})
	t.Run("no snapshot", func(t *testing.T) {
		u, _ := testUndo(testDeployment(spec), cm("settings", bad, false))
		u.Config = "settings"
		_, err := u.plan(context.Background(), "web")
		if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "no snapshot") {
			t.Fatalf("err = %v, want a refusal about missing snapshots", err)
		}
	})
	t.Run("immutable", func(t *testing.T) {
		u, _ := testUndo(testDeployment(spec), cm("settings", bad, true))
		u.Config = "settings"
		_, err := u.plan(context.Background(), "web")
		if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "immutable") {
			t.Fatalf("err = %v, want a refusal about immutability", err)
		}
	})
	t.Run("from file equal to current is skipped", func(t *testing.T) {
		u, _ := testUndo(testDeployment(spec), cm("settings", good, false))
		u.Config, u.ManifestName = "settings", "good.yaml"
		u.Manifest = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  SANDBOX_MODE: ok\n")
		p, err := u.plan(context.Background(), "web")
		if err != nil {
			t.Fatal(err)
		}
		if p.Strategy != StrategyFile || p.Skipped == "" {
			t.Fatalf("plan = %s, skipped %q; want file, skipped", p.Strategy, p.Skipped)
		}
	})
	t.Run("paused deployment", func(t *testing.T) {
		d := testDeployment(spec)
		d.Spec.Paused = true
		u, _ := testUndo(d, cm("settings", bad, false))
		u.Config, u.ManifestName = "settings", "good.yaml"
		u.Manifest = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  SANDBOX_MODE: ok\n")
		_, err := u.plan(context.Background(), "web")
		if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "paused") {
			t.Fatalf("err = %v, want a refusal about the pause", err)
		}
	})
}

func TestSnapshotterDedupesAndPrunes(t *testing.T) {
	u, cs := testUndo()
	ctx := context.Background()
	clk := u.Clock.(*clocktesting.FakeClock)
	snap := Snapshotter{Store: u.Store, Clock: clk, Keep: 3}
	obj := FromConfigMap(cm("settings", map[string]string{"k": "0"}, false))
	r, err := snap.Take(ctx, obj, "manual")
	if err != nil || !r.Created {
		t.Fatalf("first snapshot: %+v, %v", r, err)
	}
	r, err = snap.Take(ctx, obj, "manual")
	if err != nil || r.Created {
		t.Fatalf("identical contents: created a second snapshot (%+v, %v)", r, err)
	}
	for i := 1; i <= 4; i++ {
		clk.Step(time.Second)
		obj.Data = map[string]string{"k": string(rune('0' + i))}
		if r, err = snap.Take(ctx, obj, "manual"); err != nil {
			t.Fatal(err)
		}
	}
	list, err := snap.List(ctx, KindConfigMap, "settings")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != r.Snapshot || list[0].Data["k"] != "4" || list[2].Data["k"] != "2" {
		t.Fatalf("after pruning: %d snapshots, newest %s", len(list), list[0].Name)
	}
	got, _ := cs.CoreV1().ConfigMaps(testNS).Get(ctx, r.Snapshot, metav1.GetOptions{})
	if got.Immutable == nil || !*got.Immutable || got.Labels[LabelSnapshotOf] != "settings" || got.Annotations[AnnotationSourceName] != "settings" {
		t.Errorf("snapshot metadata: immutable %v labels %v annotations %v", got.Immutable, got.Labels, got.Annotations)
	}
	if want := "settings.snap-20261126-013004-"; !strings.HasPrefix(r.Snapshot, want) {
		t.Errorf("snapshot name %s, want prefix %s", r.Snapshot, want)
	}
}

func TestPlanLabelVersioned(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings-blue"}}}}}}}
	labelled := func(name, version, mode string) *corev1.ConfigMap {
		c := cm(name, map[string]string{"SANDBOX_MODE": mode}, false)
		c.Labels = map[string]string{LabelConfigName: "settings", LabelConfigVersion: version}
		return c
	}
	u, _ := testUndo(testDeployment(spec), labelled("settings-green", "v1", "ok"), labelled("settings-blue", "v2", "crash"), cm("settings-v9", nil, false))
	u.Config = "settings"
	p, err := u.plan(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy != StrategyVersioned || p.To != "settings-green" || p.FromVersion != "v2" || p.ToVersion != "v1" {
		t.Fatalf("plan = %s %s -> %s (%s -> %s), want versioned settings-blue -> settings-green", p.Strategy, p.Name, p.To, p.FromVersion, p.ToVersion)
	}
}

func TestPlanWarnings(t *testing.T) {
	spec := testPodSpec() // env SANDBOX_MODE from app-config-v2 key SANDBOX_MODE
	d := testDeployment(spec)
	d.Annotations = map[string]string{lastApplied: "{}"}
	u, _ := testUndo(d,
		cm("app-config-v1", map[string]string{"OTHER": "x"}, true),
		cm("app-config-v2", map[string]string{"SANDBOX_MODE": "crash"}, true))
	u.Config = "app-config"
	p, err := u.plan(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 2 || !strings.Contains(p.Warnings[0], "needs key SANDBOX_MODE") || !strings.Contains(p.Warnings[1], "kubectl apply") {
		t.Errorf("warnings = %q, want a missing key and a kubectl apply warning", p.Warnings)
	}
}

func TestPlanMissingVersion(t *testing.T) {
	spec := testPodSpec() // references app-config-v2, which does not exist here
	u, _ := testUndo(testDeployment(spec), cm("app-config-v1", map[string]string{"SANDBOX_MODE": "ok"}, false))
	u.Config = "app-config"
	p, err := u.plan(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Missing || p.To != "app-config-v1" || len(p.Changes) != 1 || p.Changes[0].Op != KeyAdded {
		t.Fatalf("plan = missing %v to %s changes %+v; want a switch to app-config-v1 adding SANDBOX_MODE", p.Missing, p.To, p.Changes)
	}
	u, _ = testUndo(testDeployment(&corev1.PodSpec{Containers: []corev1.Container{{Name: "app", EnvFrom: envFrom("settings")}}}))
	u.Config = "settings"
	if _, err := u.plan(context.Background(), "web"); outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing unversioned object: err = %v, want a refusal", err)
	}
}

func envFrom(name string) []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
}
