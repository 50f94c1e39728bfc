// Package incident_test runs whole incidents (`rollback run`) end to end
// against the sandbox, a real PostgreSQL server and a real local HTTP
// receiver for the webhook notifications.
package incident_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/iostreams"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

// result is one run of the rollback CLI.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) all() string { return r.stdout + "\n" + r.stderr }

// rollback runs the CLI in-process with env added to the process environment
// for the duration of the call (tests using it do not run in parallel).
func rollback(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	io, _, out, errOut := iostreams.Test()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args = append(args, "--kubeconfig", sb.Kubeconfig)
	code := command.Execute(ctx, io, args)
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	t.Logf("rollback %s -> exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	return r
}

// binary returns the rollback binary: $ROLLBACK_BIN, else one built now.
func binary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("ROLLBACK_BIN"); b != "" {
		if _, err := os.Stat(b); err == nil {
			return b
		}
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	out := filepath.Join(t.TempDir(), "rollback")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/rollback")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build rollback: %v\n%s", err, b)
	}
	return out
}

// process is the CLI running as its own process.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
	done           chan struct{}
}

// start runs the binary with env and args (plus --kubeconfig).
func start(t *testing.T, bin string, env map[string]string, args ...string) *process {
	t.Helper()
	args = append(args, "--kubeconfig", sb.Kubeconfig)
	p := &process{cmd: exec.Command(bin, args...), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = os.Environ()
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to end and returns its result.
func (p *process) wait(t *testing.T, timeout time.Duration) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("process did not end within %s\n%s", timeout, p.stderr.String())
	}
	r := result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
	t.Logf("%s -> exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(p.cmd.Args, " "), r.code, r.stdout, r.stderr)
	return r
}

// waitFor polls cond every 200 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

var _ = fmt.Sprint
