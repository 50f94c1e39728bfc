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
// re-reads and retries. RestartWorkload does the same for any kind.
func Restart(ctx context.Context, deployments appsv1client.DeploymentInterface, name string, now time.Time) (*appsv1.Deployment, error) {
	o, err := restart(ctx, Clients{Deployments: deployments}, Workload{Kind: KindDeployment, Name: name}, now)
	return o.d, err
}

// RestartWorkload restarts workload (kubectl's resource syntax) as Restart
// does and returns it as written.
func RestartWorkload(ctx context.Context, c Clients, workload string, now time.Time) (*WorkloadInfo, error) {
	w, err := ParseWorkload(workload)
	if err != nil {
		return nil, err
	}
	o, err := restart(ctx, c, w, now)
	if err != nil {
		return nil, err
	}
	return o.info(), nil
}

func restart(ctx context.Context, c Clients, w Workload, now time.Time) (object, error) {
	var out object
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		o, err := get(ctx, c, w)
		if err != nil {
			return err
		}
		if o.paused() {
			return pausedRestart(w)
		}
		stamp := now.UTC()
		tmpl := o.template()
		if prev, err := time.Parse(time.RFC3339Nano, tmpl.Annotations[RestartedAtAnnotation]); err == nil && !stamp.After(prev) {
			stamp = prev.Add(time.Nanosecond)
		}
		if tmpl.Annotations == nil {
			tmpl.Annotations = map[string]string{}
		}
		tmpl.Annotations[RestartedAtAnnotation] = stamp.Format(time.RFC3339Nano)
		out, err = update(ctx, c, o)
		return err
	})
	if err != nil {
		return object{}, fmt.Errorf("restart %s: %w", w.Describe(), err)
	}
	return out, nil
}

// update writes o with an Update carrying its resourceVersion.
func update(ctx context.Context, c Clients, o object) (object, error) {
	opts := metav1.UpdateOptions{FieldManager: FieldManager}
	var out object
	var err error
	switch {
	case o.sts != nil:
		out.sts, err = c.StatefulSets.Update(ctx, o.sts, opts)
	case o.ds != nil:
		out.ds, err = c.DaemonSets.Update(ctx, o.ds, opts)
	default:
		out.d, err = c.Deployments.Update(ctx, o.d, opts)
	}
	return out, err
}

func pausedRestart(w Workload) error {
	return outcome.AsRefused(fmt.Errorf("deployment %s is paused, so a restart would not roll its pods: resume it first with `rollback app resume %s`", w.Name, w.Name))
}

// CheckRestart refuses (exit code 2) what Restart would refuse, reading
// only: a Deployment that does not exist or is paused.
func CheckRestart(ctx context.Context, deployments appsv1client.DeploymentInterface, name string) error {
	return CheckRestartWorkload(ctx, Clients{Deployments: deployments}, name)
}

// CheckRestartWorkload refuses (exit code 2) what RestartWorkload would
// refuse, reading only: a workload that does not exist, a paused Deployment.
func CheckRestartWorkload(ctx context.Context, c Clients, workload string) error {
	w, err := ParseWorkload(workload)
	if err != nil {
		return err
	}
	o, err := get(ctx, c, w)
	if err != nil {
		return err
	}
	if o.paused() {
		return pausedRestart(w)
	}
	return nil
}

// Resume un-pauses Deployment name; it reports false when it was not
// paused. StatefulSets and DaemonSets cannot be paused: ResumeWorkload
// refuses them.
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

// ResumeWorkload resumes workload (kubectl's resource syntax) as Resume
// does; a StatefulSet or DaemonSet, which cannot be paused, is refused
// (exit code 2).
func ResumeWorkload(ctx context.Context, c Clients, workload string) (bool, error) {
	w, err := ParseWorkload(workload)
	if err != nil {
		return false, err
	}
	if w.Kind != KindDeployment {
		return false, outcome.AsRefused(fmt.Errorf("%s cannot be paused, so there is nothing to resume: only Deployments pause (an undo of a %s needs no resume)", w.Describe(), w.Kind.Lower()))
	}
	return Resume(ctx, c.Deployments, w.Name)
}
