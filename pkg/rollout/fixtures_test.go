package rollout

import (
	"context"
	"fmt"
	goldenfile "github.com/vibestack/rollback/internal/golden"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Assert(t, filepath.Join("testdata", name), []byte(got))
}

var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// deployment returns Deployment "web" in namespace "shop" running image.
func deployment(image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: types.UID("dep-uid"), ResourceVersion: "100", Generation: 4,
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "3"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template(image),
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 4, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3},
	}
}

func template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

// replicaSet returns revision n of d with image; stamp is "", "good" or "failed".
func replicaSet(d *appsv1.Deployment, n int, image, stamp string) appsv1.ReplicaSet {
	hash := fmt.Sprintf("h%d", n)
	tmpl := template(image)
	tmpl.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	rs := appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-" + hash, Namespace: d.Namespace, UID: types.UID("rs-" + hash),
			Labels:            map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash},
			CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(n) * time.Minute)),
			Annotations: map[string]string{
				"deployment.kubernetes.io/revision": fmt.Sprint(n),
				changeCauseAnnotation:               "deploy " + image,
			},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{Template: tmpl},
	}
	at := t0.Add(time.Duration(n)*time.Minute + 30*time.Second).Format(time.RFC3339Nano)
	switch stamp {
	case "good":
		rs.Annotations[AnnotationKnownGoodAt] = at
		rs.Annotations[AnnotationKnownGoodHash] = hash
		rs.Annotations[AnnotationKnownGoodBy] = "mark-good"
	case "failed":
		rs.Annotations[AnnotationFailedAt] = at
		rs.Annotations[AnnotationFailedHash] = hash
		rs.Annotations[AnnotationFailedReason] = "pod web-h3-a container app: CrashLoopBackOff: back-off"
	case "copied":
		// a stamp copied from another ReplicaSet: the hash does not match
		rs.Annotations[AnnotationKnownGoodAt] = at
		rs.Annotations[AnnotationKnownGoodHash] = "other"
	}
	return rs
}

// web names the test Deployment.
var web = Workload{Kind: KindDeployment, Name: "web"}

// planDeployment plans the undo of d from its ReplicaSets rss.
func planDeployment(d *appsv1.Deployment, rss []appsv1.ReplicaSet, o PlanOptions) (*Plan, error) {
	return planUndo(context.Background(), object{d: d}, sources(rss), nil, o)
}

// deploymentRevisions returns d's revisions among rss.
func deploymentRevisions(d *appsv1.Deployment, rss []appsv1.ReplicaSet) []Revision {
	return revisions(object{d: d}, sources(rss), nil)
}

func sources(rss []appsv1.ReplicaSet) []*revisionSource {
	out := make([]*revisionSource, len(rss))
	for i := range rss {
		out[i] = replicaSetSource(&rss[i])
	}
	return out
}
