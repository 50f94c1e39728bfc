package evidence

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Bounds of a summary: it is journaled (and mirrored into a ConfigMap), so
// it stays small.
const (
	maxSummaryContainers = 8
	maxSummaryChanges    = 12
	maxSummarySamples    = 6
)

// Summary is what the incident report's root cause analysis shows of the
// evidence: per workload the failing containers with their first error
// lines, exit codes and reasons, and when the first failure was seen
// relative to the release; the database's state; guard's failed analysis.
type Summary struct {
	Workloads []WorkloadSummary `json:"workloads,omitempty"`
	Database  *DatabaseSummary  `json:"database,omitempty"`
	Analysis  *AnalysisSummary  `json:"analysis,omitempty"`
}

// WorkloadSummary is the evidence of one workload.
type WorkloadSummary struct {
	// Workload is KIND/NAME; Namespace and Cluster where it runs.
	Workload  string `json:"workload"`
	Namespace string `json:"namespace"`
	Cluster   string `json:"cluster,omitempty"`
	// Revision is the revision rolled back, with its images; Target the
	// revision the rollback goes to.
	Revision int64    `json:"revision,omitempty"`
	Images   []string `json:"images,omitempty"`
	Target   int64    `json:"target,omitempty"`
	// Released is when the revision rolled back was created.
	Released *time.Time `json:"released,omitempty"`
	// FirstFailure is the earliest sign of failure in the evidence (a
	// crash, a container that could not start, a Warning Event, an error
	// line in a log), FirstFailureAfter its distance from Released and
	// FirstFailureWhat what it was.
	FirstFailure      *time.Time       `json:"firstFailure,omitempty"`
	FirstFailureAfter rollout.Duration `json:"firstFailureAfter,omitempty"`
	FirstFailureWhat  string           `json:"firstFailureWhat,omitempty"`
	// Pods counts the pods of the revision rolled back; Failing those
	// that fail (pkg/rollout's PodFailureOf) or are not Ready.
	Pods    int `json:"pods"`
	Failing int `json:"failing"`
	// Containers are the failing containers (at most 8).
	Containers []ContainerSummary `json:"containers,omitempty"`
	// Changes are the pod template changes from the target to the
	// revision rolled back (at most 12): what the release changed.
	Changes []rollout.Change `json:"changes,omitempty"`
	// Warnings counts the Warning Events about the workload.
	Warnings int `json:"warningEvents"`
	// Error says why the workload could not be read.
	Error string `json:"error,omitempty"`
}

// ContainerSummary is one failing container.
type ContainerSummary struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	// Reason is the failure (CrashLoopBackOff, CreateContainerConfigError,
	// OOMKilled, ...) or, for a Ready container whose log reports errors, "errors in its log".
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// ExitCode and ExitReason are those of its last run that ended.
	ExitCode   *int32 `json:"exitCode,omitempty"`
	ExitReason string `json:"exitReason,omitempty"`
	Restarts   int32  `json:"restarts"`
	// FirstErrors are the first error lines of its logs (at most 3).
	FirstErrors []string `json:"firstErrors,omitempty"`
}

// DatabaseSummary is the database's migration state before the rollback;
// for a restore, RestoreFrom is the backup that replaces it and
// RestoreVersion the migration version the backup holds.
type DatabaseSummary struct {
	Database       string  `json:"database,omitempty"`
	Tool           string  `json:"tool,omitempty"`
	Version        int64   `json:"version"`
	Dirty          bool    `json:"dirty"`
	PlanTo         *int64  `json:"planTo,omitempty"`
	Reverts        []int64 `json:"reverts,omitempty"`
	RestoreFrom    string  `json:"restoreFrom,omitempty"`
	RestoreVersion *int64  `json:"restoreVersion,omitempty"`
	Error          string  `json:"error,omitempty"`
}

