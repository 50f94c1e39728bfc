package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/redact"
)

// HandOutcome is how a person who closes an incident by hand says it ended.
type HandOutcome string

// The outcomes of an incident closed by hand.
const (
	// HandAbandoned: nobody finishes the work; what it changed stays as it
	// was left (the default). Journaled with Result abandoned.
	HandAbandoned HandOutcome = "abandoned"
	// HandResolved: the incident is over and the application is back in a
	// good state, by hand or because the interrupted change had landed, as
	// a person checked. Journaled with Result ok.
	HandResolved HandOutcome = "resolved"
	// HandFailed: the rollback did not reach its goal. Journaled with
	// Result failed.
	HandFailed HandOutcome = "failed"
)

// HandOutcomes lists the outcomes, the default first.
var HandOutcomes = []HandOutcome{HandAbandoned, HandResolved, HandFailed}

// ParseHandOutcome reads an outcome; empty is HandAbandoned. Anything else
// is a refusal.
func ParseHandOutcome(s string) (HandOutcome, error) {
	if s == "" {
		return HandAbandoned, nil
	}
	if h := HandOutcome(s); slices.Contains(HandOutcomes, h) {
		return h, nil
	}
	return "", outcome.AsRefused(fmt.Errorf("--result %q: use abandoned (nobody finishes the work, the default), resolved (the application is back in a good state, checked by you) or failed (the rollback did not reach its goal)", s))
}

// Result returns the Result of the closing entry.
func (h HandOutcome) Result() string {
	switch h {
	case HandResolved:
		return journal.ResultOK
	case HandFailed:
		return journal.ResultFailed
	}
	return journal.ResultAbandoned
}

// StepClose is the Step of the closing entry of an incident closed by hand.
const StepClose = "close"

// CloseByHand closes an open incident that no command will finish (a
// single command killed mid-way): the one lifecycle resumes it only to
// close it. It takes over the incident's cluster locks first (as
// `rollback run --resume` does), so a process still renewing one is
// refused with nothing written, and a dead holder's lock is taken over
// only once it stayed unchanged for its full lease duration; then it
// journals incident.closed (Step close, the reason, the outcome), mirrors
// it and writes the report, as Close does. No notification is sent: the
// channels of the process that opened the incident are not recorded.
type CloseByHand struct {
	// Options are the incident's: ID (required), Actor, Process,
	// JournalDir, Mirror (the ConfigMaps of the application's namespace;
	// nil without cluster access), Secrets, Clock, Observer. Resume and
	// Channels are ignored.
	Options
	// Reason says why a person closes it (required).
	Reason string
	// Outcome is how it ended (HandAbandoned when empty).
	Outcome HandOutcome
	// Leases reads the cluster locks; nil without cluster access.
	Leases coordinationv1client.LeasesGetter
	// Namespace is the application's namespace: its mirror and its locks.
	Namespace string
	// NoCluster says why there is no cluster access, for the messages.
	NoCluster error
	// Force closes it when no cluster lock can tell whether a process
	// still works on it (no cluster access, or it took no lock).
	Force bool
}

