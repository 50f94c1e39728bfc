package clitest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/iostreams"
)

// Result is one run of the rollback CLI.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// All returns everything the command printed: stdout, a newline, stderr.
func (r Result) All() string { return r.Stdout + "\n" + r.Stderr }

// Split returns the exit code, stdout and stderr, for callers that take
// them apart at once: code, out, errOut := clitest.Run(...).Split().
func (r Result) Split() (int, string, string) { return r.Code, r.Stdout, r.Stderr }

// Options say how Run calls the CLI.
type Options struct {
	// Kubeconfig is added as --kubeconfig unless the args carry one; empty
	// adds nothing.
	Kubeconfig string
	// Timeout bounds the run; zero means no deadline.
	Timeout time.Duration
	// Env is set in the process environment (t.Setenv) for the rest of the
	// test, so tests using it must not run in parallel.
	Env map[string]string
	// Stdin is what the command reads on stdin.
	Stdin string
	// TTY makes stdin look like a terminal (prompts are shown and read).
	TTY bool
	// Redact, when set, is applied to the logged command line (to keep
	// passwords in URLs out of the test log).
	Redact func(string) string
}

// Run runs the CLI in-process (command.Execute with iostreams.Test()),
// logs the command line, exit code and output, and returns the result.
func Run(t testing.TB, o Options, args ...string) Result {
	t.Helper()
	for k, v := range o.Env {
		t.Setenv(k, v)
	}
	if o.Kubeconfig != "" && !slices.Contains(args, "--kubeconfig") {
		args = append(args, "--kubeconfig", o.Kubeconfig)
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if o.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
	}
	defer cancel()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(o.Stdin)
	io.InTTY = o.TTY
	code := command.Execute(ctx, io, args)
	r := Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
	line := strings.Join(args, " ")
	if o.Redact != nil {
		line = o.Redact(line)
	}
	t.Logf("rollback %s -> exit %d\n--- stdout\n%s--- stderr\n%s", line, code, r.Stdout, r.Stderr)
	return r
}

// Context returns a context that ends after d or when the test ends.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
