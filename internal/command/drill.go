package command

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/drill"
)

func newDrillCmd(f *Factory) *cobra.Command {
	var (
		rb                  runbookFlag
		namespace, badImage string
		badConfig           []string
		keep                bool
		journalDir          string
		verify              verifyFlags
	)
	cmd := &cobra.Command{
		Use:   "drill [--namespace NS] [--bad-image IMAGE | --bad-config KEY=VALUE ...] [--keep]",
		Short: "Rehearse the rollback in a non-production namespace and measure detection and recovery",
		Long: `Rehearse the runbook's rollback on a copy of the application:

  1. create the drill namespace, -n/--namespace (default: the runbook's
     namespace with "-drill"; it must not be one of the runbook's);
  2. copy each workload (Deployments, StatefulSets with their
     volumeClaimTemplates, DaemonSets) at its last known good revision,
     with the ConfigMaps it uses (Secrets: keys only, placeholder values),
     wait until healthy, snapshot the Deployments' configuration;
  3. ship a bad release: --bad-image (default: the image's repository with
     the sandbox's failing tag :crash) to the first workload, or
     --bad-config KEY=VALUE;
  4. watch it fail (time to detect), run the runbook's app and config steps
     on the copy (never the database, never notifications), verify (time to
     recover);
  5. compare with the earlier drills in the journal, write the report,
     delete the namespace (unless --keep).`,
		Example: `  rollback drill --namespace vibestack-drill
  rollback drill --namespace vibestack-drill --bad-config SANDBOX_MODE=crash`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bad, err := keyValues(badConfig)
			if err != nil {
				return err
			}
			if badImage != "" && len(bad) > 0 {
				return exitcode.AsRefused(errors.New("--bad-image and --bad-config exclude each other: ship one kind of bad release"))
			}
			book, path, err := rb.load()
			if err != nil {
				return err
			}
			c := book.Clusters[0]
			// The global -n/--namespace names the drill namespace; never
			// the kubeconfig's default namespace.
			if namespace = c.Namespace + "-drill"; f.Kube.Namespace != nil && *f.Kube.Namespace != "" {
				namespace = *f.Kube.Namespace
			}
			cs, _, err := clusterClient(f, c.Context, namespace)
			if err != nil {
				return err
			}
			d := &drill.Drill{
				Runbook: book, RunbookPath: path, Client: cs, Context: c.Context, Namespace: namespace,
				BadImage: badImage, BadConfig: bad, Keep: keep, JournalDir: journalDir, Actor: clusterlock.DefaultHolder(),
				Verification: verify.value(f), Process: f.Process, Clock: f.Clock, Observer: f.observer(), AfterRecord: f.faultHook(),
			}
			res, err := d.Run(ctxOf(cmd))
			if res != nil && res.Incident != "" {
				if f.JSON() {
					if perr := printJSON(f, res); perr != nil && err == nil {
						err = perr
					}
				} else {
					drill.WriteResult(f.IO.Out, res)
				}
			}
			return err
		},
	}
	rb.add(cmd)
	fs := cmd.Flags()
	fs.StringVar(&badImage, "bad-image", "", "image of the bad release (default: the good image's repository with tag :crash)")
	fs.StringArrayVar(&badConfig, "bad-config", nil, "bad release as configuration: KEY=VALUE written into the runbook's first ConfigMap, then a restart (repeatable)")
	fs.BoolVar(&keep, "keep", false, "keep the drill namespace for inspection")
	fs.StringVar(&journalDir, "journal-dir", "", "directory of journals and reports (default $ROLLBACK_JOURNAL_DIR or ~/.local/state/rollback/incidents)")
	verify.bind(cmd, false)
	return cmd
}

// keyValues parses KEY=VALUE pairs.
func keyValues(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, exitcode.AsRefused(fmt.Errorf("--bad-config %q: write KEY=VALUE", p))
		}
		out[k] = v
	}
	return out, nil
}
