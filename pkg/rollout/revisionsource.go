package rollout

import (
	"context"
	"encoding/json"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// revisionSource is the object that holds one revision of a workload: a
// ReplicaSet of a Deployment, or a ControllerRevision of a StatefulSet or
// DaemonSet, whose data is the pod template as a strategic merge patch
// ({"spec":{"template":{...,"$patch":"replace"}}}).
type revisionSource struct {
	rs *appsv1.ReplicaSet
	cr *appsv1.ControllerRevision
	// tmpl is the revision's pod template: the ReplicaSet's, or the one
	// decoded from the ControllerRevision's data (nil when it does not decode).
	tmpl *corev1.PodTemplateSpec
}

func replicaSetSource(rs *appsv1.ReplicaSet) *revisionSource {
	return &revisionSource{rs: rs, tmpl: &rs.Spec.Template}
}

func controllerRevisionSource(cr *appsv1.ControllerRevision) *revisionSource {
	return &revisionSource{cr: cr, tmpl: decodeTemplate(cr)}
}

// decodeTemplate returns the pod template a ControllerRevision of a
// StatefulSet or DaemonSet records, nil when its data holds none.
func decodeTemplate(cr *appsv1.ControllerRevision) *corev1.PodTemplateSpec {
	raw := cr.Data.Raw
	if len(raw) == 0 && cr.Data.Object != nil {
		var err error
		if raw, err = json.Marshal(cr.Data.Object); err != nil {
			return nil
		}
	}
	var data struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil
	}
	return data.Spec.Template
}

func (s *revisionSource) meta() *metav1.ObjectMeta {
	if s.rs != nil {
		return &s.rs.ObjectMeta
	}
	return &s.cr.ObjectMeta
}

// number is the revision number: the Deployment controller's annotation,
// or the ControllerRevision's revision.
func (s *revisionSource) number() int64 {
	if s.rs != nil {
		return revisionNumber(s.rs)
	}
	return s.cr.Revision
}

// statefulSetHashLabel is the label the StatefulSet controller puts the
// hash of a ControllerRevision's data in (k8s.io/kubernetes
// pkg/controller/history); the DaemonSet controller uses
// controller-revision-hash.
const statefulSetHashLabel = "controller.kubernetes.io/hash"

// hash is what labels the revision and what its stamps are made for: the
// ReplicaSet's pod-template-hash, or the hash of the ControllerRevision's
// data (its controller-revision-hash label for a DaemonSet,
// controller.kubernetes.io/hash for a StatefulSet; its name, which ends
// with the hash, when it has neither).
func (s *revisionSource) hash() string {
	if s.rs != nil {
		return s.rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	}
	if h := s.cr.Labels[appsv1.ControllerRevisionHashLabelKey]; h != "" {
		return h
	}
	if h := s.cr.Labels[statefulSetHashLabel]; h != "" {
		return h
	}
	return s.cr.Name
}

// images lists the revision's images.
func (s *revisionSource) images() []string {
	if s.tmpl == nil {
		return nil
	}
	return templateImages(s.tmpl)
}

// sameTemplate reports whether the revision holds o's pod template,
// exactly as each controller decides it (the Deployment's ignoring the
// pod-template-hash label it adds).
func (s *revisionSource) sameTemplate(o object) bool {
	if s.tmpl == nil {
		return false
	}
	if s.rs != nil {
		return equalIgnoreHash(s.tmpl, o.template())
	}
	return apiequality.Semantic.DeepEqual(s.tmpl, o.template())
}

// ref names the revision for callers.
func (s *revisionSource) ref(k Kind) RevisionRef {
	return RevisionRef{Kind: k, Object: s.meta().Name, Hash: s.hash()}
}

// RevisionRef names the object that holds one revision of a workload and
// so the label its pods carry.
type RevisionRef struct {
	// Kind is the workload's kind.
	Kind Kind `json:"kind"`
	// Object is the ReplicaSet (Deployment) or ControllerRevision
	// (StatefulSet, DaemonSet) that holds the revision.
	Object string `json:"object"`
	// Hash is its pod-template-hash or controller-revision-hash: the value
	// the known-good stamp is made for.
	Hash string `json:"hash"`
}

