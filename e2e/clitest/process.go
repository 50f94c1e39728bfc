package clitest

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is the rollback binary running as its own process.
type Process struct {
	cmd            *exec.Cmd
	stdout, stderr *Buffer
	done           chan struct{}
	start          time.Time
	elapsed        time.Duration
}

// Start runs bin with args and env added to the test's environment. The
// process is killed when the test ends, if it still runs then.
func Start(t testing.TB, bin string, env map[string]string, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(bin, args...), stdout: &Buffer{}, stderr: &Buffer{}, done: make(chan struct{})}
	p.cmd.Env = os.Environ()
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	setDeathSignal(p.cmd)
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start rollback %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.elapsed = time.Since(p.start)
		close(p.done)
	}()
	t.Cleanup(p.Kill)
	return p
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stdout returns what the process printed on stdout so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns what the process printed on stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Elapsed returns how long the process ran; zero while it runs.
func (p *Process) Elapsed() time.Duration {
	if !p.Exited() {
		return 0
	}
	return p.elapsed
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill ends the process with SIGKILL (no cleanup in it) and waits for it.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop ends the process with SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Wait waits up to timeout for the process to end (killing it and failing
// the test after that), logs its exit code and output, and returns them.
func (p *Process) Wait(t testing.TB, timeout time.Duration) Result {
	t.Helper()
	line := strings.Join(p.cmd.Args[1:], " ")
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		t.Fatalf("rollback %s did not end within %s\nstderr:\n%s", line, timeout, p.Stderr())
	}
	r := Result{Code: p.cmd.ProcessState.ExitCode(), Stdout: p.Stdout(), Stderr: p.Stderr()}
	t.Logf("rollback %s -> exit %d after %s\n--- stdout\n%s--- stderr\n%s", line, r.Code, p.elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
	return r
}

// WaitStderr waits up to timeout until the process's stderr contains s; it
// fails the test when the process ends first.
func (p *Process) WaitStderr(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Stderr(), s) {
		if p.Exited() {
			t.Fatalf("process ended before printing %q\nstderr:\n%s", s, p.Stderr())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on stderr within %s\nstderr:\n%s", s, timeout, p.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
