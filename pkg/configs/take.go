package configs

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Snapshot stores a snapshot of every ConfigMap and Secret a Deployment
// references (`rollback config snapshot`).
type Snapshot struct {
	Deployments appsv1client.DeploymentInterface
	Store       Store
	Clock       clock.PassiveClock
	// Keep is how many snapshots per object to keep (0: DefaultKeep).
	Keep int
	// Reason is recorded on each snapshot; empty means "manual".
	Reason string
}

// SnapshotAllResult reports the snapshots taken for one Deployment.
type SnapshotAllResult struct {
	Namespace  string            `json:"namespace"`
	Deployment string            `json:"deployment"`
	Snapshots  []*SnapshotResult `json:"snapshots"`
	// Missing lists referenced objects that do not exist (nothing to copy).
	Missing []string `json:"missing,omitempty"`
}

// Run snapshots every object the named Deployment references. Every
// object is read before anything is written, so a Secret the caller may
// not read stops the command before any snapshot is stored.
func (s Snapshot) Run(ctx context.Context, name string) (*SnapshotAllResult, error) {
	d, err := s.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, outcome.AsRefused(fmt.Errorf("get deployment %s/%s: not found; check the name and -n NAMESPACE", s.Store.Namespace, name))
		}
		return nil, fmt.Errorf("get deployment %s/%s: %w", s.Store.Namespace, name, err)
	}
	res := &SnapshotAllResult{Namespace: s.Store.Namespace, Deployment: name, Snapshots: []*SnapshotResult{}}
	var objs []*Object
	for _, ref := range References(&d.Spec.Template.Spec) {
		o, err := s.Store.Get(ctx, ref.Kind, ref.Name)
		if apierrors.IsNotFound(err) {
			res.Missing = append(res.Missing, ref.String())
			continue
		}
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	reason := s.Reason
	if reason == "" {
		reason = "manual"
	}
	snap := Snapshotter{Store: s.Store, Clock: s.Clock, Keep: s.Keep}
	for _, o := range objs {
		r, err := snap.Take(ctx, o, reason)
		if err != nil {
			return res, err
		}
		res.Snapshots = append(res.Snapshots, r)
	}
	return res, nil
}
