package command

import "github.com/spf13/cobra"

// newConfigCmd returns the "config" command group.
func newConfigCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "config", Short: "not yet implemented"}
}
