package sandboxenv

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// StorageClass is the sandbox's default StorageClass: claims get a volume
// at once (the sandbox's provisioner, bound by the real binder controller)
// and lose it with the claim.
const StorageClass = "standard"

// StatefulSetOptions shapes the StatefulSet made by CreateStatefulSet.
type StatefulSetOptions struct {
	// Replicas defaults to 3.
	Replicas int32
	// Parallel selects podManagementPolicy Parallel; the default is
	// OrderedReady (one pod at a time, each after the one before is Ready).
	Parallel bool
	// OnDelete selects the OnDelete update strategy; the default is
	// RollingUpdate.
	OnDelete bool
	// Partition is the RollingUpdate partition: ordinals below it keep the
	// old revision.
	Partition int32
	// NoVolumes drops the volumeClaimTemplate "data" (1Gi, mounted at
	// /data) that every pod gets by default.
	NoVolumes bool
	// Mutate, when set, edits the StatefulSet before it is created.
	Mutate func(*appsv1.StatefulSet)
}

// CreateStatefulSet creates StatefulSet namespace/name running image (one
// container "app", labels app=name) and its headless governing Service
// name, whose sandbox HTTP endpoint Endpoint returns. It returns at once;
// WaitStatefulSetRolledOut waits for the pods.
func (sb *Sandbox) CreateStatefulSet(t testing.TB, namespace, name, image string, opts StatefulSetOptions) *appsv1.StatefulSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	labels := map[string]string{"app": name}
	replicas := opts.Replicas
	if replicas == 0 {
		replicas = 3
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name,
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &opts.Partition}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	if opts.Parallel {
		sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	}
	if opts.OnDelete {
		sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	}
	if !opts.NoVolumes {
		sts.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}}
	}
	if opts.Mutate != nil {
		opts.Mutate(sts)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: sts.Spec.ServiceName, Namespace: namespace},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: labels,
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if _, err := sb.Clientset.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service %s/%s: %v", namespace, svc.Name, err)
	}
	created, err := sb.Clientset.AppsV1().StatefulSets(namespace).Create(ctx, sts, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create statefulset %s/%s: %v", namespace, name, err)
	}
	return created
}

// StatefulSet returns StatefulSet namespace/name.
func (sb *Sandbox) StatefulSet(t testing.TB, namespace, name string) *appsv1.StatefulSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	sts, err := sb.Clientset.AppsV1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get statefulset %s/%s: %v", namespace, name, err)
	}
	return sts
}

// WaitStatefulSetRolledOut waits (up to a minute) for what `kubectl rollout
// status` waits for: the controller has seen the latest generation, every
// replica is Ready, and every pod is at the update revision, or, with a
// partition, every pod from the partition up. With OnDelete, which kubectl
// refuses, it waits for every replica to be Ready only.
func (sb *Sandbox) WaitStatefulSetRolledOut(t testing.TB, namespace, name string) {
	t.Helper()
	sb.waitFor(t, "statefulset "+namespace+"/"+name+" to roll out", func() bool {
		sts := sb.StatefulSet(t, namespace, name)
		st, replicas := sts.Status, *sts.Spec.Replicas
		if st.ObservedGeneration == 0 || st.ObservedGeneration < sts.Generation || st.ReadyReplicas < replicas {
			return false
		}
		switch u := sts.Spec.UpdateStrategy; {
		case u.Type == appsv1.OnDeleteStatefulSetStrategyType:
			return true
		case u.RollingUpdate != nil && u.RollingUpdate.Partition != nil && *u.RollingUpdate.Partition > 0:
			return st.UpdatedReplicas >= replicas-*u.RollingUpdate.Partition
		}
		return st.UpdateRevision == st.CurrentRevision
	})
}

// SetStatefulSetImage ships image in container "app" of StatefulSet
// namespace/name as a new revision, recording kubernetes.io/change-cause
// "deploy IMAGE", and returns without waiting.
func (sb *Sandbox) SetStatefulSetImage(t testing.TB, namespace, name, image string) {
	t.Helper()
	sb.setImage(t, "statefulsets", namespace, name, image)
}
