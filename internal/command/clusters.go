package command

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/runbook"
)

// clusterClient returns a clientset and its REST config for one kubeconfig
// context named in the runbook, honouring the global --kubeconfig flag
// (f.Kube) but overriding the context; contextName "" means the context the
// flags select (--context, else the kubeconfig's current context). namespace,
// when set, overrides the context's default namespace in the loaded config;
// callers pass it on to the namespaced clients they build.
func clusterClient(f *Factory, contextName, namespace string) (kubernetes.Interface, *rest.Config, error) {
	cfg, _, err := clusterConfig(f, contextName, namespace)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("create kubernetes client for context %q: %w", contextName, err)
	}
	return cs, cfg, nil
}

// clusterNamespace returns namespace, or when it is "" the default namespace
// of the kubeconfig context contextName ("" = the context the flags select).
func clusterNamespace(f *Factory, contextName, namespace string) (string, error) {
	_, ns, err := clusterConfig(f, contextName, namespace)
	return ns, err
}

// clusterConfig loads the REST config and namespace of one kubeconfig context.
func clusterConfig(f *Factory, contextName, namespace string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.Kube != nil && f.Kube.KubeConfig != nil && *f.Kube.KubeConfig != "" {
		rules.ExplicitPath = *f.Kube.KubeConfig
	}
	if contextName == "" && f.Kube != nil && f.Kube.Context != nil {
		contextName = *f.Kube.Context
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: contextName}
	if namespace != "" {
		overrides.Context.Namespace = namespace
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	if contextName != "" {
		if _, ok := raw.Contexts[contextName]; !ok {
			return nil, "", exitcode.AsRefused(fmt.Errorf("load kubeconfig: context %q not found in %s: use one of [%s] or fix the runbook's clusters",
				contextName, kubeconfigSource(rules), strings.Join(contextNames(raw.Contexts), ", ")))
		}
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig context %q: %w", contextName, err)
	}
	// Checks and bulk undos make a few requests per Deployment at once; the
	// client's default 5 requests/s would serialize them.
	cfg.QPS, cfg.Burst = 100, 200
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("read namespace of context %q: %w", contextName, err)
	}
	return cfg, ns, nil
}

// kubeconfigSource names where the kubeconfig was read from, for messages.
func kubeconfigSource(rules *clientcmd.ClientConfigLoadingRules) string {
	if rules.ExplicitPath != "" {
		return rules.ExplicitPath
	}
	if len(rules.Precedence) > 0 {
		return strings.Join(rules.Precedence, ":")
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