// AnalysisSummary is guard's verdict on the release.
type AnalysisSummary struct {
	Verdict string `json:"verdict,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Rounds  int    `json:"rounds"`
	// Failed are the samples of the last round that failed or were
	// inconclusive (at most 6).
	Failed []promquery.Sample `json:"failed,omitempty"`
}

// DecodeSummary reads a Summary back from a journal entry's decoded JSON.
func DecodeSummary(v any) (*Summary, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode evidence summary: %w", err)
	}
	return &s, nil
}

// summarize adds the workload's summary.
func (p *workloadPart) summarize(s *Summary) {
	ws := WorkloadSummary{Workload: "deployment/" + p.w.Name, Namespace: p.w.Namespace, Cluster: p.w.Cluster}
	v := p.view
	if v == nil {
		ws.Error = "could not be read (see the manifest's errors)"
		s.Workloads = append(s.Workloads, ws)
		return
	}
	if v.Current != nil {
		ws.Revision, ws.Images = v.Current.Number, v.Current.Images
		if !v.Current.Created.IsZero() {
			t := v.Current.Created
			ws.Released = &t
		}
	}
	if v.Target != nil {
		ws.Target = v.Target.Number
		if v.Current != nil && v.Current.template != nil && v.Target.template != nil {
			ch := rollout.DiffTemplates(v.Target.template, v.Current.template).Changes
			ws.Changes = ch[:min(len(ch), maxSummaryChanges)]
		}
	}
	first := failureClock{}
	for _, e := range p.evs {
		if e.Type == "Warning" {
			ws.Warnings++
			if p.badObject(e.Object) {
				first.see(e.First, fmt.Sprintf("Warning Event %s on %s: %s", e.Reason, e.Object, e.Message))
			}
		}
	}
	p.mu.Lock()
	errs := maps.Clone(p.errors)
	p.mu.Unlock()
	for _, ps := range badFirst(p.pods) {
		ws.Pods++
		failing := ps.Failure != nil || !ps.Ready
		if failing {
			ws.Failing++
		}
		for _, c := range ps.Containers {
			lines := errs[ps.Pod+"/"+c.Name]
			cs, ok := containerSummary(ps, c, lines)
			if !ok {
				continue
			}
			first.container(ps, c, lines)
			if len(ws.Containers) < maxSummaryContainers {
				ws.Containers = append(ws.Containers, cs)
			}
		}
	}
	if first.at != nil {
		ws.FirstFailure, ws.FirstFailureWhat = first.at, first.what
		if ws.Released != nil {
			ws.FirstFailureAfter = rollout.Duration(first.at.Sub(*ws.Released))
		}
	}
	s.Workloads = append(s.Workloads, ws)
}

// badObject reports whether an Event's object is the revision rolled back
// or one of its pods.
func (p *workloadPart) badObject(obj string) bool {
	cur := p.view.Current
	if cur == nil {
		return false
	}
	if obj == "ReplicaSet/"+trimKind(cur.Object) {
		return true
	}
	for _, ps := range p.pods {
		if ps.Role == RoleBad && obj == "Pod/"+ps.Pod {
			return true
		}
	}
	return false
}

func trimKind(obj string) string {
	for i := range obj {
		if obj[i] == '/' {
			return obj[i+1:]
		}
	}
	return obj
}

// containerSummary describes a container of a bad pod that failed, could
// not start, or logged errors; ok is false for a healthy one.
func containerSummary(ps PodStatus, c ContainerStatus, lines []logLine) (ContainerSummary, bool) {
	cs := ContainerSummary{Pod: ps.Pod, Container: c.Name, Restarts: c.Restarts}
	switch {
	case ps.Failure != nil && ps.Failure.Container == c.Name:
		cs.Reason, cs.Message = ps.Failure.Reason, c.Message
	case c.State == "waiting" && c.Reason != "" && c.Reason != "PodInitializing" && c.Reason != "ContainerCreating":
		cs.Reason, cs.Message = c.Reason, c.Message
	case c.State == "terminated" && c.ExitCode != nil && *c.ExitCode != 0:
		cs.Reason, cs.Message = c.Reason, c.Message
	case c.LastExitCode != nil && *c.LastExitCode != 0:
		cs.Reason = "restarted"
	case len(lines) > 0:
		cs.Reason = "errors in its log"
	default:
		return cs, false
	}
	if c.State == "terminated" && c.ExitCode != nil {
		cs.ExitCode, cs.ExitReason = c.ExitCode, c.Reason
	} else if c.LastExitCode != nil {
		cs.ExitCode, cs.ExitReason = c.LastExitCode, c.LastReason
	}
	if len(cs.Message) > maxErrorLineLen {
		cs.Message = cs.Message[:maxErrorLineLen] + "..."
	}
	for _, l := range lines {
		cs.FirstErrors = append(cs.FirstErrors, l.Text)
	}
	return cs, true
}

// failureClock keeps the earliest sign of failure.
type failureClock struct {
	at   *time.Time
	what string
}

func (f *failureClock) see(t time.Time, what string) {
	if t.IsZero() || (f.at != nil && !t.Before(*f.at)) {
		return
	}
	f.at, f.what = &t, what
}

// container sees a container's signs: a run that ended badly, a start that
// failed (since the pod started), error lines in its logs.
func (f *failureClock) container(ps PodStatus, c ContainerStatus, lines []logLine) {
	where := fmt.Sprintf("pod %s container %s", ps.Pod, c.Name)
	if c.State == "terminated" && c.ExitCode != nil && *c.ExitCode != 0 && c.FinishedAt != nil {
		f.see(*c.FinishedAt, fmt.Sprintf("%s exited with code %d (%s)", where, *c.ExitCode, c.Reason))
	}
	if c.LastExitCode != nil && *c.LastExitCode != 0 && c.LastFinished != nil {
		f.see(*c.LastFinished, fmt.Sprintf("%s exited with code %d (%s)", where, *c.LastExitCode, c.LastReason))
	}
	if c.State == "waiting" && c.LastExitCode == nil && ps.Failure != nil && ps.Failure.Container == c.Name {
		since := ps.Created
		if ps.Started != nil {
			since = *ps.Started
		}
		f.see(since, fmt.Sprintf("%s could not start: %s", where, ps.Failure.Reason))
	}
	for _, l := range lines {
		f.see(l.Time, fmt.Sprintf("%s logged: %s", where, l.Text))
	}
}

// badFirst returns the pods of the revision rolled back, failing ones first.
func badFirst(pods []PodStatus) []PodStatus {
	var out []PodStatus
	for _, ps := range pods {
		if ps.Role == RoleBad {
			out = append(out, ps)
		}
	}
	rank := func(ps PodStatus) int {
		switch {
		case ps.Failure != nil:
			return 0
		case !ps.Ready:
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}
