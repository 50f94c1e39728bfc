//go:build e2e

package flag_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/featureflags"
	"github.com/vibestack/rollback/pkg/journal"
)

func flagsConfigMap(t *testing.T, ns string, data map[string]string) {
	t.Helper()
	_, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "vibestack-feature-flags"}, Data: data}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func flagValue(t *testing.T, ns, flag string) string {
	t.Helper()
	cm, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx(t), "vibestack-feature-flags", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data[flag]
}

// writeRunbook writes a runbook naming the flags ConfigMap in ns.
func writeRunbook(t *testing.T, ns string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rollback.yaml")
	rb := fmt.Sprintf(`apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: vibestack-app
clusters:
  - context: sandbox
    namespace: %s
deployments: [web]
featureFlags:
  configMap: vibestack-feature-flags
escalation:
  primary: {name: Ana Ops, contact: "+1 555 0100"}
`, ns)
	if err := os.WriteFile(p, []byte(rb), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var incidentRE = regexp.MustCompile(`incident (inc-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}) opened`)

func TestFlagDisableJournaledAndSkipped(t *testing.T) {
	ns := sb.Namespace(t)
	flagsConfigMap(t, ns, map[string]string{"new-checkout": "true", "dark-mode": "true"})
	rb := writeRunbook(t, ns)
	dir := t.TempDir()

	code, out, errOut := run(t, "flag", "disable", "new-checkout", "-f", rb, "--journal-dir", dir, "--reason", "checkout 500s")
	m := incidentRE.FindStringSubmatch(errOut)
	if code != 0 || m == nil || !strings.Contains(out, `disabled feature flag new-checkout in configmap `+ns+`/vibestack-feature-flags: "true" -> "false"; recorded in incident `+m[1]) {
		t.Fatalf("flag disable: code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	id := m[1]
	if v := flagValue(t, ns, "new-checkout"); v != "false" {
		t.Errorf("new-checkout = %q after disable, want false", v)
	}
	if v := flagValue(t, ns, "dark-mode"); v != "true" {
		t.Errorf("dark-mode changed to %q", v)
	}
	local, err := journal.Read(dir, id)
	// opened, the flag step's start and end, closed.
	if err != nil || len(local) != 4 || local[0].Inputs["reason"] != "checkout 500s" || local[2].Action != journal.ActionStepCompleted ||
		local[2].Target != "flag/new-checkout" || local[2].Before != "true" || local[2].After != "false" || local[2].Inputs["change"] != "disabled" ||
		local[3].Action != journal.ActionIncidentClosed {
		t.Fatalf("local journal = %+v, %v", local, err)
	}
	mirror, err := journal.ReadMirror(ctx(t), sb.Clientset.CoreV1().ConfigMaps(ns), id)
	if err != nil || len(mirror) != 4 || mirror[2].Target != "flag/new-checkout" {
		t.Fatalf("mirror = %+v, %v", mirror, err)
	}

	code, out, _ = run(t, "incident", "report", id, "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, "- primary: Ana Ops (+1 555 0100)") || !strings.Contains(out, "| new-checkout | disabled | true | false |") {
		t.Errorf("report lacks the flag change or the escalation:\n%s", out)
	}
	// The closed incident takes no more changes.
	if code, _, _ = run(t, "flag", "enable", "new-checkout", "-f", rb, "--journal-dir", dir, "--incident", id); code != 2 || flagValue(t, ns, "new-checkout") != "false" {
		t.Errorf("flag enable joining a closed incident: exit %d, want 2 and nothing changed", code)
	}

	// Changes joined to an open incident (a `rollback run` paused, say):
	// skipped, exit 0, nothing written; then enabled.
	id = journal.NewID(time.Now())
	open, err := journal.Open(journal.Options{Dir: dir, Incident: id, Actor: "ana@laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.Append(ctx(t), journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "vibestack-app"}}); err != nil {
		t.Fatal(err)
	}
	open.Close()
	rv := rvOf(t, ns)
	code, out, _ = run(t, "flag", "disable", "new-checkout", "-f", rb, "--journal-dir", dir, "--incident", id)
	if code != 0 || !strings.HasPrefix(out, "skipped: feature flag new-checkout") {
		t.Fatalf("second disable: code %d, %q", code, out)
	}
	if rvOf(t, ns) != rv {
		t.Errorf("second disable wrote the ConfigMap")
	}
	local, _ = journal.Read(dir, id)
	if last := local[len(local)-1]; last.Action != journal.ActionStepSkipped || last.Target != "flag/new-checkout" || last.Result != journal.ResultSkipped {
		t.Errorf("second run journaled as %+v", last)
	}

	// JSON, enable, list.
	code, out, _ = run(t, "flag", "enable", "new-checkout", "--configmap", "vibestack-feature-flags", "-n", ns, "--journal-dir", dir, "--incident", id, "-o", "json")
	var res struct {
		featureflags.Change
		Incident string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Before != "false" || res.After != "true" || res.Skipped || res.Incident != id {
		t.Errorf("flag enable -o json: code %d, %q, %v", code, out, err)
	}
	code, out, _ = run(t, "flag", "list", "-f", rb)
	if code != 0 || !regexp.MustCompile(`(?m)^new-checkout\s+true$`).MatchString(out) || !regexp.MustCompile(`(?m)^dark-mode\s+true$`).MatchString(out) {
		t.Errorf("flag list: %d %q", code, out)
	}
	code, out, _ = run(t, "incident", "report", id, "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, "| new-checkout | disabled (skipped: already set) |") || !strings.Contains(out, "| new-checkout | enabled | false | true |") {
		t.Errorf("report lacks the flag changes:\n%s", out)
	}
}

func rvOf(t *testing.T, ns string) string {
	cm, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx(t), "vibestack-feature-flags", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.ResourceVersion
}

func TestFlagRefusals(t *testing.T) {
	ns := sb.Namespace(t)
	flagsConfigMap(t, ns, map[string]string{"new-checkout": "true"})
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"unknown flag", []string{"flag", "disable", "new-chekout", "--configmap", "vibestack-feature-flags", "-n", ns}, 2, `feature flag "new-chekout" in configmap ` + ns + `/vibestack-feature-flags: not found (known flags: new-checkout)`},
		{"invalid name", []string{"flag", "disable", "new checkout", "--configmap", "vibestack-feature-flags", "-n", ns}, 2, `invalid feature flag name "new checkout"`},
		{"missing configmap", []string{"flag", "disable", "x", "--configmap", "nope", "-n", ns}, 2, "configmap " + ns + "/nope: not found: create it"},
		{"no runbook", []string{"flag", "disable", "x", "-f", filepath.Join(dir, "missing.yaml")}, 2, "rollback init"},
		{"viewer may not write", []string{"flag", "disable", "new-checkout", "--configmap", "vibestack-feature-flags", "-n", ns, "--kubeconfig", sb.RestrictedKubeconfig}, 2, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, append(tt.args, "--journal-dir", dir)...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("code %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.wantErr)
			}
		})
	}
	if v := flagValue(t, ns, "new-checkout"); v != "true" {
		t.Errorf("refused commands changed the flag to %q", v)
	}
	if l, _ := journal.List(dir); len(l) != 0 {
		t.Errorf("refused commands opened incidents: %+v", l)
	}
}

// TestFlagConcurrentWriter: while rollback disables one flag, other writers
// change other keys and the same key; no write is lost and the value
// rollback reports as "before" is the one it replaced.
func TestFlagConcurrentWriter(t *testing.T) {
	ns := sb.Namespace(t)
	data := map[string]string{"target": "true"}
	for i := range 8 {
		data[fmt.Sprintf("other-%d", i)] = "true"
	}
	flagsConfigMap(t, ns, data)
	cms := sb.Clientset.CoreV1().ConfigMaps(ns)
	p := &featureflags.ConfigMap{ConfigMaps: cms, Name: "vibestack-feature-flags", Namespace: ns}

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() { // another engineer's writes to other flags, as kubectl patch would
			defer wg.Done()
			if _, err := p.Set(ctx(t), fmt.Sprintf("other-%d", i), "false"); err != nil {
				t.Error(err)
			}
		}()
	}
	changes := make([]featureflags.Change, 4)
	for i := range changes {
		wg.Add(1)
		go func() { // several disables of the same flag at once: exactly one writes
			defer wg.Done()
			c, err := featureflags.Disable(ctx(t), p, "target")
			if err != nil {
				t.Error(err)
			}
			changes[i] = c
		}()
	}
	wg.Wait()
	written := 0
	for _, c := range changes {
		if !c.Skipped {
			written++
			if c.Before != "true" {
				t.Errorf("the writing disable saw before %q, want true", c.Before)
			}
		}
	}
	if written != 1 {
		t.Errorf("%d disables wrote the flag, want exactly 1: %+v", written, changes)
	}
	flags, err := featureflags.List(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flags {
		if f.Value != "false" {
			t.Errorf("flag %s = %q: a concurrent write was lost", f.Name, f.Value)
		}
	}
}
