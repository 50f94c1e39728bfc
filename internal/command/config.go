package command

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
)

// newConfigCmd returns the "config" command group.
func newConfigCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Roll back the ConfigMaps and Secrets a Deployment uses",
		Long: `Roll back configuration: the ConfigMaps and Secrets a Deployment references
(env valueFrom, envFrom, volumes, projected volumes). Versioned objects
(name-vN, or the rollback.vibestack.dev/config-name and config-version labels)
are rolled back by switching the pod template to another version; unversioned
ones by restoring their data from a snapshot or a manifest file and restarting
the Deployment. Every change is snapshotted first, watched and verified.
Secret values are never shown: keys, sizes and a short hash only.`,
	}
	cmd.AddCommand(newConfigHistoryCmd(f), newConfigUndoCmd(f), newConfigSnapshotCmd(f))
	return cmd
}

// configDeploymentArg accepts exactly one argument, the Deployment's name;
// anything else is bad input (exit 2).
func configDeploymentArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return exitcode.AsRefused(fmt.Errorf("%s takes one argument, the Deployment's name (got %d); see --help", cmd.CommandPath(), len(args)))
	}
	return nil
}

// configPrintJSON writes v as one indented JSON object.
func configPrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// configStore returns the store of ConfigMaps and Secrets in ns.
func configStore(cs kubernetes.Interface, ns string) configs.Store {
	return configs.NewStore(cs, ns)
}
