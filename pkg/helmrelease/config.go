package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	rel "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Config says how to reach a release: Helm's storage and kube client
// through Getter, our marks and the workloads through Clientset.
type Config struct {
	// Getter loads the clients Helm's library uses.
	Getter genericclioptions.RESTClientGetter
	// Clientset reads the workloads and the marks ConfigMap.
	Clientset kubernetes.Interface
	// Namespace is the release's namespace.
	Namespace string
	// Driver is Helm's storage driver (HELM_DRIVER): "" or "secret",
	// "configmap", "sql", "memory".
	Driver string
	// Clock is the time source; clock.RealClock{} when nil.
	Clock clock.WithTicker
	// Logs receives Helm's own log lines; nil discards them.
	Logs io.Writer
}

func (c *Config) clock() clock.WithTicker {
	if c.Clock == nil {
		return clock.RealClock{}
	}
	return c.Clock
}

// action returns Helm's action configuration for the release namespace.
func (c *Config) action() (*action.Configuration, error) {
	w := c.Logs
	if w == nil {
		w = io.Discard
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(w, nil)))
	if err := cfg.Init(c.Getter, c.Namespace, c.Driver); err != nil {
		return nil, fmt.Errorf("open helm release storage (driver %q): %w", c.Driver, err)
	}
	return cfg, nil
}

func (c *Config) marks() marks {
	return marks{cms: c.Clientset.CoreV1().ConfigMaps(c.Namespace)}
}

// history reads every revision of release through Helm's storage, oldest first.
func history(cfg *action.Configuration, name, namespace string) ([]*rel.Release, error) {
	list, err := action.NewHistory(cfg).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(list) == 0) {
		return nil, outcome.AsRefused(fmt.Errorf("release %s not found in namespace %s: check the name and -n NAMESPACE (helm list -n %s)", name, namespace, namespace))
	}
	if err != nil {
		return nil, fmt.Errorf("read history of release %s: %w", name, err)
	}
	var out []*rel.Release
	for _, r := range list {
		switch v := r.(type) {
		case *rel.Release:
			out = append(out, v)
		case rel.Release:
			out = append(out, &v)
		default:
			return nil, fmt.Errorf("read history of release %s: unsupported release record %T", name, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// isPending reports whether a release record is pending-install, -upgrade or -rollback.
func isPending(r *rel.Release) bool { return r.Info != nil && r.Info.Status.IsPending() }

func status(r *rel.Release) rcommon.Status {
	if r.Info == nil {
		return rcommon.StatusUnknown
	}
	return r.Info.Status
}

// ctxDone returns ctx's error, for the actions of Helm's library that take
// no context.
func ctxDone(ctx context.Context) error { return ctx.Err() }