// podLabel returns the label its pods carry: pod-template-hash=HASH for
// a Deployment, controller-revision-hash=NAME for a StatefulSet (the
// ControllerRevision's name), controller-revision-hash=HASH for a DaemonSet.
func (r RevisionRef) podLabel() (key, value string) {
	switch r.Kind {
	case KindStatefulSet:
		return appsv1.ControllerRevisionHashLabelKey, r.Object
	case KindDaemonSet:
		return appsv1.ControllerRevisionHashLabelKey, r.Hash
	}
	return appsv1.DefaultDeploymentUniqueLabelKey, r.Hash
}

// PodSelector returns the label selector of the revision's pods.
func (r RevisionRef) PodSelector() string {
	k, v := r.podLabel()
	return labels.Set{k: v}.String()
}

// holds reports whether pod belongs to the revision (by its label; the
// caller has checked that the workload controls it).
func (r RevisionRef) holds(pod *corev1.Pod) bool {
	k, v := r.podLabel()
	return v != "" && pod.Labels[k] == v
}

// sortPods sorts pods by name, so that the first failing pod reported is
// always the same one.
func sortPods(pods []*corev1.Pod) {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
}

// sourceOf wraps a ReplicaSet or ControllerRevision; nil for anything else.
func sourceOf(obj any) *revisionSource {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return replicaSetSource(o)
	case *appsv1.ControllerRevision:
		return controllerRevisionSource(o)
	}
	return nil
}

// CurrentRevision returns the current revision of workload (a
// *appsv1.Deployment, *appsv1.StatefulSet or *appsv1.DaemonSet) among
// objs, the ReplicaSets or ControllerRevisions of its namespace (those it
// does not control are ignored), with its health and known-good mark; nil
// when its controller has not observed its generation yet or no revision
// holds its template. It reads nothing: callers pass their caches.
func CurrentRevision(workload any, objs []any) *Revision {
	o, ok := objectOf(workload)
	if !ok || !o.observed() {
		return nil
	}
	var srcs []*revisionSource
	for _, obj := range objs {
		if s := sourceOf(obj); s != nil {
			srcs = append(srcs, s)
		}
	}
	revs := revisions(o, srcs, nil)
	if cur := current(revs); cur != nil {
		c := *cur
		return &c
	}
	return nil
}

// ReadCurrent reads workload (kubectl's resource syntax) and the objects
// that hold its revisions (two requests) and returns it with its current
// revision, judged as CurrentRevision judges it (nil when there is none yet).
func ReadCurrent(ctx context.Context, c Clients, workload string) (*WorkloadInfo, *Revision, error) {
	o, err := getWorkload(ctx, c, workload)
	if err != nil {
		return nil, nil, err
	}
	srcs, err := revisionSources(ctx, c, o)
	if err != nil {
		return nil, nil, err
	}
	if !o.observed() {
		return o.info(), nil, nil
	}
	if cur := current(revisions(o, srcs, nil)); cur != nil {
		r := *cur
		return o.info(), &r, nil
	}
	return o.info(), nil, nil
}

// FindRevision returns the revision of workload (kubectl's resource
// syntax) that holds tmpl (a Deployment's ignoring pod-template-hash), nil
// when none does.
func FindRevision(ctx context.Context, c Clients, workload string, tmpl *corev1.PodTemplateSpec) (*Revision, error) {
	o, err := getWorkload(ctx, c, workload)
	if err != nil {
		return nil, err
	}
	srcs, err := revisionSources(ctx, c, o)
	if err != nil {
		return nil, err
	}
	for _, r := range revisions(o, srcs, nil) {
		if r.src.tmpl == nil {
			continue
		}
		if (r.src.rs != nil && equalIgnoreHash(r.src.tmpl, tmpl)) || (r.src.cr != nil && apiequality.Semantic.DeepEqual(r.src.tmpl, tmpl)) {
			rev := r
			return &rev, nil
		}
	}
	return nil, nil
}
