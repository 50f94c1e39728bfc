package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
)

// controllerNames are the kube-controller-manager controllers the sandbox
// runs: enough for Deployments, ReplicaSets, StatefulSets and DaemonSets
// (with their ControllerRevisions), PersistentVolumeClaims bound to the
// sandbox provisioner's volumes and protected while pods use them, cascading
// deletion, namespace deletion, default ServiceAccounts and the aggregated
// ClusterRoles (view, edit, admin) that the restricted user is bound to.
var controllerNames = []string{
	"deployment-controller",
	"replicaset-controller",
	"statefulset-controller",
	"daemonset-controller",
	"persistentvolume-binder-controller",
	"persistentvolumeclaim-protection-controller",
	"persistentvolume-protection-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"clusterrole-aggregation-controller",
}

// startControllers runs the real kube-controller-manager in-process against
// the apiserver named in kubeconfig.
func startControllers(ctx context.Context, wg *sync.WaitGroup, kubeconfig string) error {
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return fmt.Errorf("controller-manager options: %w", err)
	}
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	for _, f := range s.Flags(kcm.KnownControllers(), kcm.ControllersDisabledByDefault(), kcm.ControllerAliases()).FlagSets {
		fs.AddFlagSet(f)
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--controllers=" + strings.Join(controllerNames, ","),
		"--leader-elect=false",
		"--secure-port=0",
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		"--concurrent-deployment-syncs=10",
		"--concurrent-replicaset-syncs=10",
		"--concurrent-statefulset-syncs=10",
		"--concurrent-daemonset-syncs=10",
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("controller-manager flags: %w", err)
	}
	if err := s.ComponentGlobalsRegistry.Set(); err != nil {
		return fmt.Errorf("controller-manager feature gates: %w", err)
	}
	c, err := s.Config(ctx, kcm.KnownControllers(), kcm.ControllersDisabledByDefault(), kcm.ControllerAliases())
	if err != nil {
		return fmt.Errorf("controller-manager config: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := kcm.Run(ctx, c.Complete()); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "controller-manager stopped")
		}
	}()
	return nil
}
