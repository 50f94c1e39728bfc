package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
)

// PruneOptions configure Prune: which incident records to remove.
type PruneOptions struct {
	// Dir holds the local journals (DefaultDir() when empty). Ignored when
	// ConfigMaps is set.
	Dir string
	// ConfigMaps, when set, makes Prune remove the cluster mirrors
	// (ConfigMaps rollback-<id>) in Namespace instead of local files.
	ConfigMaps corev1client.ConfigMapsGetter
	// Namespace is the namespace of the mirrors; empty means every namespace.
	Namespace string
	// OlderThan is the age a closed incident's last entry must exceed to be
	// removed (required, positive).
	OlderThan time.Duration
	// Delete removes what is due; false is a dry run that only lists it.
	Delete bool
	// Clock tells the time; clock.RealClock{} when nil.
	Clock clock.PassiveClock
	// OnItem, when set, is told each incident as soon as it is decided (and,
	// with Delete, removed), in the order of the result.
	OnItem func(PruneItem)
}

// PruneAction says what Prune did with one incident.
type PruneAction string

// The actions of a PruneItem.
const (
	// PruneRemoved: the incident's records were removed.
	PruneRemoved PruneAction = "removed"
	// PruneWouldRemove: a dry run; the records are due for removal.
	PruneWouldRemove PruneAction = "would-remove"
	// PruneKept: the records stay (see Kept).
	PruneKept PruneAction = "kept"
	// PruneFailed: removing a record failed (see Error); what is left is
	// found again by the next run.
	PruneFailed PruneAction = "failed"
)

// KeptReason says why an incident's records were kept.
type KeptReason string

// The reasons to keep an incident.
const (
	// KeptOpen: the incident has no incident.closed entry; it may be
	// resumed, and is never removed whatever its age.
	KeptOpen KeptReason = "open"
	// KeptRecent: closed less than OlderThan ago.
	KeptRecent KeptReason = "recent"
	// KeptUnreadable: its journal (or mirror) holds lines that are not
	// entries, or cannot be read at all: never delete what cannot be read.
	KeptUnreadable KeptReason = "unreadable"
	// KeptChanged: the mirror ConfigMap changed after it was read (the
	// delete's UID and resourceVersion precondition failed).
	KeptChanged KeptReason = "changed"
)

// Record kinds of PruneFile.
const (
	FileJournal  = "journal"
	FileReport   = "report"
	FileEvidence = "evidence"
	FileOther    = "other"
)

// PruneFile is one local file of an incident.
type PruneFile struct {
	// Path is the file's path.
	Path string `json:"path"`
	// Kind is journal, report, evidence or other (a temporary file left by a crash).
	Kind string `json:"kind"`
	// Removed is set once the file is gone.
	Removed bool `json:"removed,omitempty"`
}

// PruneItem is what Prune decided for one incident.
type PruneItem struct {
	// Summary describes the incident (Status unreadable when its journal
	// cannot be read).
	Summary
	// Namespace is the mirror's namespace (cluster mirrors only).
	Namespace string `json:"namespace,omitempty"`
	// ConfigMap is the mirror's name (cluster mirrors only).
	ConfigMap string `json:"configMap,omitempty"`
	// Last is when the last entry was written; its age decides.
	Last time.Time `json:"last,omitzero"`
	// Age is how long ago Last was (ageSeconds in JSON).
	Age time.Duration `json:"-"`
	// Action is removed, would-remove, kept or failed.
	Action PruneAction `json:"action"`
	// Kept says why the records stay (Action kept).
	Kept KeptReason `json:"kept,omitempty"`
	// Detail explains Kept in words: what is wrong, what to do.
	Detail string `json:"detail,omitempty"`
	// Resume is the command that resumes an open incident, when there is one.
	Resume string `json:"resume,omitempty"`
	// Files are the incident's local files: those removed, or due for removal.
	Files []PruneFile `json:"files,omitempty"`
	// Error is why a removal failed (Action failed).
	Error string `json:"error,omitempty"`
}

// PruneResult is the outcome of Prune.
type PruneResult struct {
	// Cluster is set when the mirrors were pruned (else the local files).
	Cluster bool `json:"cluster"`
	// Dir is the local journal directory (local files only).
	Dir string `json:"dir,omitempty"`
	// Namespace is the mirrors' namespace; empty with Cluster: every namespace.
	Namespace string `json:"namespace,omitempty"`
	// OlderThan is the limit (olderThanSeconds in JSON).
	OlderThan time.Duration `json:"-"`
	// DryRun is set when nothing was removed on purpose (no Delete).
	DryRun bool `json:"dryRun"`
	// Now is the time ages were measured from.
	Now time.Time `json:"now"`
	// Items holds one item per incident, oldest first.
	Items []PruneItem `json:"items"`
}

// MarshalJSON encodes it with Age as ageSeconds, in whole seconds.
func (it PruneItem) MarshalJSON() ([]byte, error) {
	type item PruneItem
	return json.Marshal(struct {
		item
		AgeSeconds int64 `json:"ageSeconds"`
	}{item(it), int64(it.Age / time.Second)})
}

