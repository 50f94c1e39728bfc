package command

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/runbook"
)

// newInitCmd returns "init": write a commented example rollback.yaml.
func newInitCmd(f *Factory) *cobra.Command {
	var file string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented example runbook (rollback.yaml) for the VibeStack app",
		Long: `Write a commented example runbook, rollback.yaml, describing the VibeStack
application: its clusters, Deployments, ConfigMaps and Secrets, database,
health checks, notification channels, escalation contacts, feature flags and
the order of the rollback steps. Edit it for your application. An existing
file is never replaced unless --force is given. The path written is printed
on stdout.`,
		Example: `  rollback init
  rollback init --file deploy/rollback.yaml --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := runbook.WriteExample(file, force); err != nil {
				if errors.Is(err, runbook.ErrExists) {
					return exitcode.AsRefused(err)
				}
				return err
			}
			if f.JSON() {
				return json.NewEncoder(f.IO.Out).Encode(struct {
					Path string `json:"path"`
				}{file})
			}
			fmt.Fprintln(f.IO.Out, file)
			fmt.Fprintf(f.IO.ErrOut, "wrote an example runbook: edit the clusters, names and escalation contacts in %s\n", file)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", runbook.FileNames[0], "path of the runbook to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	return cmd
}
