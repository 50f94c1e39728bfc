package command

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vibestack/rollback/internal/kubeflags"
)

// globalOptionsHint ends every help text, as kubectl's "Use "kubectl options"
// for a list of global command-line options" does.
const globalOptionsHint = `Use "rollback options" for a list of global command-line options (applies to all commands).`

// setUpHelp gives every command of the tree rollback's help layout: its own
// flags and rollback's global ones (-o), with kubectl's connection flags
// (--kubeconfig, --context, -n, ...) listed by `rollback options` only, as
// kubectl lists its global flags under `kubectl options`. They are accepted
// by every command all the same.
func setUpHelp(root *cobra.Command) {
	root.SetUsageFunc(func(c *cobra.Command) error {
		return writeUsage(c.OutOrStderr(), c)
	})
	root.AddCommand(newOptionsCmd(root))
}

// newOptionsCmd returns `rollback options`, which lists the connection flags.
func newOptionsCmd(root *cobra.Command) *cobra.Command {
	const intro = "The following options can be passed to any command:\n\n"
	usages := kubeconfigFlags(root).FlagUsages()
	text := intro + usages
	return &cobra.Command{
		Use:   "options",
		Short: "List the global command-line options (kubectl's connection flags)",
		// The list is indented in the long text so that it stays one code
		// block in the generated Markdown reference.
		Long: `Every rollback command accepts kubectl's connection flags, with kubectl's names,
defaults and precedence: --kubeconfig, --context, -n/--namespace, --as, and the rest.

` + intro + regexp.MustCompile(`(?m)^`).ReplaceAllString(strings.TrimRight(usages, "\n"), "  "),
		Example: "  rollback app undo web --context prod -n shop --yes\n  kubectl rollback app undo web --context prod -n shop --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), text)
			return err
		},
	}
}

// kubeconfigFlags returns the connection flags bound on the root command.
func kubeconfigFlags(root *cobra.Command) *pflag.FlagSet {
	fs := pflag.NewFlagSet("options", pflag.ContinueOnError)
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if kubeflags.IsConfigFlag(f) {
			fs.AddFlag(f)
		}
	})
	return fs
}

// withoutKubeconfigFlags returns the flags of fs that are not connection flags.
func withoutKubeconfigFlags(fs *pflag.FlagSet) *pflag.FlagSet {
	out := pflag.NewFlagSet("flags", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		if !kubeflags.IsConfigFlag(f) && !f.Hidden {
			out.AddFlag(f)
		}
	})
	return out
}

// writeUsage writes the usage of c: cobra's layout without the connection
// flags, and the hint to `rollback options`.
func writeUsage(w io.Writer, c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.Runnable() {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n", c.CommandPath())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases:\n  %s\n", c.NameAndAliases())
	}
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nAvailable Commands:\n")
		width := c.NamePadding()
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s %s\n", width, sub.Name(), sub.Short)
			}
		}
	}
	if local := withoutKubeconfigFlags(c.LocalFlags()); local.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", local.FlagUsages())
	}
	if inherited := withoutKubeconfigFlags(c.InheritedFlags()); inherited.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s", inherited.FlagUsages())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	fmt.Fprintf(&b, "%s\n", "\n"+globalOptionsHint)
	_, err := io.WriteString(w, b.String())
	return err
}
