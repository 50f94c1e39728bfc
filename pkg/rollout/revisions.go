package rollout

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Health values of a revision.
const (
	// HealthGood means the revision carries a valid known-good stamp.
	HealthGood = "good"
	// HealthFailed means rollback watched the revision fail and never saw it healthy.
	HealthFailed = "failed"
	// HealthUnverified means rollback has never judged the revision.
	HealthUnverified = "unverified"
)

// changeCauseAnnotation is the annotation kubectl reads for CHANGE-CAUSE.
const changeCauseAnnotation = "kubernetes.io/change-cause"

// Revision is one revision of a workload: one of a Deployment's
// ReplicaSets, or one of a StatefulSet's or DaemonSet's ControllerRevisions.
type Revision struct {
	Number int64 `json:"revision"`
	// ReplicaSet and Hash (its pod-template-hash) name a Deployment's revision.
	ReplicaSet string `json:"replicaSet,omitempty"`
	Hash       string `json:"podTemplateHash,omitempty"`
	// ControllerRevision and ControllerRevisionHash name a StatefulSet's or
	// DaemonSet's revision.
	ControllerRevision     string     `json:"controllerRevision,omitempty"`
	ControllerRevisionHash string     `json:"controllerRevisionHash,omitempty"`
	Images                 []string   `json:"images"`
	ChangeCause            string     `json:"changeCause,omitempty"`
	Created                time.Time  `json:"created"`
	Replicas               int32      `json:"replicas"`
	Ready                  int32      `json:"readyReplicas"`
	Available              int32      `json:"availableReplicas"`
	Health                 string     `json:"health"`
	KnownGoodAt            *time.Time `json:"knownGoodAt,omitempty"`
	KnownGoodBy            string     `json:"knownGoodBy,omitempty"`
	FailedAt               *time.Time `json:"failedAt,omitempty"`
	FailedReason           string     `json:"failedReason,omitempty"`
	Current                bool       `json:"current"`
	LastGood               bool       `json:"lastKnownGood"`

	kind Kind
	src  *revisionSource
}

// Ref names the object that holds the revision (see RevisionRef); zero
// for a Revision that was not read from the cluster.
func (r Revision) Ref() RevisionRef {
	if r.src == nil {
		return RevisionRef{}
	}
	return r.src.ref(r.kind)
}

// revisionOf describes the revision src of a workload of kind k.
func revisionOf(k Kind, src *revisionSource) Revision {
	hash := src.hash()
	m := src.meta()
	r := Revision{
		Number:      src.number(),
		Images:      src.images(),
		ChangeCause: m.Annotations[changeCauseAnnotation],
		Created:     m.CreationTimestamp.Time,
		Health:      HealthUnverified,
		kind:        k,
		src:         src,
	}
	if rs := src.rs; rs != nil {
		r.ReplicaSet, r.Hash = rs.Name, hash
		r.Replicas, r.Ready, r.Available = rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas
	} else {
		r.ControllerRevision, r.ControllerRevisionHash = m.Name, hash
	}
	a := m.Annotations
	if t, ok := stampTime(a, AnnotationKnownGoodAt, AnnotationKnownGoodHash, hash); ok {
		r.KnownGoodAt, r.KnownGoodBy, r.Health = &t, a[AnnotationKnownGoodBy], HealthGood
	}
	if t, ok := stampTime(a, AnnotationFailedAt, AnnotationFailedHash, hash); ok {
		r.FailedAt, r.FailedReason = &t, a[AnnotationFailedReason]
		// The newest verdict decides (see StampFailed).
		if r.KnownGoodAt == nil || t.After(*r.KnownGoodAt) {
			r.Health = HealthFailed
		}
	}
	return r
}

