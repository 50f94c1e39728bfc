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

// Revision is one revision of a Deployment: one of its ReplicaSets.
type Revision struct {
	Number       int64      `json:"revision"`
	ReplicaSet   string     `json:"replicaSet"`
	Hash         string     `json:"podTemplateHash"`
	Images       []string   `json:"images"`
	ChangeCause  string     `json:"changeCause,omitempty"`
	Created      time.Time  `json:"created"`
	Replicas     int32      `json:"replicas"`
	Ready        int32      `json:"readyReplicas"`
	Available    int32      `json:"availableReplicas"`
	Health       string     `json:"health"`
	KnownGoodAt  *time.Time `json:"knownGoodAt,omitempty"`
	KnownGoodBy  string     `json:"knownGoodBy,omitempty"`
	FailedAt     *time.Time `json:"failedAt,omitempty"`
	FailedReason string     `json:"failedReason,omitempty"`
	Current      bool       `json:"current"`
	LastGood     bool       `json:"lastKnownGood"`

	rs *appsv1.ReplicaSet
}

// revisionOf describes rs.
func revisionOf(rs *appsv1.ReplicaSet) Revision {
	n := revisionNumber(rs)
	hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	r := Revision{
		Number:      n,
		ReplicaSet:  rs.Name,
		Hash:        hash,
		Images:      templateImages(&rs.Spec.Template),
		ChangeCause: rs.Annotations[changeCauseAnnotation],
		Created:     rs.CreationTimestamp.Time,
		Replicas:    rs.Status.Replicas,
		Ready:       rs.Status.ReadyReplicas,
		Available:   rs.Status.AvailableReplicas,
		Health:      HealthUnverified,
		rs:          rs,
	}
	a := rs.Annotations
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

// revisions returns the revisions of d found in rss (ReplicaSets d controls),
// oldest first, with the current and last known good ones marked.
func revisions(d *appsv1.Deployment, rss []appsv1.ReplicaSet) []Revision {
	var out []Revision
	for i := range rss {
		rs := &rss[i]
		if !metav1.IsControlledBy(rs, d) {
			continue
		}
		r := revisionOf(rs)
		r.Current = equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	if g := lastGood(out); g != nil {
		g.LastGood = true
	}
	return out
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
