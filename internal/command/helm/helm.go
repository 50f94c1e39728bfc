// Package helmcmd is the `rollback helm` command group: Helm releases rolled
// back through Helm's own library (pkg/helmrelease). It is linked only into
// the rollback-helm binary.
package helmcmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/kubeflags"
	"github.com/vibestack/rollback/pkg/helmrelease"
)

// New returns the `helm` command group.
func New(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "helm",
		Short: "Roll a Helm release back to its last known good revision through Helm's library (history, undo, mark-good)",
		Long: `Helm releases, rolled back the way Helm records them (helm history shows
the rollback as its own), to the last revision rollback verified healthy:
never a failed, pending or never-verified revision unless named with
--to-revision. After the rollback every Deployment, StatefulSet and
DaemonSet of the release is watched and verified like rollback app undo (a
StatefulSet stuck on a failing pod of the bad revision gets it replaced), and
the new revision is marked.

Marks live in the ConfigMap rollback-helm-RELEASE of the release namespace.
HELM_DRIVER selects Helm's storage (secret, the default; configmap; sql).`,
	}
	cmd.AddCommand(newHistoryCmd(f), newUndoCmd(f), newMarkGoodCmd(f), newAgentCmd(f))
	return cmd
}

// config returns the release's Config from the cluster flags.
func config(f *command.Factory) (helmrelease.Config, error) { return configOf(f.Kube, f) }

// configOf returns the release's Config from the cluster flags kf.
func configOf(kf *kubeflags.ConfigFlags, f *command.Factory) (helmrelease.Config, error) {
	g := getter{kf}
	cfg, err := g.ToRESTConfig()
	if err != nil {
		return helmrelease.Config{}, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return helmrelease.Config{}, fmt.Errorf("create kubernetes client: %w", err)
	}
	ns, _, err := g.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return helmrelease.Config{}, fmt.Errorf("read namespace from kubeconfig: %w", err)
	}
	return helmrelease.Config{Getter: g, Clientset: cs, Namespace: ns, Driver: os.Getenv("HELM_DRIVER"), Clock: f.Clock}, nil
}

// getter gives Helm's library the clients of the kubectl-style flags.
type getter struct{ *kubeflags.ConfigFlags }

func (g getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	cfg, err := g.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g getter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(dc), nil
}

// errNoTTY refuses a write that nobody confirmed.
var errNoTTY = errors.New("no terminal to confirm on: re-run with --yes to roll back without a prompt (or --dry-run to see the plan)")
