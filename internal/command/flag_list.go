package command

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/featureflags"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// flagListOptions are the options of "flag list".
type flagListOptions struct {
	target flagTargetFlags
}

// newFlagListCmd returns "flag list".
func newFlagListCmd(f *Factory) *cobra.Command {
	o := &flagListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the feature flags and their values",
		Example: `  rollback flag list
  rollback flag list --configmap vibestack-feature-flags -n shop -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(ctxOf(cmd), f) },
	}
	o.target.add(cmd)
	return cmd
}

// flagListResult is the -o json answer of "flag list".
type flagListResult struct {
	Provider string              `json:"provider"`
	Flags    []featureflags.Flag `json:"flags"`
}

// Run lists the flags.
func (o *flagListOptions) Run(ctx context.Context, f *Factory) error {
	t, err := o.target.resolve(f)
	if err != nil {
		return err
	}
	flags, err := featureflags.List(ctx, t.provider)
	if err != nil {
		return err
	}
	if f.JSON() {
		return printJSON(f, flagListResult{Provider: t.provider.String(), Flags: flags})
	}
	fmt.Fprintf(f.IO.ErrOut, "feature flags in %s:\n", t.provider)
	tw := tabwriter.NewWriter(termsafe.Writer(f.IO.Out), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tVALUE")
	for _, fl := range flags {
		fmt.Fprintf(tw, "%s\t%s\n", fl.Name, fl.Value)
	}
	return tw.Flush()
}
