package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/pkg/lifecycle"

	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// HelmBinary is the program that carries `rollback helm`: Helm's library
// costs about 47 MB of resident memory at start, which the other commands
// should not pay, so the main binary runs it for this one command group.
const HelmBinary = "rollback-helm"

// exitCodeError ends a command with a child process's exit code, which
// already printed its own error.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string {
	return fmt.Sprintf("%s exited with code %d", HelmBinary, e.code)
}

// newHelmExecCmd is the `helm` group of the main binary: it runs
// rollback-helm (found by $ROLLBACK_HELM_BIN, next to this binary, or on
// PATH) with the same arguments, streams and exit code.
func newHelmExecCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:                "helm",
		Short:              "Roll a Helm release back to its last known good revision through Helm's library (history, undo, mark-good)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bin, err := findHelmBinary()
			if err != nil {
				return err
			}
			c := exec.CommandContext(ctxOf(cmd), bin, f.Args...)
			c.Stdin, c.Stdout, c.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
			c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
			c.WaitDelay = 30 * time.Second
			err = c.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &exitCodeError{code: ee.ExitCode()}
			}
			if err != nil {
				return fmt.Errorf("run %s: %w", bin, err)
			}
			return nil
		},
	}
}

// findHelmBinary finds rollback-helm.
func findHelmBinary() (string, error) {
	if p := os.Getenv("ROLLBACK_HELM_BIN"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), HelmBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(HelmBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("rolling back a Helm release needs the %s program, which is neither next to rollback nor on PATH: install it with `make install` (or `go install github.com/vibestack/rollback/cmd/%s@latest`), or set ROLLBACK_HELM_BIN", HelmBinary, HelmBinary)
}

// PrintJSON writes v as one JSON object on stdout.
func PrintJSON(f *Factory, v any) error { return printJSON(f, v) }

// ContextOf returns the command's context.
func ContextOf(cmd *cobra.Command) context.Context { return ctxOf(cmd) }

// JournalActor is who the journal says acted: $ROLLBACK_ACTOR, else user@host.
func JournalActor() string { return journalActor() }

// Verify binds the watch and verification flags of undo and status
// (--timeout, --settle, --check-url) to cmd and returns the verification
// they describe once parsed.
func Verify(cmd *cobra.Command) func(*Factory) rollout.Verification {
	v := &verifyFlags{}
	v.add(cmd)
	return v.value
}

// Record binds --incident, --journal-dir and --reason to cmd and returns
// how its change is recorded: as an incident of its own, or as a step of
// the incident --incident names (lifecycle.OneStep), like every command
// that changes something.
func Record(cmd *cobra.Command) func(f *Factory, app, step, target string, mirror corev1client.ConfigMapInterface, locks ...lifecycle.LockTarget) lifecycle.OneStep {
	r := &recordFlags{}
	r.add(cmd)
	r.evidence.add(cmd)
	return func(f *Factory, app, step, target string, mirror corev1client.ConfigMapInterface, locks ...lifecycle.LockTarget) lifecycle.OneStep {
		return r.oneStep(f, cmd, app, step, target, mirror, nil, locks...)
	}
}

// Observer returns the progress observer of a command (--progress on stderr).
func (f *Factory) Observer() progress.Observer { return f.observer() }
