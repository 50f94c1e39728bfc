package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// placeholder replaces every Secret value in the copy: a drill never copies
// secret data out of production.
const placeholder = "drill-placeholder"

// deployCopy copies every workload of the runbook (Deployments,
// StatefulSets, DaemonSets) at its last known good template, with the
// ConfigMaps (data) and Secrets (keys only) it references, waits until each
// is healthy (which stamps it known-good), and snapshots the configuration
// of each Deployment the way a release pipeline does.
func (d *Drill) deployCopy(ctx context.Context) error {
	src := d.Runbook.Clusters[0].Namespace
	for _, w := range d.Runbook.Workloads() {
		tmpl, rev, stamped, err := rollout.KnownGoodTemplate(ctx, rollout.NewClients(d.Client, src), w.String())
		if err != nil {
			return fmt.Errorf("drill: read %s/%s: %w", src, w, err)
		}
		if !stamped {
			d.progress("warning: %s has no known-good stamp; copying revision %d", w.Describe(), rev.Number)
		}
		if err := d.copyConfigs(ctx, src, tmpl); err != nil {
			return err
		}
		if err := d.createCopy(ctx, src, w, tmpl); err != nil {
			return err
		}
		d.progress("copied %s at revision %d (%s)", w.Describe(), rev.Number, strings.Join(rev.Images, ", "))
		if _, err := d.status().Run(ctx, w.String()); err != nil {
			return fmt.Errorf("drill: the copy of %s at its known-good version is not healthy, so the drill cannot start: %w", w, err)
		}
		if w.Kind != string(rollout.KindDeployment) {
			continue
		}
		snap := configs.Snapshot{Deployments: d.Client.AppsV1().Deployments(d.Namespace), Store: configs.NewStore(d.Client, d.Namespace),
			Clock: d.Clock, Reason: "drill baseline"}
		if _, err := snap.Run(ctx, w.Name); err != nil {
			return fmt.Errorf("drill: snapshot the copy's configuration: %w", err)
		}
	}
	return nil
}

// createCopy creates the drill's copy of workload w of namespace src with
// template tmpl: the same replicas, selector, labels and update strategy
// (a StatefulSet also keeps its volumeClaimTemplates, so each copy gets
// empty volumes of its own).
func (d *Drill) createCopy(ctx context.Context, src string, w runbook.Workload, tmpl *corev1.PodTemplateSpec) error {
	apps := d.Client.AppsV1()
	var err error
	switch w.Kind {
	case string(rollout.KindStatefulSet):
		var orig *appsv1.StatefulSet
		if orig, err = apps.StatefulSets(src).Get(ctx, w.Name, metav1.GetOptions{}); err == nil {
			_, err = apps.StatefulSets(d.Namespace).Create(ctx, &appsv1.StatefulSet{
				ObjectMeta: metav1.ObjectMeta{Name: w.Name, Labels: orig.Labels},
				Spec: appsv1.StatefulSetSpec{Replicas: orig.Spec.Replicas, Selector: orig.Spec.Selector.DeepCopy(), Template: *tmpl,
					ServiceName: orig.Spec.ServiceName, PodManagementPolicy: orig.Spec.PodManagementPolicy,
					UpdateStrategy: orig.Spec.UpdateStrategy, MinReadySeconds: orig.Spec.MinReadySeconds,
					VolumeClaimTemplates: claimTemplates(orig.Spec.VolumeClaimTemplates)},
			}, metav1.CreateOptions{})
		}
	case string(rollout.KindDaemonSet):
		var orig *appsv1.DaemonSet
		if orig, err = apps.DaemonSets(src).Get(ctx, w.Name, metav1.GetOptions{}); err == nil {
			_, err = apps.DaemonSets(d.Namespace).Create(ctx, &appsv1.DaemonSet{
				ObjectMeta: metav1.ObjectMeta{Name: w.Name, Labels: orig.Labels},
				Spec: appsv1.DaemonSetSpec{Selector: orig.Spec.Selector.DeepCopy(), Template: *tmpl,
					UpdateStrategy: orig.Spec.UpdateStrategy, MinReadySeconds: orig.Spec.MinReadySeconds},
			}, metav1.CreateOptions{})
		}
	default:
		var orig *appsv1.Deployment
		if orig, err = apps.Deployments(src).Get(ctx, w.Name, metav1.GetOptions{}); err == nil {
			_, err = apps.Deployments(d.Namespace).Create(ctx, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: w.Name, Labels: orig.Labels},
				Spec: appsv1.DeploymentSpec{
					Replicas: orig.Spec.Replicas, Selector: orig.Spec.Selector.DeepCopy(), Template: *tmpl,
					Strategy: orig.Spec.Strategy, MinReadySeconds: orig.Spec.MinReadySeconds,
					ProgressDeadlineSeconds: orig.Spec.ProgressDeadlineSeconds,
				},
			}, metav1.CreateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("drill: copy %s: %w", w, err)
	}
	return nil
}

