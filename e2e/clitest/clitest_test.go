//go:build e2e

package clitest

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestResult(t *testing.T) {
	r := Result{Code: 2, Stdout: "out", Stderr: "err"}
	if got := r.All(); got != "out\nerr" {
		t.Errorf("All() = %q", got)
	}
	code, out, errOut := r.Split()
	if code != 2 || out != "out" || errOut != "err" {
		t.Errorf("Split() = %d %q %q", code, out, errOut)
	}
}

// TestRunInProcess runs a command that needs no cluster.
func TestRunInProcess(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		wantOK bool
		want   string
	}{
		{"help", []string{"--help"}, true, "rollback"},
		{"unknown command", []string{"no-such-command"}, false, `unknown command "no-such-command"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(t, Options{Timeout: 10 * time.Second}, tt.args...)
			if (r.Code == 0) != tt.wantOK || !strings.Contains(r.All(), tt.want) {
				t.Errorf("exit %d (want success: %t), want %q in:\n%s", r.Code, tt.wantOK, tt.want, r.All())
			}
		})
	}
}

func TestProcess(t *testing.T) {
	p := Start(t, "/bin/sh", map[string]string{"CLITEST_X": "x-value"}, "-c", `echo "$CLITEST_X"; echo ready >&2; exit 3`)
	r := p.Wait(t, 10*time.Second)
	if r.Code != 3 || r.Stdout != "x-value\n" || r.Stderr != "ready\n" || p.Elapsed() == 0 {
		t.Errorf("got %+v after %s", r, p.Elapsed())
	}

	p = Start(t, "/bin/sh", nil, "-c", `echo started >&2; exec sleep 60`)
	p.WaitStderr(t, "started", 10*time.Second)
	if p.Exited() {
		t.Fatal("exited early")
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if r := p.Wait(t, 10*time.Second); r.Code != -1 {
		t.Errorf("exit %d after SIGTERM, want -1 (killed by a signal)", r.Code)
	}

	p = Start(t, "/bin/sh", nil, "-c", `exec sleep 60`)
	p.Stop(time.Second)
	if !p.Exited() {
		t.Error("Stop left the process running")
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	WaitFor(t, 5*time.Second, "three polls", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("polled %d times", n)
	}
}
