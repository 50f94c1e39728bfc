package configs

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"

	"github.com/vibestack/rollback/pkg/outcome"
)

// History lists the configuration a Deployment uses and the versions and
// snapshots available for each object.
type History struct {
	Deployments appsv1client.DeploymentInterface
	Store       Store
}

// HistoryResult is the configuration history of one Deployment.
type HistoryResult struct {
	Namespace  string          `json:"namespace"`
	Deployment string          `json:"deployment"`
	Configs    []ConfigHistory `json:"configs"`
}

// ConfigHistory describes one referenced ConfigMap or Secret.
type ConfigHistory struct {
	Ref
	// Version is set for versioned objects.
	Version *Version `json:"version,omitempty"`
	// Problem says why the object could not be described ("missing", "forbidden").
	Problem string `json:"problem,omitempty"`
	// Current describes the referenced object.
	Current *Summary `json:"current,omitempty"`
	// Versions lists every version of a versioned object, oldest first.
	Versions []Summary `json:"versions,omitempty"`
	// Snapshots lists the snapshots of the object, newest first.
	Snapshots []Summary `json:"snapshots,omitempty"`
}

// Summary describes an object's contents without their values.
type Summary struct {
	Name            string    `json:"name"`
	Version         string    `json:"version,omitempty"`
	ResourceVersion string    `json:"resourceVersion"`
	Time            time.Time `json:"time"`
	Immutable       bool      `json:"immutable,omitempty"`
	Hash            string    `json:"hash"`
	Keys            []KeyInfo `json:"keys"`
	Current         bool      `json:"current,omitempty"`
	// SourceResourceVersion and Reason are set for snapshots.
	SourceResourceVersion string `json:"sourceResourceVersion,omitempty"`
	Reason                string `json:"reason,omitempty"`
}

func summarize(o *Object) Summary {
	s := Summary{Name: o.Name, ResourceVersion: o.ResourceVersion, Time: o.Created, Immutable: o.Immutable, Hash: o.Hash(), Keys: o.Keys()}
	if o.Labels[LabelSnapshot] == "true" {
		s.Time = SnapshotTime(o)
		s.SourceResourceVersion = o.Annotations[AnnotationSourceResourceVersion]
		s.Reason = o.Annotations[AnnotationReason]
	}
	return s
}

// Run describes the configuration of the named Deployment.
func (h History) Run(ctx context.Context, name string) (*HistoryResult, error) {
	d, err := h.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, outcome.AsRefused(fmt.Errorf("get deployment %s/%s: not found; check the name and -n NAMESPACE", h.Store.Namespace, name))
		}
		return nil, fmt.Errorf("get deployment %s/%s: %w", h.Store.Namespace, name, err)
	}
	res := &HistoryResult{Namespace: h.Store.Namespace, Deployment: name, Configs: []ConfigHistory{}}
	for _, ref := range References(&d.Spec.Template.Spec) {
		ch := ConfigHistory{Ref: ref}
		cur, err := h.Store.Get(ctx, ref.Kind, ref.Name)
		var coded *outcome.Error
		switch {
		case apierrors.IsNotFound(err):
			ch.Problem = "missing: pods referencing it fail with CreateContainerConfigError unless the reference is optional"
		case errors.As(err, &coded) && coded.Kind == outcome.Refused:
			ch.Problem = "forbidden: you may not read it"
			res.Configs = append(res.Configs, ch)
			continue
		case err != nil:
			return nil, err
		}
		if cur == nil && ch.Problem != "" {
			if v, ok := ParseVersion(ref.Name, nil); ok {
				ch.Version = &v
				objs, vers, err := versionsOf(ctx, h.Store, ref.Kind, v.Base)
				if err != nil {
					return nil, err
				}
				for i, o := range objs {
					vs := summarize(o)
					vs.Version = vers[i].Tag()
					ch.Versions = append(ch.Versions, vs)
				}
			}
		}
		if cur != nil {
			s := summarize(cur)
			s.Current = true
			if v, ok := ParseVersion(cur.Name, cur.Labels); ok {
				ch.Version = &v
				s.Version = v.Tag()
				objs, vers, err := versionsOf(ctx, h.Store, ref.Kind, v.Base)
				if err != nil {
					return nil, err
				}
				for i, o := range objs {
					vs := summarize(o)
					vs.Version, vs.Current = vers[i].Tag(), o.Name == cur.Name
					ch.Versions = append(ch.Versions, vs)
				}
			}
			ch.Current = &s
		}
		snaps, err := Snapshotter{Store: h.Store}.List(ctx, ref.Kind, ref.Name)
		if err != nil {
			return nil, err
		}
		for _, o := range snaps {
			ch.Snapshots = append(ch.Snapshots, summarize(o))
		}
		res.Configs = append(res.Configs, ch)
	}
	return res, nil
}
