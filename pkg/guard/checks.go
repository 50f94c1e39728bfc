package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/rollout"
)

// errSuperseded ends a guard whose workload got a newer rollout.
var errSuperseded = errors.New("superseded")

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)

// Vars returns the template variables of the queries for workload w at
// revision: namespace, workload (its name), kind (deployment, statefulset,
// daemonset), deployment (its name too, the variable of queries written
// for Deployments), revision and label_<key> for each of its labels, with
// every character of the key that is not a letter or digit replaced by _
// (app.kubernetes.io/name -> label_app_kubernetes_io_name).
func Vars(w *rollout.WorkloadInfo, revision int64) map[string]string {
	v := map[string]string{
		"namespace":  w.Namespace,
		"workload":   w.Name,
		"kind":       w.Kind.Lower(),
		"deployment": w.Name,
		"revision":   strconv.FormatInt(revision, 10),
	}
	for k, val := range w.Labels {
		v["label_"+nonAlnum.ReplaceAllString(k, "_")] = val
	}
	return v
}

// baseline is what the bake compares the pods against.
type baseline struct {
	// template is the guarded pod template: a change of it (not of the
	// workload's annotations or replicas, which also bump the generation)
	// is a newer rollout.
	template *corev1.PodTemplateSpec
	ref      rollout.RevisionRef
	restarts map[string]int32
}

// podsBaseline records the pod template of w and the restarts of the pods
// of the guarded revision ref.
func (g *Guard) podsBaseline(ctx context.Context, w *rollout.WorkloadInfo, ref rollout.RevisionRef) (baseline, error) {
	b := baseline{template: w.Template.DeepCopy(), ref: ref, restarts: map[string]int32{}}
	pods, err := g.pods(ctx, w.Workload, ref)
	if err != nil {
		return b, err
	}
	for _, p := range pods {
		b.restarts[p.Name] = rollout.PodRestarts(&p)
	}
	return b, nil
}

func (g *Guard) pods(ctx context.Context, w rollout.Workload, ref rollout.RevisionRef) ([]corev1.Pod, error) {
	pods, err := rollout.RevisionPods(ctx, g.Clients, w.String(), ref)
	if err != nil {
		return nil, fmt.Errorf("list pods of revision %s: %w", ref.Hash, err)
	}
	return pods, nil
}

// checkPods is the built-in check of every round: the workload still runs
// the guarded revision (errSuperseded otherwise), every desired replica of
// it is ready, and no pod of it restarted since the bake started.
func (g *Guard) checkPods(ctx context.Context, w rollout.Workload, b baseline) (promquery.Sample, error) {
	s := promquery.Sample{Check: "pods", Outcome: promquery.Inconclusive}
	info, err := rollout.GetWorkload(ctx, g.Clients, w.String())
	if err != nil {
		s.Detail = fmt.Sprintf("get %s: %v", w.Describe(), err)
		return s, nil
	}
	if !apiequality.Semantic.DeepEqual(info.Template, b.template) {
		return s, fmt.Errorf("%s got a new pod template during the bake: a newer rollout supersedes this guard: %w", w.Describe(), errSuperseded)
	}
	pods, err := g.pods(ctx, w, b.ref)
	if err != nil {
		s.Detail = err.Error()
		return s, nil
	}
	desired := info.Desired
	readyN := int32(0)
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		if before, ok := b.restarts[p.Name]; ok && rollout.PodRestarts(p) > before {
			s.Outcome, s.Detail = promquery.Fail, fmt.Sprintf("pod %s restarted during the bake (restarts %d -> %d)", p.Name, before, rollout.PodRestarts(p))
			return s, nil
		}
		if !ok(b.restarts, p.Name) && rollout.PodRestarts(p) > 0 {
			s.Outcome, s.Detail = promquery.Fail, fmt.Sprintf("pod %s (new during the bake) restarted %d times", p.Name, rollout.PodRestarts(p))
			return s, nil
		}
		if rollout.PodReady(p) {
			readyN++
		}
	}
	s.Value = float64(readyN)
	if readyN < desired {
		s.Outcome, s.Detail = promquery.Fail, fmt.Sprintf("%d/%d pods ready", readyN, desired)
		return s, nil
	}
	s.Outcome = promquery.Pass
	return s, nil
}

func ok(m map[string]int32, k string) bool { _, found := m[k]; return found }

// checkURL is one round's request to a --check-url: 2xx passes, any other
// status fails, no answer is inconclusive.
func (g *Guard) checkURL(ctx context.Context, raw string) promquery.Sample {
	s := promquery.Sample{Check: "url " + redact.URL(raw), Outcome: promquery.Inconclusive}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		s.Detail = "bad url"
		return s
	}
	resp, err := g.httpClient().Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		s.Detail = "no answer: " + redact.String(err.Error())
		return s
	}
	resp.Body.Close()
	s.Value = float64(resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s.Outcome, s.Detail = promquery.Fail, fmt.Sprintf("HTTP %d", resp.StatusCode)
		return s
	}
	s.Outcome = promquery.Pass
	return s
}
