package command

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/featureflags"
	"github.com/vibestack/rollback/pkg/preflight"
	"github.com/vibestack/rollback/pkg/runbook"
)

// flagTargetFlags say where the feature flags are: the runbook's
// featureFlags, or --configmap in the namespace of -n.
type flagTargetFlags struct {
	file      string
	configMap string
}

func (t *flagTargetFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&t.file, "file", "f", "", "runbook naming the flags ConfigMap (default: rollback.yaml or rollback.yml in the working directory)")
	cmd.Flags().StringVar(&t.configMap, "configmap", "", "name of the ConfigMap holding the flags (instead of the runbook's featureFlags.configMap)")
}

// flagTarget is the resolved flag provider and where it lives.
type flagTarget struct {
	cs        kubernetes.Interface
	namespace string
	app       string
	runbook   string
	// escalation lists the runbook's contacts, "role: name (contact)".
	escalation []string
	provider   *featureflags.ConfigMap
}

// resolve finds the flags ConfigMap: --configmap, else the runbook's
// featureFlags (whose namespace and first cluster's context apply unless -n
// or --context are given).
func (t *flagTargetFlags) resolve(f *Factory) (*flagTarget, error) {
	name, ns, app := t.configMap, "", ""
	var rbPath string
	var escalation []string
	if name == "" {
		path := t.file
		if path == "" {
			p, err := runbook.Discover(".")
			if err != nil {
				return nil, fmt.Errorf("%w (or pass --configmap NAME)", err)
			}
			path = p
		}
		rb, err := runbook.Load(path)
		if err != nil {
			return nil, err
		}
		if rb.FeatureFlags == nil {
			return nil, exitcode.AsRefused(errors.New("find feature flags: the runbook sets no featureFlags: add featureFlags.configMap to it or pass --configmap NAME"))
		}
		name, ns, app = rb.FeatureFlags.ConfigMap, rb.FeatureFlags.Namespace, rb.App
		rbPath, escalation = path, preflight.Escalation(rb.Escalation)
		if f.Kube.Context != nil && *f.Kube.Context == "" && len(rb.Clusters) > 0 {
			*f.Kube.Context = rb.Clusters[0].Context
		}
	}
	cs, kubeNS, err := appClients(f)
	if err != nil {
		return nil, err
	}
	if ns == "" || (f.Kube.Namespace != nil && *f.Kube.Namespace != "") {
		ns = kubeNS
	}
	return &flagTarget{
		cs: cs, namespace: ns, app: app, runbook: rbPath, escalation: escalation,
		provider: &featureflags.ConfigMap{ConfigMaps: cs.CoreV1().ConfigMaps(ns), Name: name, Namespace: ns},
	}, nil
}
