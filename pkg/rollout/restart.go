package rollout

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/pkg/outcome"
)

// RestartedAtAnnotation is the pod template annotation kubectl rollout
// restart sets; changing it rolls every pod.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Restart rolls every pod of Deployment name by setting RestartedAtAnnotation
// in its pod template to now with nanosecond precision (RFC 3339 with
// fraction), so that two restarts within one second both take effect. The
// write is an Update carrying the read resourceVersion; on a conflict it
// re-reads and retries.
func Restart(ctx context.Context, deployments appsv1client.DeploymentInterface, name string, now time.Time) (*appsv1.Deployment, error) {
	var out *appsv1.Deployment
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deployments.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return getError(err, "deployment", name)
		}
		if d.Spec.Paused {
			return outcome.AsRefused(fmt.Errorf("deployment %s is paused, so a restart would not roll its pods: resume it first with `rollback app resume %s`", name, name))
		}
		stamp := now.UTC()
		if prev, err := time.Parse(time.RFC3339Nano, d.Spec.Template.Annotations[RestartedAtAnnotation]); err == nil && !stamp.After(prev) {
			stamp = prev.Add(time.Nanosecond)
		}
		if d.Spec.Template.Annotations == nil {
			d.Spec.Template.Annotations = map[string]string{}
		}
		d.Spec.Template.Annotations[RestartedAtAnnotation] = stamp.Format(time.RFC3339Nano)
		out, err = deployments.Update(ctx, d, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("restart deployment %s: %w", name, err)
	}
	return out, nil
}

// CheckRestart refuses (exit code 2) what Restart would refuse, reading
// only: a Deployment that does not exist or is paused.
func CheckRestart(ctx context.Context, deployments appsv1client.DeploymentInterface, name string) error {
	d, err := deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return getError(err, "deployment", name)
	}
	if d.Spec.Paused {
		return outcome.AsRefused(fmt.Errorf("deployment %s is paused, so a restart would not roll its pods: resume it first with `rollback app resume %s`", name, name))
	}
	return nil
}

// Resume un-pauses Deployment name; it reports false when it was not paused.
func Resume(ctx context.Context, deployments appsv1client.DeploymentInterface, name string) (bool, error) {
	changed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deployments.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return getError(err, "deployment", name)
		}
		if !d.Spec.Paused {
			return nil
		}
		d.Spec.Paused = false
		_, err = deployments.Update(ctx, d, metav1.UpdateOptions{FieldManager: FieldManager})
		changed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("resume deployment %s: %w", name, err)
	}
	return changed, nil
}