// MarshalJSON encodes r with OlderThan as olderThanSeconds, in whole seconds.
func (r PruneResult) MarshalJSON() ([]byte, error) {
	type result PruneResult
	return json.Marshal(struct {
		result
		OlderThanSeconds int64 `json:"olderThanSeconds"`
	}{result(r), int64(r.OlderThan / time.Second)})
}

// Count returns how many items have action a.
func (r *PruneResult) Count(a PruneAction) int {
	n := 0
	for _, it := range r.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}

// Prune removes the records of closed incidents whose last entry is older
// than o.OlderThan: with o.ConfigMaps the mirror ConfigMaps, else the local
// journal, report, evidence bundles and any other file named after the
// incident. Open incidents, recent ones and records that cannot be read are
// kept, each with its reason. Without o.Delete nothing is removed. A bad
// OlderThan is a refusal (outcome.Refused); failed removals are joined in
// the error, and the result lists every incident either way.
func Prune(ctx context.Context, o PruneOptions) (*PruneResult, error) {
	if o.OlderThan <= 0 {
		return nil, outcome.AsRefused(fmt.Errorf("prune incidents: --older-than must be a positive age, such as 30d or 72h (got %v)", o.OlderThan))
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	res := &PruneResult{OlderThan: o.OlderThan, DryRun: !o.Delete, Now: o.Clock.Now().UTC(), Items: []PruneItem{}}
	if o.ConfigMaps != nil {
		res.Cluster, res.Namespace = true, o.Namespace
		return res, pruneMirrors(ctx, o, res)
	}
	if o.Dir == "" {
		o.Dir = DefaultDir()
	}
	res.Dir = o.Dir
	return res, pruneLocal(ctx, o, res)
}

// decide fills it from entries (and bad, the undecodable lines) and says
// whether the incident is due for removal.
func decide(o PruneOptions, now time.Time, it *PruneItem, entries []Entry, bad []string, readErr error) bool {
	it.Summary = Summarize(it.Incident, entries)
	for _, e := range entries {
		if e.Time.After(it.Last) {
			it.Last = e.Time
		}
	}
	if !it.Last.IsZero() {
		it.Age = now.Sub(it.Last)
	}
	it.Action = PruneKept
	switch {
	case readErr != nil || len(bad) > 0 || len(entries) == 0:
		why := "it holds no entries"
		if readErr != nil {
			why = readErr.Error()
		} else if len(bad) > 0 {
			why = strings.Join(bad, "; ")
		}
		it.Status, it.Kept = "unreadable", KeptUnreadable
		it.Detail = "cannot read it as an incident journal (" + why + "): never removed; look at it and delete it by hand if it is of no use"
		return false
	case it.Closed.IsZero():
		it.Kept, it.Resume = KeptOpen, resumeCommand(it.Incident, entries)
		it.Detail = "open (no incident.closed entry): never removed whatever its age"
		if it.Resume != "" {
			it.Detail += "; resume it with `" + it.Resume + "`"
		} else {
			it.Detail += "; the command that opened it may still be running, or was interrupted: once it no longer runs, close it with `rollback incident close " + it.Incident + " --reason TEXT`"
		}
		return false
	case it.Age <= o.OlderThan:
		it.Kept = KeptRecent
		it.Detail = "closed less than " + FormatAge(o.OlderThan) + " ago"
		return false
	}
	it.Action = PruneWouldRemove
	return true
}

// resumeCommand is the command that resumes an open incident: the one its
// incident.interrupted entry names, or `rollback run --resume ID` for an
// incident `rollback run` opened; empty when none can.
func resumeCommand(id string, entries []Entry) string {
	run := false
	for _, e := range entries {
		if e.Action == ActionIncidentInterrupted {
			if r, ok := e.Inputs["resume"].(string); ok && r != "" {
				return r
			}
		}
		if e.Action == ActionIncidentOpened && e.Inputs["trigger"] == "run" {
			run = true
		}
	}
	if run {
		return "rollback run --resume " + id
	}
	return ""
}

// pruneLocal prunes the journals in o.Dir.
func pruneLocal(ctx context.Context, o PruneOptions, res *PruneResult) error {
	names, err := os.ReadDir(o.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prune incidents: read %s: %w", o.Dir, err)
	}
	var errs []error
	for _, id := range journalIDs(names) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("prune incidents: stopped before %s: %w", id, context.Cause(ctx)))...)
		}
		it := PruneItem{Summary: Summary{Incident: id}}
		path := filepath.Join(o.Dir, id+".jsonl")
		entries, bad, rerr := readEntries(path)
		if decide(o, res.Now, &it, entries, bad, rerr) {
			it.Files = incidentFiles(o.Dir, id, names)
			if o.Delete {
				if err := removeFiles(&it); err != nil {
					errs = append(errs, err)
				}
			}
		}
		res.Items = append(res.Items, it)
		if o.OnItem != nil {
			o.OnItem(it)
		}
	}
	return errors.Join(errs...)
}

