//go:build e2e

package lock_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
)

// runLockCLI runs "rollback lock ARGS" in-process against kubeconfig and ns.
func runLockCLI(t *testing.T, kubeconfig, ns, stdin string, tty bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	o := clitest.Options{Timeout: 30 * time.Second, Stdin: stdin, TTY: tty}
	return clitest.Run(t, o, append([]string{"lock"}, append(args, "--kubeconfig", kubeconfig, "-n", ns)...)...).Split()
}

func TestLockCLI(t *testing.T) {
	ns := sb.Namespace(t)
	kc := sb.Kubeconfig

	code, out, errOut := runLockCLI(t, kc, ns, "", false, "status", "web")
	if code != 0 || out != "lock rollback-web: free\n" {
		t.Fatalf("status of a free lock: code %d, out %q, err %q", code, out, errOut)
	}
	code, out, errOut = runLockCLI(t, kc, ns, "", false, "break", "web")
	if code != 0 || !strings.Contains(out, "skipped") {
		t.Fatalf("break of a free lock: code %d, out %q, err %q", code, out, errOut)
	}

	lock := &clusterlock.Lock{
		Leases: sb.Clientset.CoordinationV1().Leases(ns), Clock: clock.RealClock{},
		Name: "web", Holder: "alice@laptop", Incident: "INC-7", Duration: time.Minute,
	}
	if _, err := lock.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runLockCLI(t, kc, ns, "", false, "status", "web")
	for _, want := range []string{"rollback-web: held", "alice@laptop", "INC-7", "since:", "expires:"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status: code %d, out %q lacks %q (err %q)", code, out, want, errOut)
		}
	}
	t.Logf("rollback lock status web:\n%s", out)
	code, out, _ = runLockCLI(t, kc, ns, "", false, "status", "web", "-o", "json")
	t.Logf("rollback lock status web -o json:\n%s", out)
	var info clusterlock.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 || info.Holder != "alice@laptop" || info.Incident != "INC-7" || info.Free || info.DurationSeconds != 60 {
		t.Errorf("status -o json: code %d, %q (%v)", code, out, err)
	}

	tests := []struct {
		name     string
		stdin    string
		tty      bool
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no terminal and no --yes", "", false, []string{"break", "web"}, exitcode.Refused, "run again with --yes"},
		{"answered no", "n\n", true, []string{"break", "web"}, exitcode.Refused, "cancelled"},
		{"missing app", "", false, []string{"break"}, exitcode.Refused, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runLockCLI(t, kc, ns, tt.stdin, tt.tty, tt.args...)
			t.Logf("rollback lock %s: exit %d\n%s", strings.Join(tt.args, " "), code, errOut)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("code %d, stderr %q; want %d and %q", code, errOut, tt.wantCode, tt.wantErr)
			}
			if st, _ := lock.Status(context.Background()); st.Free {
				t.Errorf("lock was broken")
			}
		})
	}

	code, out, errOut = runLockCLI(t, kc, ns, "", false, "break", "web", "--yes", "-o", "json")
	t.Logf("rollback lock break web --yes -o json:\n%s", out)
	var res struct {
		Broken bool              `json:"broken"`
		Info   *clusterlock.Info `json:"lock"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Broken || res.Info.Holder != "alice@laptop" {
		t.Fatalf("break --yes: code %d, out %q, err %q", code, out, errOut)
	}
	if st, _ := lock.Status(context.Background()); !st.Free {
		t.Errorf("lock still held after break: %+v", st)
	}
}