// HandClosed is what CloseByHand did.
type HandClosed struct {
	Incident string `json:"incident"`
	// Skipped is set when the incident was already closed: nothing was
	// written, and Closed, Result and ClosedBy describe that close.
	Skipped bool `json:"skipped"`
	// Closed is when the closing entry was written, Result its result,
	// ClosedBy its actor.
	Closed   time.Time `json:"closed"`
	Result   string    `json:"result"`
	ClosedBy string    `json:"closedBy,omitempty"`
	// Outcome and Reason are this close's (Reason redacted).
	Outcome HandOutcome `json:"outcome,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	// Journal and Report are the files; Report is empty when not written.
	Journal string `json:"journal"`
	Report  string `json:"report,omitempty"`
	// Mirror is namespace/name of the mirror ConfigMap that got the
	// closing entry; empty when none did (see Warnings).
	Mirror string `json:"mirror,omitempty"`
	// Locks are the incident's cluster locks as they were before the close
	// took them over (their holder gone) and released them.
	Locks []clusterlock.Info `json:"locks,omitempty"`
	// Unchecked says why no lock could tell whether a process still works
	// on the incident (closed with Force).
	Unchecked string `json:"unchecked,omitempty"`
	// Warnings are problems that did not stop the close (mirror, report).
	Warnings []string `json:"warnings,omitempty"`
}

// Run closes the incident. It refuses (outcome.Refused, nothing written)
// a bad id, a missing reason or outcome, an incident without a local
// journal, one whose lock a live process holds, and, without Force, one
// whose locks cannot tell. An incident already closed is Skipped.
func (c CloseByHand) Run(ctx context.Context) (*HandClosed, error) {
	c.Options = c.Options.withDefaults()
	id := c.ID
	if err := journal.ValidateID(id); err != nil {
		return nil, outcome.AsRefused(fmt.Errorf("close incident: %w", err))
	}
	reason := strings.TrimSpace(c.Reason)
	if reason == "" {
		return nil, outcome.AsRefused(fmt.Errorf("close incident %s: --reason is required: say why it is closed by hand, for the journal and the report (such as --reason \"app undo was killed; rolled back with kubectl\")", id))
	}
	oc, err := ParseHandOutcome(string(c.Outcome))
	if err != nil {
		return nil, err
	}
	local, err := journal.Read(c.JournalDir, id)
	if errors.Is(err, journal.ErrNotFound) {
		return nil, outcome.AsRefused(fmt.Errorf("close incident %s: no journal in %s: check the id with `rollback incident list` (or pass --journal-dir); an incident is closed on the machine whose journal holds it", id, c.JournalDir))
	}
	if err != nil {
		return nil, fmt.Errorf("close incident %s: %w", id, err)
	}
	res := &HandClosed{Incident: id, Journal: filepath.Join(c.JournalDir, id+".jsonl")}
	var mirrored []journal.Entry
	mirror := c.Mirror
	if mirror != nil {
		m, err := journal.ReadMirror(ctx, mirror, id)
		switch {
		case err == nil:
			mirrored = m
		case errors.Is(err, journal.ErrNotFound):
			mirror = nil
			res.Warnings = append(res.Warnings, fmt.Sprintf("no journal mirror configmap %s in namespace %s: only the local journal is closed (pass -n with the application's namespace to close its mirror too)", journal.MirrorName(id), c.Namespace))
		default:
			mirror = nil
			res.Warnings = append(res.Warnings, fmt.Sprintf("cannot read the journal mirror: %v: only the local journal is closed", err))
		}
	}
	entries := append(append([]journal.Entry(nil), local...), mirrored...)
	if e, ok := lastClosing(entries); ok {
		res.Skipped, res.Closed, res.Result, res.ClosedBy = true, e.Time, e.Result, e.Actor
		return res, nil
	}
	sum := journal.Summarize(id, local)
	targets, infos, unchecked, err := c.lockTargets(ctx, entries, sum.App)
	if err != nil {
		return nil, err
	}
	if unchecked != "" {
		if !c.Force {
			return nil, outcome.AsRefused(fmt.Errorf("close incident %s: %s, so nothing tells whether a process still works on it; nothing was written: make sure the command that opened it (run by %s) no longer runs, then run again with --force", id, unchecked, orUnknown(sum.Actor)))
		}
		res.Unchecked = unchecked
	}
	o := c.Options
	o.ID, o.Resume, o.App, o.Mirror, o.Clock, o.Process, o.JournalDir, o.Channels = id, true, sum.App, mirror, c.Clock, c.Process, c.JournalDir, nil
	for _, info := range infos {
		o.LockDuration = max(o.LockDuration, info.Duration)
	}
	held, err := acquire(ctx, o, id, targets)
	if err != nil {
		releaseAll(held)
		if he := (*clusterlock.HeldError)(nil); errors.As(err, &he) {
			return nil, outcome.AsRefused(fmt.Errorf("close incident %s: a process may still work on it; nothing was written: %w; once it stopped, run this close again: it takes the lock over when the lock stayed unchanged for its whole lease duration (%s)", id, err, he.Info.Duration))
		}
		return nil, fmt.Errorf("close incident %s: nothing was written: %w", id, err)
	}
	in, err := Open(ctx, o)
	if err != nil {
		releaseAll(held)
		return nil, err
	}
	for i, h := range held {
		in.logAcquired(ctx, h, targets[i].Namespace)
		res.Locks = append(res.Locks, *infos[i])
	}
	in.keep(ctx, held)
	res.Outcome, res.Reason = oc, redact.New(c.Secrets...).String(reason)
	inputs := map[string]any{"reason": reason, "outcome": string(oc), "byHand": true,
		"summary": fmt.Sprintf("closed by hand (%s): %s", oc, reason)}
	if res.Unchecked != "" {
		inputs["force"] = res.Unchecked
	}
	closed, cerr := in.Close(ctx, Closing{Step: StepClose, Action: journal.ActionIncidentClosed, Result: oc.Result(), Inputs: inputs})
	if e, ok := lastClosing(in.Entries()); ok {
		res.Closed, res.Result, res.ClosedBy = e.Time, e.Result, e.Actor
	}
	if closed != nil {
		res.Report = closed.Report
		res.Warnings = append(res.Warnings, closed.Warnings...)
		if mirror != nil && len(in.j.MirrorErrors()) == 0 {
			res.Mirror = c.Namespace + "/" + journal.MirrorName(id)
		}
	}
	return res, cerr
}

// lockTargets returns the cluster locks held for the incident in its
// namespaces (the application's, and those its journal took locks in), to
// take over before anything is written, with what they recorded.
// unchecked says why no lock can tell whether a process still works on it.
func (c CloseByHand) lockTargets(ctx context.Context, entries []journal.Entry, app string) ([]LockTarget, []*clusterlock.Info, string, error) {
	if c.Leases == nil {
		why := "there is no cluster access"
		if c.NoCluster != nil {
			why += " (" + c.NoCluster.Error() + ")"
		}
		return nil, nil, why + " to read its cluster locks", nil
	}
	namespaces := []string{c.Namespace}
	names := []string{app}
	journaled := false
	for _, e := range entries {
		if e.Action == journal.ActionLockAcquired {
			journaled = true
			if ns, _ := e.Inputs["namespace"].(string); ns != "" && !slices.Contains(namespaces, ns) {
				namespaces = append(namespaces, ns)
			}
		}
		if e.Target != "" {
			names = append(names, e.Target)
		}
	}
	var (
		targets []LockTarget
		infos   []*clusterlock.Info
	)
	for _, ns := range namespaces {
		if ns == "" {
			continue
		}
		found, err := clusterlock.HeldFor(ctx, c.Leases.Leases(ns), c.Clock, c.ID)
		if err != nil {
			return nil, nil, fmt.Sprintf("its cluster locks in namespace %s cannot be read (%v)", ns, err), nil
		}
		for _, info := range found {
			for _, n := range names {
				if n != "" && clusterlock.LeaseName(n) == info.Lease {
					info.Name = n
					break
				}
			}
			targets = append(targets, LockTarget{Leases: c.Leases.Leases(ns), Namespace: ns, Name: info.Name})
			infos = append(infos, info)
		}
	}
	if len(targets) == 0 && !journaled {
		return nil, nil, "it took no cluster lock (the command that opened it takes none, or was stopped before it took one)", nil
	}
	return targets, infos, "", nil
}

// lastClosing returns the last incident.closed entry of entries.
func lastClosing(entries []journal.Entry) (journal.Entry, bool) {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Action == journal.ActionIncidentClosed {
			return entries[i], true
		}
	}
	return journal.Entry{}, false
}

// releaseAll releases locks taken before a refusal, unjournaled: nothing
// was written for them.
func releaseAll(held []*clusterlock.Held) {
	for i := len(held) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = held[i].Release(ctx)
		cancel()
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "someone unknown"
	}
	return s
}
