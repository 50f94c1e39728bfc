package command

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
)

// newAppCmd returns the "app" command group: application rollback.
func newAppCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Roll a Deployment back to its last known good revision, watch and verify it",
		Long: `Application rollback (runbook section 2).

A revision is known-good when rollback observed it fully rolled out and healthy
(every replica updated, ready and available, no restarts over the settle window,
every --check-url 2xx); undo, status and mark-good stamp its ReplicaSet with
rollback.vibestack.dev/known-good-at. undo goes back to the newest known-good
revision, or to the previous one when nothing is stamped.`,
	}
	cmd.AddCommand(newAppHistoryCmd(f), newAppUndoCmd(f), newAppStatusCmd(f),
		newAppRestartCmd(f), newAppMarkGoodCmd(f), newAppResumeCmd(f))
	return cmd
}

// appClients returns the clientset and the namespace the kubeconfig flags select.
func appClients(f *Factory) (kubernetes.Interface, string, error) {
	cfg, err := f.Kube.ToRESTConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	// A bulk undo makes a few requests per Deployment at once; the client's
	// default 5 requests/s would serialize them.
	cfg.QPS, cfg.Burst = 100, 200
	// Watches of many pods decode faster and with less garbage as protobuf.
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("create kubernetes client: %w", err)
	}
	ns, _, err := f.Kube.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("read namespace from kubeconfig: %w", err)
	}
	return cs, ns, nil
}

// verifyFlags are the watch and verification flags of undo and status.
type verifyFlags struct {
	timeout   time.Duration
	settle    time.Duration
	checkURLs []string
}

func (v *verifyFlags) add(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&v.timeout, "timeout", 5*time.Minute, "give up watching after this long (exit code 4)")
	cmd.Flags().DurationVar(&v.settle, "settle", 10*time.Second, "how long restart counts must stay stable after the rollout")
	cmd.Flags().StringArrayVar(&v.checkURLs, "check-url", nil, "URL that must answer 2xx after the settle window (repeatable)")
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