// claimTemplates returns the volumeClaimTemplates of a copy: their specs
// without the volumes production's claims are bound to.
func claimTemplates(in []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
	out := make([]corev1.PersistentVolumeClaim, len(in))
	for i, c := range in {
		out[i] = corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: c.Name, Labels: c.Labels}, Spec: *c.Spec.DeepCopy()}
		out[i].Spec.VolumeName = ""
	}
	return out
}

// copyConfigs copies the ConfigMaps and Secrets tmpl references.
func (d *Drill) copyConfigs(ctx context.Context, src string, tmpl *corev1.PodTemplateSpec) error {
	for _, ref := range configs.References(&tmpl.Spec) {
		var err error
		switch ref.Kind {
		case configs.KindConfigMap:
			var cm *corev1.ConfigMap
			if cm, err = d.Client.CoreV1().ConfigMaps(src).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
				_, err = d.Client.CoreV1().ConfigMaps(d.Namespace).Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: cm.Name, Labels: cm.Labels}, Data: cm.Data, BinaryData: cm.BinaryData}, metav1.CreateOptions{})
			}
		case configs.KindSecret:
			var s *corev1.Secret
			if s, err = d.Client.CoreV1().Secrets(src).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
				data := map[string][]byte{}
				for k := range s.Data {
					data[k] = []byte(placeholder)
				}
				_, err = d.Client.CoreV1().Secrets(d.Namespace).Create(ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: s.Name, Labels: s.Labels}, Type: s.Type, Data: data}, metav1.CreateOptions{})
			}
		}
		if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsNotFound(err) {
			return fmt.Errorf("drill: copy %s: %w", ref, err)
		}
	}
	return nil
}

// breakCopy ships the bad release to the first Deployment and returns what
// it shipped and when.
func (d *Drill) breakCopy(ctx context.Context) (string, time.Time, error) {
	w := d.Runbook.Workloads()[0]
	clients := rollout.NewClients(d.Client, d.Namespace)
	if len(d.BadConfig) > 0 {
		cmName := ""
		for _, c := range d.Runbook.Configs {
			if strings.EqualFold(c.Kind, "ConfigMap") {
				cmName = c.Name
				break
			}
		}
		if cmName == "" {
			return "", time.Time{}, fmt.Errorf("drill: --bad-config needs a ConfigMap among the runbook's configs")
		}
		cm, err := d.Client.CoreV1().ConfigMaps(d.Namespace).Get(ctx, cmName, metav1.GetOptions{})
		if err != nil {
			return "", time.Time{}, fmt.Errorf("drill: get configmap %s: %w", cmName, err)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		var keys []string
		for k, v := range d.BadConfig {
			cm.Data[k] = v
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		if _, err := d.Client.CoreV1().ConfigMaps(d.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return "", time.Time{}, fmt.Errorf("drill: write bad configuration: %w", err)
		}
		start := d.Clock.Now()
		if _, err := rollout.RestartWorkload(ctx, clients, w.String(), start); err != nil {
			return "", time.Time{}, fmt.Errorf("drill: restart %s: %w", w, err)
		}
		bad := fmt.Sprintf("configmap %s: %s, then restart", cmName, strings.Join(keys, ", "))
		d.progress("bad release shipped: %s", bad)
		return bad, start, nil
	}
	info, err := rollout.GetWorkload(ctx, clients, w.String())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("drill: get %s: %w", w, err)
	}
	c := info.Template.Spec.Containers[0]
	image := d.BadImage
	if image == "" {
		image = badImageFor(c.Image)
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []map[string]string{{"name": c.Name, "image": image}}}}}})
	if err != nil {
		return "", time.Time{}, err
	}
	start := d.Clock.Now()
	if _, err := rollout.PatchWorkload(ctx, clients, info.Workload, types.StrategicMergePatchType, patch); err != nil {
		return "", time.Time{}, fmt.Errorf("drill: ship bad image to %s: %w", w, err)
	}
	bad := fmt.Sprintf("%s container %s image %s", w.Describe(), c.Name, image)
	d.progress("bad release shipped: %s", bad)
	return bad, start, nil
}

// detect watches the bad release and returns the failure it reports; a
// release that turns out healthy is a failed drill: nothing was detected.
func (d *Drill) detect(ctx context.Context) (string, error) {
	w := d.Runbook.Workloads()[0]
	st, err := d.status().Run(ctx, w.String())
	if err == nil {
		return "", outcome.AsUnhealthy(fmt.Errorf("drill: the bad release of %s became healthy, so nothing was detected: choose a release that fails (--bad-image with a failing image, or --bad-config)", w))
	}
	if st == nil {
		return "", fmt.Errorf("drill: watch the bad release: %w", err)
	}
	if st.Failure != nil {
		return fmt.Sprintf("%s: %s", st.Failure.Pod, st.Failure.Reason), nil
	}
	return string(st.Verdict) + ": " + st.Reason, nil
}

func (d *Drill) status() *rollout.Status {
	return &rollout.Status{Clients: rollout.NewClients(d.Client, d.Namespace), Verification: d.Verification, Observer: d.Observer}
}

// badImageFor returns image's repository with the sandbox's failing tag "crash".
func badImageFor(image string) string {
	repo := image
	if i := strings.LastIndex(image, "@"); i >= 0 {
		repo = image[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + ":crash"
}