// stampTime returns the time of a stamp when it exists and was made for hash.
func stampTime(a map[string]string, atKey, hashKey, hash string) (time.Time, bool) {
	at, ok := a[atKey]
	if !ok || a[hashKey] != hash || hash == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// templateImages lists the images of a pod template's containers, init containers first.
func templateImages(t *corev1.PodTemplateSpec) []string {
	var out []string
	for _, c := range t.Spec.InitContainers {
		out = append(out, c.Image)
	}
	for _, c := range t.Spec.Containers {
		out = append(out, c.Image)
	}
	return out
}

// revisions returns the revisions of o found in srcs (the ReplicaSets or
// ControllerRevisions it controls), oldest first, with the current and
// last known good ones marked. pods (those of o's selector, nil when not
// read) count the replicas of a ControllerRevision, which has no status.
func revisions(o object, srcs []*revisionSource, pods []*corev1.Pod) []Revision {
	var out []Revision
	k := o.kind()
	for _, src := range srcs {
		if !metav1.IsControlledBy(src.meta(), o.meta()) {
			continue
		}
		r := revisionOf(k, src)
		r.Current = src.sameTemplate(o)
		if src.cr != nil {
			ref := r.Ref()
			for _, p := range pods {
				if p.DeletionTimestamp == nil && metav1.IsControlledBy(p, o.meta()) && ref.holds(p) {
					r.Replicas++
					if PodReady(p) {
						r.Ready++
						r.Available++
					}
				}
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	if current(out) == nil {
		markControllerCurrent(o, out)
	}
	if g := lastGood(out); g != nil {
		g.LastGood = true
	}
	return out
}

// markControllerCurrent marks the revision the StatefulSet or DaemonSet
// controller calls current when no revision holds a template equal to the
// workload's (a template the API server now defaults differently than when
// the revision was recorded): the StatefulSet's update revision, the
// DaemonSet's newest revision, once the controller observed the workload.
func markControllerCurrent(o object, revs []Revision) {
	if !o.observed() || len(revs) == 0 {
		return
	}
	switch {
	case o.sts != nil:
		for i := range revs {
			if revs[i].ControllerRevision == o.sts.Status.UpdateRevision {
				revs[i].Current = true
			}
		}
	case o.ds != nil:
		revs[len(revs)-1].Current = true
	}
}

// lastGood returns the newest known-good revision, or nil.
func lastGood(revs []Revision) *Revision {
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].Health == HealthGood {
			return &revs[i]
		}
	}
	return nil
}

// current returns the revision whose template the Deployment has, or nil.
func current(revs []Revision) *Revision {
	for i := range revs {
		if revs[i].Current {
			return &revs[i]
		}
	}
	return nil
}

// find returns the revision numbered n, or nil.
func find(revs []Revision, n int64) *Revision {
	for i := range revs {
		if revs[i].Number == n {
			return &revs[i]
		}
	}
	return nil
}

// numbers lists the revision numbers of revs ("1, 3, 4").
func numbers(revs []Revision) string {
	ns := make([]int64, len(revs))
	for i, r := range revs {
		ns[i] = r.Number
	}
	return Numbers(ns)
}

// Numbers lists revision numbers for a message: "1, 3, 4", or "none".
func Numbers(ns []int64) string {
	if len(ns) == 0 {
		return "none"
	}
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// equalIgnoreHash reports whether two pod templates are equal apart from the
// pod-template-hash label, exactly as kubectl and the Deployment controller decide it.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	ac, bc := *a, *b // shallow copies: only the labels are replaced
	ac.Labels, bc.Labels = withoutHash(a.Labels), withoutHash(b.Labels)
	return apiequality.Semantic.DeepEqual(&ac, &bc)
}

// withoutHash returns labels without pod-template-hash, copying only when needed.
func withoutHash(labels map[string]string) map[string]string {
	if _, ok := labels[appsv1.DefaultDeploymentUniqueLabelKey]; !ok {
		return labels
	}
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		if k != appsv1.DefaultDeploymentUniqueLabelKey {
			out[k] = v
		}
	}
	return out
}
