package evidence

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Logs prints the logs of the pods of one revision of a workload (`rollback
// app logs`), which kubectl cannot select: every line prefixed with
// [pod/container].
type Logs struct {
	// Clients reach the workload's namespace.
	Clients rollout.Clients
	// Revision is the revision whose pods are read; 0 means the current one.
	Revision int64
	// Container limits the logs to one container; empty means every
	// container of each pod (init containers included when they ran).
	Container string
	// Previous reads each container's previous run.
	Previous bool
	// Tail is how many last lines of each log (negative: all of them).
	Tail int64
	// SinceSeconds, when positive, keeps only lines newer than that.
	SinceSeconds int64
	// Timestamps prefixes each line with its time.
	Timestamps bool
	// Observer receives a warning per log that cannot be read.
	Observer progress.Observer
}

// LogsResult says what Logs read.
type LogsResult struct {
	Workload  string   `json:"workload"`
	Namespace string   `json:"namespace"`
	Revision  int64    `json:"revision"`
	Pods      []string `json:"pods"`
	// Read counts the logs printed; Unavailable says why the others were not.
	Read        int      `json:"read"`
	Unavailable []string `json:"unavailable,omitempty"`
}

// LineSink receives each log line (without its newline) of a container.
type LineSink func(pod, container string, line []byte) error

// Prefixed returns the sink that writes each line to w as
// "[pod/container] line", buffered (flush it with the returned func).
func Prefixed(w io.Writer) (LineSink, func() error) {
	bw := bufio.NewWriter(w)
	return func(pod, container string, line []byte) error {
		bw.WriteString("[" + pod + "/" + container + "] ")
		bw.Write(line)
		return bw.WriteByte('\n')
	}, bw.Flush
}

// Run sends the logs of the pods of revision l.Revision of workload
// (kubectl's resource syntax: web, deployment/web, sts/db) to sink, one pod after the other in name order. A revision without pods
// is not an error (the result has no pods); an unknown revision or
// container is refused.
func (l *Logs) Run(ctx context.Context, workload string, sink LineSink) (*LogsResult, error) {
	w, err := rollout.ParseWorkload(workload)
	if err != nil {
		return nil, outcome.AsRefused(err)
	}
	v, err := workloadRevisions{clients: l.Clients}.read(ctx, w.String())
	if err != nil {
		return nil, err
	}
	name, what := w.Arg(), w.Describe()
	rev := v.Current
	if l.Revision != 0 {
		rev = nil
		for i := range v.Revisions {
			if v.Revisions[i].Number == l.Revision {
				rev = &v.Revisions[i]
			}
		}
		if rev == nil {
			return nil, outcome.AsRefused(fmt.Errorf("%s has no revision %d: revisions that exist: %s (see `rollback app history %s`)", what, l.Revision, revisionNumbers(v.Revisions), name))
		}
	}
	if rev == nil {
		return nil, outcome.AsRefused(fmt.Errorf("%s has no revision for its current template yet: pass --revision N (revisions that exist: %s)", what, revisionNumbers(v.Revisions)))
	}
	res := &LogsResult{Workload: w.String(), Namespace: v.Namespace, Revision: rev.Number}
	var pods []*corev1.Pod
	for _, p := range v.Pods {
		if v.revisionOf(p) == rev {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	if l.Container != "" && len(pods) > 0 && !hasContainer(pods, l.Container) {
		return res, outcome.AsRefused(fmt.Errorf("the pods of %s revision %d have no container %q: they have %s", what, rev.Number, l.Container, strings.Join(containerNames(pods[0]), ", ")))
	}
	var failed []error
	for _, p := range pods {
		res.Pods = append(res.Pods, p.Name)
		for _, c := range containerNames(p) {
			if l.Container != "" && c != l.Container {
				continue
			}
			err := l.copy(ctx, sink, p.Name, c)
			switch {
			case err == nil:
				res.Read++
			case apierrors.IsBadRequest(err) || apierrors.IsNotFound(err):
				msg := fmt.Sprintf("pod %s container %s: %s", p.Name, c, oneLine(err.Error()))
				res.Unavailable = append(res.Unavailable, msg)
				progress.Emit(l.Observer, progress.Event{Kind: progress.Warning, Source: "logs", Target: "pod/" + p.Name, Message: "no log: " + msg})
			default:
				failed = append(failed, fmt.Errorf("logs of pod %s container %s: %w", p.Name, c, err))
			}
		}
	}
	if len(failed) > 0 && res.Read == 0 {
		return res, errors.Join(failed...)
	}
	for _, err := range failed {
		progress.Emit(l.Observer, progress.Event{Kind: progress.Warning, Source: "logs", Message: err.Error()})
	}
	return res, nil
}

// copy sends one container's log to sink.
func (l *Logs) copy(ctx context.Context, sink LineSink, pod, container string) error {
	opts := &corev1.PodLogOptions{Container: container, Previous: l.Previous, Timestamps: l.Timestamps}
	if l.Tail >= 0 {
		opts.TailLines = &l.Tail
	}
	if l.SinceSeconds > 0 {
		opts.SinceSeconds = &l.SinceSeconds
	}
	rc, err := l.Clients.Pods.GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if err := sink(pod, container, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

func hasContainer(pods []*corev1.Pod, name string) bool {
	for _, c := range containerNames(pods[0]) {
		if c == name {
			return true
		}
	}
	return false
}

// containerNames lists a pod's containers: init containers that ran, then the others.
func containerNames(p *corev1.Pod) []string {
	var out []string
	ran := map[string]bool{}
	for _, cs := range p.Status.InitContainerStatuses {
		ran[cs.Name] = hasRun(cs) || cs.RestartCount > 0
	}
	for _, c := range p.Spec.InitContainers {
		if ran[c.Name] {
			out = append(out, c.Name)
		}
	}
	for _, c := range p.Spec.Containers {
		out = append(out, c.Name)
	}
	return out
}

func revisionNumbers(revs []revisionView) string {
	ns := make([]int64, len(revs))
	for i, r := range revs {
		ns[i] = r.Number
	}
	return rollout.Numbers(ns)
}
