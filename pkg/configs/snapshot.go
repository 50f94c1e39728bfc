package configs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
)

// DefaultKeep is how many snapshots per object are kept when Keep is 0.
const DefaultKeep = 10

// Snapshotter stores immutable copies of ConfigMaps and Secrets in the
// cluster (Secrets stay Secrets) and prunes old ones.
type Snapshotter struct {
	Store Store
	Clock clock.PassiveClock
	// Keep is how many snapshots per object to keep; 0 means DefaultKeep.
	Keep int
}

// SnapshotResult reports one snapshot: the object it copies, its name, and
// whether it was created or an identical newest snapshot was reused.
type SnapshotResult struct {
	Kind      Kind     `json:"kind"`
	Source    string   `json:"source"`
	SourceRV  string   `json:"sourceResourceVersion"`
	Snapshot  string   `json:"snapshot"`
	Created   bool     `json:"created"`
	Hash      string   `json:"hash"`
	Keys      int      `json:"keys"`
	Pruned    []string `json:"pruned,omitempty"`
	Immutable bool     `json:"-"`
}

// Take stores a snapshot of obj unless the newest snapshot of it already
// holds the same contents, then prunes snapshots beyond Keep.
func (s Snapshotter) Take(ctx context.Context, obj *Object, reason string) (*SnapshotResult, error) {
	existing, err := s.List(ctx, obj.Kind, obj.Name)
	if err != nil {
		return nil, err
	}
	hash := obj.Hash()
	res := &SnapshotResult{Kind: obj.Kind, Source: obj.Name, SourceRV: obj.ResourceVersion, Hash: hash, Keys: len(obj.Values())}
	if len(existing) > 0 && existing[0].Annotations[AnnotationContentHash] == hash {
		res.Snapshot = existing[0].Name
	} else {
		now := s.Clock.Now().UTC()
		snap := &Object{
			Kind:       obj.Kind,
			Namespace:  obj.Namespace,
			Name:       SnapshotName(obj.Name, now, hash),
			Immutable:  true,
			SecretType: obj.SecretType,
			Data:       obj.Data,
			BinaryData: obj.BinaryData,
			Labels: map[string]string{
				LabelSnapshot:   "true",
				LabelSnapshotOf: labelValue(obj.Name),
			},
			Annotations: map[string]string{
				AnnotationSourceName:            obj.Name,
				AnnotationSourceResourceVersion: obj.ResourceVersion,
				AnnotationSnapshotTime:          now.Format(time.RFC3339Nano),
				AnnotationContentHash:           hash,
				AnnotationReason:                reason,
			},
		}
		if _, err := s.Store.Create(ctx, snap); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("snapshot %s: %w", describe(obj.Kind, obj.Namespace, obj.Name), err)
		}
		res.Snapshot, res.Created = snap.Name, true
		existing = append([]*Object{snap}, existing...)
	}
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	for i := keep; i < len(existing); i++ {
		if existing[i].Name == res.Snapshot {
			continue
		}
		if err := s.Store.Delete(ctx, obj.Kind, existing[i].Name); err != nil {
			return res, fmt.Errorf("prune snapshots of %s: %w", describe(obj.Kind, obj.Namespace, obj.Name), err)
		}
		res.Pruned = append(res.Pruned, existing[i].Name)
	}
	return res, nil
}

// List returns the snapshots of the named object, newest first.
func (s Snapshotter) List(ctx context.Context, kind Kind, name string) ([]*Object, error) {
	sel := labels.Set{LabelSnapshot: "true", LabelSnapshotOf: labelValue(name)}.AsSelector().String()
	all, err := s.Store.List(ctx, kind, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, err
	}
	var out []*Object
	for _, o := range all {
		if o.Annotations[AnnotationSourceName] == name {
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := SnapshotTime(out[i]), SnapshotTime(out[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

// SnapshotTime returns when a snapshot was taken.
func SnapshotTime(o *Object) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, o.Annotations[AnnotationSnapshotTime]); err == nil {
		return t
	}
	return o.Created
}

// SnapshotName returns the name of a snapshot of name taken at t with
// content hash hash: "NAME.snap-20261126-013000-HASH".
func SnapshotName(name string, t time.Time, hash string) string {
	suffix := ".snap-" + t.UTC().Format("20060102-150405") + "-" + hash
	if max := 253 - len(suffix); len(name) > max {
		name = name[:max]
	}
	return name + suffix
}

// labelValue returns name, or a shortened name with a hash when name is too
// long for a label value.
func labelValue(name string) string {
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:52] + "-" + hex.EncodeToString(sum[:])[:10]
}
