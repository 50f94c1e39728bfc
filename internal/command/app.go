package command

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// newAppCmd returns the "app" command group: application rollback.
func newAppCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Roll a Deployment, StatefulSet or DaemonSet back to its last known good revision, watch and verify it",
		Long: `Application rollback (runbook section 2).

Every command takes a workload as kubectl names it: deployment/web,
statefulset/db, daemonset/agent, the short forms deploy/, sts/ and ds/, or a
bare NAME, which is a Deployment.

A revision is known-good when rollback observed it fully rolled out and healthy
(every replica updated, ready and available, no restarts over the settle window,
every --check-url 2xx); undo, status and mark-good stamp the object that holds
the revision (a Deployment's ReplicaSet, a StatefulSet's or DaemonSet's
ControllerRevision) with rollback.vibestack.dev/known-good-at. undo goes back to
the newest known-good revision, or to the previous one when nothing is stamped.`,
	}
	cmd.AddCommand(newAppHistoryCmd(f), newAppUndoCmd(f), newAppStatusCmd(f),
		newAppRestartCmd(f), newAppMarkGoodCmd(f), newAppResumeCmd(f), newAppLogsCmd(f))
	return cmd
}

// appClients returns the clientset and the namespace the cluster flags select.
func appClients(f *Factory) (kubernetes.Interface, string, error) {
	return f.Clients.ForContext("", "")
}

// workloadArg reads a workload argument in kubectl's resource syntax
// (deployment/web, sts/db, ds/agent, a bare NAME for a Deployment); bad
// input is a refusal (exit code 2).
func workloadArg(arg string) (rollout.Workload, error) {
	return rollout.ParseWorkload(arg)
}

// workloadLock is the lock of workload w in namespace ns: the one `rollback
// run`, guard and the controller take.
func workloadLock(cs kubernetes.Interface, ns string, w rollout.Workload) lifecycle.LockTarget {
	return lifecycle.Workload(cs.CoordinationV1().Leases(ns), ns, w.Kind.Lower(), w.Name)
}

// workloadJSON names w in a command's JSON result: kind and name, and for
// a Deployment the name again under "deployment" (the key of the results
// before StatefulSets and DaemonSets).
func workloadJSON(w rollout.Workload, fields map[string]any) map[string]any {
	fields["kind"], fields["name"] = w.Kind, w.Name
	if w.Kind == rollout.KindDeployment {
		fields["deployment"] = w.Name
	}
	return fields
}

// verifyFlags are the watch and verification flags every command that
// watches a rollout binds (app undo, status and restart, config undo, run,
// guard, drill): one rollout.Verification, bound once.
type verifyFlags struct {
	timeout   time.Duration
	settle    time.Duration
	checkURLs []string
}

// add binds --timeout, --settle and (unless noURLs) --check-url to cmd.
func (v *verifyFlags) add(cmd *cobra.Command) { v.bind(cmd, true) }

// bind binds the flags; a command whose check URLs come from elsewhere
// (the runbook) leaves --check-url out.
func (v *verifyFlags) bind(cmd *cobra.Command, urls bool) {
	cmd.Flags().DurationVar(&v.timeout, "timeout", 5*time.Minute, "give up watching a rollout after this long (exit code 4)")
	cmd.Flags().DurationVar(&v.settle, "settle", 10*time.Second, "how long restart counts must stay stable after a rollout")
	if urls {
		cmd.Flags().StringArrayVar(&v.checkURLs, "check-url", nil, "URL that must answer 2xx after the settle window (repeatable)")
	}
}

// value returns the verification the flags describe, on f's clock.
func (v *verifyFlags) value(f *Factory) rollout.Verification {
	return rollout.Verification{Timeout: v.timeout, Settle: v.settle, CheckURLs: v.checkURLs,
		HTTPClient: safehttp.NewClient(rollout.DefaultCheckTimeout), Clock: f.Clock}
}

// printJSON writes v as one JSON object on stdout.
func printJSON(f *Factory, v any) error {
	enc := json.NewEncoder(f.IO.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// ctxOf returns the command's context.
func ctxOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// workloadEvidence is the evidence kept before a change of workload w in
// namespace ns (toRevision 0: the undo's own target).
func workloadEvidence(clients rollout.Clients, ns string, w rollout.Workload, toRevision int64) []evidence.Source {
	return []evidence.Source{evidence.Workload{Clients: clients, Kind: w.Kind, Namespace: ns, Name: w.Name, ToRevision: toRevision}}
}
