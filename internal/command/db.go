package command

import "github.com/spf13/cobra"

// newDBCmd returns the "db" command group.
func newDBCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "db", Short: "not yet implemented"}
}
