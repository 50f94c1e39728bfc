package command

import "github.com/spf13/cobra"

// newAppCmd returns the "app" command group.
func newAppCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "app", Short: "not yet implemented"}
}
