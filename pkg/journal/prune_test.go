package journal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

// pruneNow is "now" in the prune tests: 62 days after t0.
var pruneNow = t0.Add(62 * Day)

// writeIncident writes the journal of id in dir with entries stamped at
// the times given (the clock moves to each), mirrored to cms when set.
func writeIncident(t *testing.T, dir, id string, cms corev1client.ConfigMapInterface, entries []Entry, at ...time.Time) {
	t.Helper()
	clk := clocktesting.NewFakeClock(at[0])
	o := Options{Dir: dir, Incident: id, Clock: clk, Actor: "ana@laptop"}
	if cms != nil {
		o.Mirror = &ConfigMapMirror{ConfigMaps: cms, App: "shop"}
	}
	j, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		clk.SetTime(at[min(i, len(at)-1)])
		if _, err := j.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func opened(trigger string) Entry {
	return Entry{Action: ActionIncidentOpened, Inputs: map[string]any{"app": "shop", "trigger": trigger}}
}

var closedOK = Entry{Action: ActionIncidentClosed, Result: ResultOK}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPruneLocal(t *testing.T) {
	const (
		old    = "inc-20261126-033122-0001"
		recent = "inc-20260126-000000-0002"
		open   = "inc-20261126-033122-0003"
		intr   = "inc-20261126-033122-0004"
		bad    = "inc-20261126-033122-0005"
		empty  = "inc-20261126-033122-0006"
		torn   = "inc-20261126-033122-0007"
		single = "inc-20261126-033122-0008"
	)
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		writeIncident(t, dir, old, nil, []Entry{opened("run"), closedOK}, t0, t0.Add(time.Minute))
		for _, name := range []string{old + ".md", old + ".evidence.tar.gz", old + ".evidence-2.tar.gz", "." + old + ".md.3fa9", old + "-x.md", "notes.txt"} {
			touch(t, filepath.Join(dir, name))
		}
		writeIncident(t, dir, recent, nil, []Entry{opened("flag disable"), closedOK}, pruneNow.Add(-3*Day))
		writeIncident(t, dir, open, nil, []Entry{opened("run")}, t0)
		writeIncident(t, dir, intr, nil, []Entry{opened("app undo"),
			{Action: ActionIncidentInterrupted, Result: ResultFailed, Inputs: map[string]any{"resume": "rollback run --resume " + intr}}}, t0)
		writeIncident(t, dir, single, nil, []Entry{opened("app undo")}, t0)
		// A line that is not an entry, before the close: unreadable.
		writeIncident(t, dir, bad, nil, []Entry{opened("run")}, t0)
		f, _ := os.OpenFile(filepath.Join(dir, bad+".jsonl"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("{\"seq\": \"two\"}\n")
		f.Close()
		writeIncident(t, dir, bad, nil, []Entry{closedOK}, t0)
		touch(t, filepath.Join(dir, empty+".jsonl"))
		os.Truncate(filepath.Join(dir, empty+".jsonl"), 0)
		// A line torn by a crash is expected: the incident still counts.
		writeIncident(t, dir, torn, nil, []Entry{opened("run"), closedOK}, t0)
		f, _ = os.OpenFile(filepath.Join(dir, torn+".jsonl"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(`{"seq":3,"action":"notify.se`)
		f.Close()
		return dir
	}
	want := map[string]struct {
		action PruneAction
		kept   KeptReason
		detail string
		resume string
	}{
		old:    {action: PruneRemoved},
		torn:   {action: PruneRemoved},
		recent: {action: PruneKept, kept: KeptRecent, detail: "closed less than 30d ago"},
		open:   {action: PruneKept, kept: KeptOpen, resume: "rollback run --resume " + open, detail: "resume it with `rollback run --resume " + open + "`"},
		intr:   {action: PruneKept, kept: KeptOpen, resume: "rollback run --resume " + intr},
		single: {action: PruneKept, kept: KeptOpen, detail: "close it with `rollback incident close " + single + " --reason TEXT`"},
		bad:    {action: PruneKept, kept: KeptUnreadable, detail: "line 2: json: cannot unmarshal"},
		empty:  {action: PruneKept, kept: KeptUnreadable, detail: "it holds no entries"},
	}
	for _, del := range []bool{false, true} {
		t.Run(map[bool]string{false: "dry-run", true: "yes"}[del], func(t *testing.T) {
			dir := setup(t)
			var seen []string
			res, err := Prune(context.Background(), PruneOptions{Dir: dir, OlderThan: 30 * Day, Delete: del,
				Clock: clocktesting.NewFakePassiveClock(pruneNow), OnItem: func(it PruneItem) { seen = append(seen, it.Incident) }})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != len(want) || len(seen) != len(want) || res.DryRun == del || !res.Now.Equal(pruneNow) {
				t.Fatalf("result %+v (seen %v), want %d items", res, seen, len(want))
			}
			for _, it := range res.Items {
				w := want[it.Incident]
				if w.action == PruneRemoved && !del {
					w.action = PruneWouldRemove
				}
				if it.Action != w.action || it.Kept != w.kept || it.Resume != w.resume || !strings.Contains(it.Detail, w.detail) {
					t.Errorf("%s: %s %s %q (resume %q), want %s %s %q (resume %q)", it.Incident, it.Action, it.Kept, it.Detail, it.Resume, w.action, w.kept, w.detail, w.resume)
				}
			}
			left, _ := os.ReadDir(dir)
			var names []string
			for _, n := range left {
				names = append(names, n.Name())
			}
			gone := []string{old + ".jsonl", old + ".md", old + ".evidence.tar.gz", old + ".evidence-2.tar.gz", "." + old + ".md.3fa9", torn + ".jsonl"}
			for _, n := range gone {
				if slices.Contains(names, n) == del {
					t.Errorf("%s present: %v; want removed only with Delete", n, slices.Contains(names, n))
				}
			}
			for _, n := range []string{old + "-x.md", "notes.txt", recent + ".jsonl", open + ".jsonl", bad + ".jsonl", empty + ".jsonl"} {
				if !slices.Contains(names, n) {
					t.Errorf("%s was removed", n)
				}
			}
			item := res.Items[slices.IndexFunc(res.Items, func(it PruneItem) bool { return it.Incident == old })]
			var kinds []string
			for _, f := range item.Files {
				kinds = append(kinds, f.Kind)
				if f.Removed != del {
					t.Errorf("%s removed = %v", f.Path, f.Removed)
				}
			}
			if strings.Join(kinds, ",") != "other,evidence,evidence,report,journal" || item.Age != 62*Day-time.Minute || item.App != "shop" || item.Status != "ok" {
				t.Errorf("old incident: kinds %v, age %v, %+v", kinds, item.Age, item)
			}
		})
	}
}

func TestPruneBoundaryAndBadInput(t *testing.T) {
	dir := t.TempDir()
	id := "inc-20261126-033122-0001"
	writeIncident(t, dir, id, nil, []Entry{opened("run"), closedOK}, t0)
	for _, tt := range []struct {
		olderThan time.Duration
		action    PruneAction
	}{{time.Hour, PruneWouldRemove}, {62*Day - time.Nanosecond, PruneWouldRemove}, {62 * Day, PruneKept}} {
		res, err := Prune(context.Background(), PruneOptions{Dir: dir, OlderThan: tt.olderThan, Clock: clocktesting.NewFakePassiveClock(pruneNow)})
		if err != nil || len(res.Items) != 1 || res.Items[0].Action != tt.action {
			t.Errorf("older than %v: %+v, %v; want %s", tt.olderThan, res, err, tt.action)
		}
	}
	for _, d := range []time.Duration{0, -time.Hour} {
		if _, err := Prune(context.Background(), PruneOptions{Dir: dir, OlderThan: d}); outcome.KindOf(err) != outcome.Refused {
			t.Errorf("older than %v: %v, want a refusal", d, err)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := Prune(cancelled, PruneOptions{Dir: dir, OlderThan: time.Hour, Delete: true}); !errors.Is(err, context.Canceled) || len(res.Items) != 0 {
		t.Errorf("cancelled: %+v, %v; want it to stop before the first incident", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, id+".jsonl")); err != nil {
		t.Errorf("cancelled prune removed the journal: %v", err)
	}
	res, err := Prune(context.Background(), PruneOptions{Dir: filepath.Join(dir, "none"), OlderThan: time.Hour})
	if err != nil || len(res.Items) != 0 {
		t.Errorf("missing dir: %+v, %v", res, err)
	}
}

func TestPruneKeepsTheJournalWhenARemovalFails(t *testing.T) {
	dir := t.TempDir()
	id := "inc-20261126-033122-0001"
	writeIncident(t, dir, id, nil, []Entry{opened("run"), closedOK}, t0)
	// A non-empty directory cannot be removed (by root either).
	stuck := filepath.Join(dir, "stuck")
	touch(t, filepath.Join(dir, "x"))
	if err := os.MkdirAll(filepath.Join(stuck, "in"), 0o700); err != nil {
		t.Fatal(err)
	}
	it := PruneItem{Summary: Summary{Incident: id}, Files: []PruneFile{{Path: filepath.Join(dir, "x"), Kind: FileOther}, {Path: stuck, Kind: FileEvidence}, {Path: filepath.Join(dir, id+".jsonl"), Kind: FileJournal}}}
	err := removeFiles(&it)
	if err == nil || it.Action != PruneFailed || !strings.Contains(err.Error(), "remove evidence") || !it.Files[0].Removed || it.Files[1].Removed || it.Files[2].Removed {
		t.Fatalf("%+v, %v; want the evidence's removal to fail after the first file's", it, err)
	}
	if _, err := os.Stat(filepath.Join(dir, id+".jsonl")); err != nil {
		t.Errorf("journal gone after a failed removal: %v", err)
	}
}

// conflictOn makes Delete of one ConfigMap fail as if it changed after the List.
type conflictOn struct {
	corev1client.ConfigMapsGetter
	name string
}

func (c conflictOn) ConfigMaps(ns string) corev1client.ConfigMapInterface {
	return conflictCMs{c.ConfigMapsGetter.ConfigMaps(ns), c.name}
}

type conflictCMs struct {
	corev1client.ConfigMapInterface
	name string
}

func (c conflictCMs) Delete(ctx context.Context, name string, o metav1.DeleteOptions) error {
	if name == c.name {
		return apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, name, errors.New("precondition failed"))
	}
	if o.Preconditions == nil || o.Preconditions.UID == nil || o.Preconditions.ResourceVersion == nil {
		return errors.New("delete without a UID and resourceVersion precondition")
	}
	return c.ConfigMapInterface.Delete(ctx, name, o)
}

func TestPruneMirrors(t *testing.T) {
	const (
		old     = "inc-20261126-033122-0001"
		open    = "inc-20261126-033122-0002"
		changed = "inc-20261126-033122-0003"
		other   = "inc-20261126-033122-0004"
	)
	cs := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config", Namespace: "shop", Labels: map[string]string{LabelManagedBy: "rollback"}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "rollback-inc-20261126-033122-0009", Namespace: "shop", Labels: map[string]string{LabelManagedBy: "rollback", LabelIncident: "inc-20261126-033122-0009"}},
			Data: map[string]string{"000001.json": "not json"}},
	)
	dir := t.TempDir()
	writeIncident(t, dir, old, cs.CoreV1().ConfigMaps("shop"), []Entry{opened("run"), closedOK}, t0)
	writeIncident(t, dir, open, cs.CoreV1().ConfigMaps("shop"), []Entry{opened("run")}, t0)
	writeIncident(t, dir, changed, cs.CoreV1().ConfigMaps("shop"), []Entry{opened("run"), closedOK}, t0)
	writeIncident(t, dir, other, cs.CoreV1().ConfigMaps("pay"), []Entry{opened("run"), closedOK}, t0)
	for _, tt := range []struct {
		name, ns string
		del      bool
		want     map[string]PruneAction
		gone     []string
	}{
		{name: "dry run, every namespace", want: map[string]PruneAction{old: PruneWouldRemove, open: PruneKept, changed: PruneWouldRemove, other: PruneWouldRemove, "inc-20261126-033122-0009": PruneKept}},
		{name: "shop", ns: "shop", del: true, want: map[string]PruneAction{old: PruneRemoved, open: PruneKept, changed: PruneKept, "inc-20261126-033122-0009": PruneKept}, gone: []string{"shop/" + old}},
		{name: "every namespace", del: true, want: map[string]PruneAction{open: PruneKept, changed: PruneKept, other: PruneRemoved, "inc-20261126-033122-0009": PruneKept}, gone: []string{"shop/" + old, "pay/" + other}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Prune(context.Background(), PruneOptions{ConfigMaps: conflictOn{cs.CoreV1(), MirrorName(changed)}, Namespace: tt.ns,
				OlderThan: 30 * Day, Delete: tt.del, Clock: clocktesting.NewFakePassiveClock(pruneNow)})
			if err != nil || !res.Cluster || res.Dir != "" {
				t.Fatalf("%+v, %v", res, err)
			}
			got := map[string]PruneAction{}
			for _, it := range res.Items {
				got[it.Incident] = it.Action
				switch it.Incident {
				case changed:
					if tt.del && (it.Kept != KeptChanged || !strings.Contains(it.Detail, "changed after it was read")) {
						t.Errorf("changed: %+v", it)
					}
				case open:
					if it.Kept != KeptOpen || it.Namespace != "shop" || it.ConfigMap != MirrorName(open) {
						t.Errorf("open: %+v", it)
					}
				case "inc-20261126-033122-0009":
					if it.Kept != KeptUnreadable || !strings.Contains(it.Detail, "key 000001.json") {
						t.Errorf("bad: %+v", it)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
			for id, a := range tt.want {
				if got[id] != a {
					t.Errorf("%s: %s, want %s", id, got[id], a)
				}
			}
			for _, ns := range []string{"shop", "pay"} {
				for _, id := range []string{old, open, changed, other} {
					_, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), MirrorName(id), metav1.GetOptions{})
					exists := err == nil
					if (ns == "pay") != (id == other) {
						continue
					}
					if exists == slices.Contains(tt.gone, ns+"/"+id) {
						t.Errorf("configmap %s/%s exists = %v after %s", ns, MirrorName(id), exists, tt.name)
					}
				}
			}
			if _, err := cs.CoreV1().ConfigMaps("shop").Get(context.Background(), "app-config", metav1.GetOptions{}); err != nil {
				t.Errorf("app-config: %v", err)
			}
		})
	}
}

func TestParseAndFormatAge(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"30d", 30 * Day, "30d"}, {"1d12h", 36 * time.Hour, "1d12h"}, {"72h", 72 * time.Hour, "3d"}, {"90m", 90 * time.Minute, "1h30m"},
		{"1s", time.Second, "1s"}, {"10s", 10 * time.Second, "10s"}, {" 2d ", 2 * Day, "2d"}, {"1h0m", time.Hour, "1h"},
	} {
		got, err := ParseAge(tt.in)
		if err != nil || got != tt.want || FormatAge(got) != tt.out {
			t.Errorf("ParseAge(%q) = %v, %v (formatted %q); want %v, %q", tt.in, got, err, FormatAge(got), tt.want, tt.out)
		}
	}
	for _, in := range []string{"", "0", "0d", "-1h", "-3d", "1.5d", "30", "soon", "d", "1dd", "99999999d"} {
		if _, err := ParseAge(in); outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "such as 30d") {
			t.Errorf("ParseAge(%q): %v, want a refusal saying what to write", in, err)
		}
	}
	for d, want := range map[time.Duration]string{62 * Day: "62d", 5*time.Hour + 3*time.Minute: "5h", 3 * time.Minute: "3m", 12 * time.Second: "12s", -time.Second: "0s"} {
		if got := RoundAge(d); got != want {
			t.Errorf("RoundAge(%v) = %q, want %q", d, got, want)
		}
	}
}