// journalIDs returns the incidents with a journal among names, oldest id first.
func journalIDs(names []os.DirEntry) []string {
	var ids []string
	for _, n := range names {
		id, ok := strings.CutSuffix(n.Name(), ".jsonl")
		if ok && !n.IsDir() && ValidateID(id) == nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// incidentFiles returns the files of incident id among names: every file
// named ID.* (journal, report ID.md, evidence ID.evidence*.tar.gz) and the
// temporary files .ID.* a crash left behind, the journal last.
func incidentFiles(dir, id string, names []os.DirEntry) []PruneFile {
	var out []PruneFile
	for _, n := range names {
		name := n.Name()
		if n.IsDir() || name == id+".jsonl" || !(strings.HasPrefix(name, id+".") || strings.HasPrefix(name, "."+id+".")) {
			continue
		}
		out = append(out, PruneFile{Path: filepath.Join(dir, name), Kind: fileKind(id, name)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return append(out, PruneFile{Path: filepath.Join(dir, id+".jsonl"), Kind: FileJournal})
}

// fileKind names what the file name of incident id holds.
func fileKind(id, name string) string {
	switch {
	case name == id+".md":
		return FileReport
	case strings.HasPrefix(name, id+".evidence") && strings.HasSuffix(name, ".tar.gz"):
		return FileEvidence
	}
	return FileOther
}

// removeFiles removes it.Files in order, the journal last, and stops at
// the first failure so that the journal stays while anything else does:
// the next run finds the incident again.
func removeFiles(it *PruneItem) error {
	for i := range it.Files {
		f := &it.Files[i]
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			it.Action, it.Error = PruneFailed, err.Error()
			return fmt.Errorf("prune incident %s: remove %s: %w", it.Incident, f.Kind, err)
		}
		f.Removed = true
	}
	it.Action = PruneRemoved
	return nil
}

// pruneMirrors prunes the mirror ConfigMaps in o.Namespace (every
// namespace when empty).
func pruneMirrors(ctx context.Context, o PruneOptions, res *PruneResult) error {
	list, err := o.ConfigMaps.ConfigMaps(o.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=rollback," + LabelIncident})
	if err != nil {
		return fmt.Errorf("prune incidents: list journal mirrors: %w", err)
	}
	cms := list.Items
	sort.SliceStable(cms, func(i, j int) bool {
		if cms[i].Labels[LabelIncident] != cms[j].Labels[LabelIncident] {
			return cms[i].Labels[LabelIncident] < cms[j].Labels[LabelIncident]
		}
		return cms[i].Namespace < cms[j].Namespace
	})
	var errs []error
	for i := range cms {
		cm := &cms[i]
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("prune incidents: stopped before configmap %s/%s: %w", cm.Namespace, cm.Name, context.Cause(ctx)))...)
		}
		id := cm.Labels[LabelIncident]
		it := PruneItem{Summary: Summary{Incident: id}, Namespace: cm.Namespace, ConfigMap: cm.Name}
		entries, bad := decodeMirrorKeys(cm)
		var idErr error
		if err := ValidateID(id); err != nil {
			idErr = err
		} else if cm.Name != MirrorName(id) {
			idErr = fmt.Errorf("its name is not %s", MirrorName(id))
		}
		if decide(o, res.Now, &it, entries, bad, idErr) {
			if app := cm.Labels[LabelApp]; it.App == "" {
				it.App = app
			}
			if o.Delete {
				if err := deleteMirror(ctx, o.ConfigMaps.ConfigMaps(cm.Namespace), cm, &it); err != nil {
					errs = append(errs, err)
				}
			}
		}
		res.Items = append(res.Items, it)
		if o.OnItem != nil {
			o.OnItem(it)
		}
	}
	return errors.Join(errs...)
}

// deleteMirror deletes cm as it was read: a UID and resourceVersion
// precondition keeps a ConfigMap that changed (an entry added) or was
// replaced meanwhile.
func deleteMirror(ctx context.Context, cms corev1client.ConfigMapInterface, cm *corev1.ConfigMap, it *PruneItem) error {
	uid, rv := cm.UID, cm.ResourceVersion
	err := cms.Delete(ctx, cm.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	switch {
	case err == nil:
		it.Action = PruneRemoved
	case apierrors.IsNotFound(err):
		it.Action, it.Detail = PruneRemoved, "already deleted by someone else"
	case apierrors.IsConflict(err):
		it.Action, it.Kept = PruneKept, KeptChanged
		it.Detail = "configmap " + cm.Namespace + "/" + cm.Name + " changed after it was read (a new entry?): run again to decide on what it holds now"
	default:
		it.Action, it.Error = PruneFailed, err.Error()
		return fmt.Errorf("prune incident %s: delete configmap %s/%s: %w", it.Incident, cm.Namespace, cm.Name, err)
	}
	return nil
}
