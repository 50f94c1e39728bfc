package command

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/internal/kubeflags"
	"github.com/vibestack/rollback/pkg/runbook"
)

// Clients makes the API clients of the commands. The Factory's default
// reads the kubeconfig with every cluster flag (kubeflags); command tests put
// fake clientsets in.
type Clients interface {
	// ForContext returns a clientset for the kubeconfig context contextName
	// ("" = the context the flags select) and the namespace to use:
	// namespace when given, else -n, else the context's default.
	ForContext(contextName, namespace string) (kubernetes.Interface, string, error)
}

// kubeClients are the Clients of the kubeconfig and the cluster flags.
type kubeClients struct{ kube *kubeflags.ConfigFlags }

// ForContext loads the kubeconfig with the flags (--as, --token, --server,
// --request-timeout, ... apply to every context) and builds a clientset.
func (k kubeClients) ForContext(contextName, namespace string) (kubernetes.Interface, string, error) {
	loader := k.kube.ForContext(contextName, namespace)
	if contextName != "" {
		raw, err := loader.RawConfig()
		if err != nil {
			return nil, "", exitcode.AsRefused(fmt.Errorf("load kubeconfig: %w", err))
		}
		if _, ok := raw.Contexts[contextName]; !ok {
			return nil, "", exitcode.AsRefused(fmt.Errorf("load kubeconfig: context %q not found in %s: use one of [%s] or fix the runbook's clusters",
				contextName, kubeconfigSource(loader.ConfigAccess()), strings.Join(contextNames(raw.Contexts), ", ")))
		}
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", exitcode.AsRefused(fmt.Errorf("load kubeconfig: %w", err))
	}
	// Checks and bulk undos make a few requests per Deployment at once; the
	// client's default 5 requests/s would serialize them.
	cfg.QPS, cfg.Burst = 100, 200
	// Watches of many pods decode faster and with less garbage as protobuf.
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("create kubernetes client: %w", err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("read namespace from kubeconfig: %w", err)
	}
	return cs, ns, nil
}

// clusterClient returns a clientset and the namespace of one kubeconfig
// context named in the runbook, with every cluster flag applied;
// contextName "" means the context the flags select. namespace, when set,
// is the namespace to use.
func clusterClient(f *Factory, contextName, namespace string) (kubernetes.Interface, string, error) {
	return f.Clients.ForContext(contextName, namespace)
}

// kubeconfigSource names where the kubeconfig was read from, for messages.
func kubeconfigSource(access clientcmd.ConfigAccess) string {
	if p := access.GetExplicitFile(); p != "" {
		return p
	}
	if files := access.GetLoadingPrecedence(); len(files) > 0 {
		return strings.Join(files, ":")
	}
	return "the kubeconfig"
}

// contextNames returns the sorted keys of a kubeconfig's contexts.
func contextNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// runbookFlag binds -f/--file and loads the runbook (explicit path, else
// runbook.Discover in the working directory).
type runbookFlag struct {
	path string
}

// add binds -f/--file to cmd.
func (r *runbookFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&r.path, "file", "f", "", "path of the runbook (default: rollback.yaml or rollback.yml in the working directory)")
}

// load reads the runbook and returns it with the path it was read from.
func (r *runbookFlag) load() (*runbook.Runbook, string, error) {
	path := r.path
	if path == "" {
		var err error
		if path, err = runbook.Discover("."); err != nil {
			return nil, "", err
		}
	}
	rb, err := runbook.Load(path)
	if err != nil {
		return nil, "", err
	}
	return rb, path, nil
}
