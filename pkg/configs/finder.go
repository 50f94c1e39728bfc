package configs

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/pkg/podrefs"
)

// SnapshotFinder finds the snapshots of this package for podrefs, so that a
// refusal over a missing ConfigMap, Secret or key can name the snapshot
// that brings it back.
type SnapshotFinder struct {
	Client kubernetes.Interface
}

// FindSnapshot returns the newest snapshot of kind/name in namespace that
// holds key (any contents when key is "").
func (f SnapshotFinder) FindSnapshot(ctx context.Context, namespace string, kind podrefs.Kind, name, key string) (string, time.Time, bool, error) {
	snaps, err := Snapshotter{Store: NewStore(f.Client, namespace)}.List(ctx, Kind(kind), name)
	if err != nil {
		return "", time.Time{}, false, err
	}
	for _, s := range snaps {
		if _, ok := s.Values()[key]; key == "" || ok {
			return s.Name, SnapshotTime(s), true, nil
		}
	}
	return "", time.Time{}, false, nil
}
