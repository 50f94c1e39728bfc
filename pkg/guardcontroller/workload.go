package guardcontroller

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/vibestack/rollback/pkg/rollout"
)

// keyOf names a guarded workload in the work queue and the logs:
// kind/namespace/name ("statefulset/shop/db").
func keyOf(w rollout.Workload) string {
	return w.Kind.Lower() + "/" + w.Namespace + "/" + w.Name
}

// splitKey reads a key of keyOf back; false for anything else.
func splitKey(key string) (rollout.Workload, bool) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return rollout.Workload{}, false
	}
	k, err := rollout.ParseKind(parts[0])
	if err != nil {
		return rollout.Workload{}, false
	}
	return rollout.Workload{Kind: k, Namespace: parts[1], Name: parts[2]}, true
}

// cached returns workload w from the watch caches; a NotFound error when
// it is gone.
func (c *Controller) cached(w rollout.Workload) (*rollout.WorkloadInfo, error) {
	var obj any
	var err error
	switch w.Kind {
	case rollout.KindStatefulSet:
		obj, err = c.statefulSets.StatefulSets(w.Namespace).Get(w.Name)
	case rollout.KindDaemonSet:
		obj, err = c.daemonSets.DaemonSets(w.Namespace).Get(w.Name)
	default:
		obj, err = c.deploys.Deployments(w.Namespace).Get(w.Name)
	}
	if err != nil {
		return nil, err
	}
	info, ok := rollout.InfoOf(obj)
	if !ok {
		return nil, fmt.Errorf("%s: not a workload in the cache", keyOf(w))
	}
	return info, nil
}

// fresh reads workload w from the API server.
func (c *Controller) fresh(ctx context.Context, w rollout.Workload) (*rollout.WorkloadInfo, error) {
	return rollout.GetWorkload(ctx, rollout.NewClients(c.Client, w.Namespace), w.String())
}

// current finds the current revision of info in the caches (ReplicaSets
// of a Deployment, ControllerRevisions of a StatefulSet or DaemonSet);
// nil until the workload's controller has observed it and recorded the
// revision of its template.
func (c *Controller) current(info *rollout.WorkloadInfo) (*Current, error) {
	sel, err := labels.Parse(info.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of %s: %w", info.Describe(), err)
	}
	ns := info.Namespace
	var objs []any
	if info.Kind == rollout.KindDeployment {
		list, err := c.replicaSets.ReplicaSets(ns).List(sel)
		if err != nil {
			return nil, fmt.Errorf("list replicasets of %s: %w", info.Describe(), err)
		}
		for _, rs := range list {
			objs = append(objs, rs)
		}
	} else {
		list, err := c.revisions.ControllerRevisions(ns).List(sel)
		if err != nil {
			return nil, fmt.Errorf("list controllerrevisions of %s: %w", info.Describe(), err)
		}
		for _, cr := range list {
			objs = append(objs, cr)
		}
	}
	return currentOf(rollout.CurrentRevision(info.Object, objs)), nil
}

// currentOf describes rev for the state machine; nil when rev is nil or
// not numbered and labelled yet.
func currentOf(rev *rollout.Revision) *Current {
	if rev == nil {
		return nil
	}
	hash := rev.Ref().Hash
	if hash == "" || rev.Number == 0 {
		return nil
	}
	return &Current{Hash: hash, Revision: rev.Number, KnownGood: rev.Health == rollout.HealthGood, Created: rev.Created}
}

// hashLabel names what identifies a revision of kind k: the label its
// pods carry.
func hashLabel(k rollout.Kind) string {
	if k == rollout.KindDeployment {
		return "pod-template-hash"
	}
	return "controller-revision-hash"
}
