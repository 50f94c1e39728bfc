package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	storagehelpers "k8s.io/component-helpers/storage/volume"
	"k8s.io/klog/v2"
)

// StorageClassName is the sandbox's default StorageClass, served by
// Provisioner: a claim (from a StatefulSet's volumeClaimTemplates, say) gets
// a PersistentVolume at once, which the real persistentvolume-binder
// controller binds, and which is deleted with the claim. The volumes hold
// no data and nothing is written to disk.
const (
	StorageClassName = "standard"
	Provisioner      = "volumes.sandbox.rollback.dev"
)

// ensureStorageClass creates the default StorageClass (or replaces one
// with another provisioner, left by an older sandbox in the same state).
func ensureStorageClass(ctx context.Context, cs kubernetes.Interface) error {
	classes := cs.StorageV1().StorageClasses()
	old, err := classes.Get(ctx, StorageClassName, metav1.GetOptions{})
	if err == nil && old.Provisioner == Provisioner {
		return nil
	}
	if err == nil {
		if err := classes.Delete(ctx, StorageClassName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replace StorageClass %s: %w", StorageClassName, err)
		}
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	binding := storagev1.VolumeBindingImmediate
	_, err = classes.Create(ctx, &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: StorageClassName, Annotations: map[string]string{
			"storageclass.kubernetes.io/is-default-class": "true",
		}},
		Provisioner:       Provisioner,
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &binding,
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass %s: %w", StorageClassName, err)
	}
	return nil
}

// provisioner is the external provisioner of StorageClassName: it creates a
// volume for each claim the binder hands to it (annotation
// volume.kubernetes.io/storage-provisioner) and deletes its volumes once
// they are Released.
type provisioner struct {
	client  kubernetes.Interface
	claims  corev1listers.PersistentVolumeClaimLister
	volumes corev1listers.PersistentVolumeLister
	queue   workqueue.TypedRateLimitingInterface[string]
}

// Queue keys: "claim/NAMESPACE/NAME" and "volume/NAME".
const (
	claimKeyPrefix  = "claim/"
	volumeKeyPrefix = "volume/"
)

func startProvisioner(ctx context.Context, wg *sync.WaitGroup, cs kubernetes.Interface, factory informers.SharedInformerFactory) error {
	p := &provisioner{
		client:  cs,
		claims:  factory.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: factory.Core().V1().PersistentVolumes().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](10*time.Millisecond, 5*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "sandbox-volumes"}),
	}
	handler := func(prefix string) cache.ResourceEventHandlerFuncs {
		add := func(obj any) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				p.queue.Add(prefix + key)
			}
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }}
	}
	if _, err := factory.Core().V1().PersistentVolumeClaims().Informer().AddEventHandler(handler(claimKeyPrefix)); err != nil {
		return fmt.Errorf("volume provisioner: %w", err)
	}
	if _, err := factory.Core().V1().PersistentVolumes().Informer().AddEventHandler(handler(volumeKeyPrefix)); err != nil {
		return fmt.Errorf("volume provisioner: %w", err)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for p.processNext(ctx) {
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		p.queue.ShutDown()
	}()
	return nil
}

func (p *provisioner) processNext(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	var err error
	if claim, ok := strings.CutPrefix(key, claimKeyPrefix); ok {
		err = p.provision(ctx, claim)
	} else if volume, ok := strings.CutPrefix(key, volumeKeyPrefix); ok {
		err = p.reclaim(ctx, volume)
	}
	if err != nil && ctx.Err() == nil {
		klog.InfoS("volume provisioner: retrying", "key", key, "err", err)
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// provision creates the volume of a pending claim handed to Provisioner.
func (p *provisioner) provision(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pvc, err := p.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || pvc.Annotations[storagehelpers.AnnStorageProvisioner] != Provisioner {
		return nil
	}
	pvName := "pvc-" + string(pvc.UID)
	if _, err := p.volumes.Get(pvName); err == nil {
		return nil
	}
	modes := pvc.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName, Annotations: map[string]string{
			storagehelpers.AnnDynamicallyProvisioned: Provisioner,
		}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              class,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: Provisioner, VolumeHandle: pvName}},
		},
	}
	_, err = p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// reclaim deletes a volume of Provisioner once its claim is gone.
func (p *provisioner) reclaim(ctx context.Context, name string) error {
	pv, err := p.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.Annotations[storagehelpers.AnnDynamicallyProvisioned] != Provisioner || pv.DeletionTimestamp != nil ||
		pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return nil
	}
	err = p.client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
