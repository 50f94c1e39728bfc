// Package command binds the rollback command line to the capability
// packages: each command parses flags, calls a library Run, and prints.
package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/internal/iostreams"
	"github.com/vibestack/rollback/internal/kubeflags"
	"github.com/vibestack/rollback/internal/version"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/redact"
)

// Factory carries what every command needs: streams, cluster access flags,
// the clock and the output format. Tests build one with their own streams.
type Factory struct {
	IO   *iostreams.IOStreams
	Kube *kubeflags.ConfigFlags
	// Clients makes the API clients; NewFactory's reads the kubeconfig
	// and the cluster flags, tests put fake clientsets in.
	Clients Clients
	Clock   clock.WithTicker
	// Getenv reads the environment (os.Getenv; tests inject their own).
	Getenv func(string) string
	// Process tells this process's cluster locks from another process of
	// the same user (clusterlock.NewProcessID).
	Process string
	// Output is -o (text or json); Progress is --progress.
	Output   string
	Progress string
	// Helm builds the `helm` command group; nil runs the rollback-helm
	// binary (see HelmBinary), which sets the real one.
	Helm func(*Factory) *cobra.Command
	// Args are the command line arguments being run.
	Args []string

	// Redact removes secrets from everything written to IO.Out and
	// IO.ErrOut; commands register the secret values they learn.
	Redact *redact.Redactor

	renderOnce sync.Once
	render     *renderer
}

// NewFactory returns a Factory for io with kubectl-compatible cluster flags.
// Its streams redact what is written to them (see pkg/redact).
func NewFactory(io *iostreams.IOStreams) *Factory {
	kube := kubeflags.NewConfigFlags()
	red := redact.New()
	return &Factory{
		IO:      io.Redacted(red),
		Kube:    kube,
		Clients: kubeClients{kube: kube},
		Clock:   clock.RealClock{},
		Getenv:  os.Getenv,
		Process: clusterlock.NewProcessID(),
		Redact:  red,
	}
}

// JSON reports whether the user asked for machine-readable output (-o json).
func (f *Factory) JSON() bool { return f.Output == "json" }

// NewRoot returns the root command with every subcommand attached.
func NewRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "rollback",
		Short: "The fastest safe way back to the last known good state of an application on Kubernetes",
		Long: `rollback puts an application, its configuration and its database back on the
last known good state, verifies the result and records what it did.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			registerSecretFlags(cmd, f.Redact)
			switch f.Progress {
			case progressAuto, progressText, progressJSON, progressNone:
			default:
				return exitcode.AsRefused(fmt.Errorf("unknown progress rendering %q: use --progress auto, text, json or none", f.Progress))
			}
			switch f.Output {
			case "", "text", "json":
				return nil
			}
			return exitcode.AsRefused(fmt.Errorf("unknown output format %q: use -o text or -o json", f.Output))
		},
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.AsRefused(fmt.Errorf("%w (see --help)", err))
	})
	f.Kube.AddFlags(root.PersistentFlags())
	root.PersistentFlags().StringVarP(&f.Output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&f.Progress, "progress", progressAuto, "progress on stderr: auto (one updating line on a terminal, else lines), text, json (one event per line) or none")
	for _, add := range subcommands {
		root.AddCommand(add(f))
	}
	helm := f.Helm
	if helm == nil {
		helm = newHelmExecCmd
	}
	root.AddCommand(helm(f))
	setUpHelp(root)
	refuseBadArgs(root)
	return root
}

// refuseBadArgs makes wrong positional arguments a refusal (exit code 2) in
// every command of the tree, as wrong flags already are.
func refuseBadArgs(cmd *cobra.Command) {
	if validate := cmd.Args; validate != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := validate(c, args); err != nil {
				return exitcode.AsRefused(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		refuseBadArgs(sub)
	}
}

// subcommands lists the constructors of the top-level command groups; each
// group lives in its own file.
var subcommands = []func(*Factory) *cobra.Command{
	newAppCmd,
	newConfigCmd,
	newDBCmd,
	newDrillCmd,
	newFlagCmd,
	newGuardCmd,
	newIncidentCmd,
	newInitCmd,
	newLockCmd,
	newPreflightCmd,
	newRunCmd,
}

// Execute runs the command line args and returns the process exit code.
// Errors are printed once, here, on stderr.
func Execute(ctx context.Context, io *iostreams.IOStreams, args []string) int {
	return ExecuteWith(ctx, NewFactory(io), args)
}

// ExecuteWith runs the command line args with the Factory f (tests give
// one with fake clients and a fake clock) and returns the exit code.
func ExecuteWith(ctx context.Context, f *Factory, args []string) int {
	f.Args = args
	io := f.IO
	root := NewRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	var child *exitCodeError
	if errors.As(err, &child) {
		return child.code
	}
	if msg := err.Error(); strings.HasPrefix(msg, "required flag(s)") || strings.HasPrefix(msg, "unknown command") {
		// cobra's check of MarkFlagRequired flags and of subcommand names:
		// bad input, nothing changed.
		err = exitcode.AsRefused(err)
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(io.ErrOut, "error: interrupted; nothing more was changed after the interrupt")
	} else {
		fmt.Fprintf(io.ErrOut, "error: %v\n", err)
	}
	return exitcode.Code(err)
}
