//go:build e2e

package journal_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/pkg/journal"
)

var openedRE = regexp.MustCompile(`incident (inc-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}) opened`)

// flagIncident runs `rollback flag disable NAME` in ns: one closed
// incident of one step, with its report in dir and its mirror in ns.
func flagIncident(t *testing.T, ns, dir, flag string) string {
	t.Helper()
	code, _, errOut := run(t, "flag", "disable", flag, "--configmap", "vibestack-feature-flags", "-n", ns, "--journal-dir", dir, "--reason", "prune test")
	m := openedRE.FindStringSubmatch(errOut)
	if code != 0 || m == nil {
		t.Fatalf("flag disable %s: exit %d, stderr %q", flag, code, errOut)
	}
	return m[1]
}

// mirrorNames lists the journal mirrors in ns as kubectl sees them.
func mirrorNames(t *testing.T, ns string) []string {
	t.Helper()
	out := sb.Kubectl(t, "get", "configmaps", "-n", ns, "-l", journal.LabelManagedBy+"=rollback,"+journal.LabelIncident, "-o", "name")
	return strings.Fields(out)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestPrune: incidents closed by real commands (two flag disables, each
// with its report, one with an evidence bundle beside it), one left open
// and one unreadable journal; prune without --yes removes nothing, with
// --yes exactly the closed incidents' files, then with --cluster their
// mirror ConfigMaps; the open one and the unreadable one stay.
func TestPrune(t *testing.T) {
	ns := sb.Namespace(t)
	cms := sb.Clientset.CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "vibestack-feature-flags"},
		Data: map[string]string{"new-checkout": "true", "dark-mode": "true"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := flagIncident(t, ns, dir, "new-checkout"), flagIncident(t, ns, dir, "dark-mode")
	// An evidence bundle beside a's journal (flag commands collect none).
	if err := os.WriteFile(filepath.Join(dir, a+".evidence.tar.gz"), []byte("bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A `rollback run` that never closed: open, mirrored.
	open := journal.NewID(time.Now())
	j, err := journal.Open(journal.Options{Dir: dir, Incident: open, Actor: "ana@laptop", Mirror: &journal.ConfigMapMirror{ConfigMaps: cms, App: "vibestack-app"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(ctx(t), journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "vibestack-app", "trigger": "run"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	unreadable := "inc-20200101-000000-dead"
	if err := os.WriteFile(filepath.Join(dir, unreadable+".jsonl"), []byte("not a journal line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closedFiles := []string{a + ".jsonl", a + ".md", a + ".evidence.tar.gz", b + ".jsonl", b + ".md"}
	kept := []string{open + ".jsonl", unreadable + ".jsonl"}
	for _, f := range append(closedFiles, kept...) {
		if !exists(filepath.Join(dir, f)) {
			t.Fatalf("%s missing before the prune", f)
		}
	}
	allMirrors := []string{"configmap/" + journal.MirrorName(a), "configmap/" + journal.MirrorName(b), "configmap/" + journal.MirrorName(open)}
	slices.Sort(allMirrors)
	if got := mirrorNames(t, ns); !slices.Equal(got, allMirrors) {
		t.Fatalf("kubectl sees mirrors %v, want %v", got, allMirrors)
	}

	// Nothing is an hour old: a no-op, a success, with or without --yes.
	for _, yes := range [][]string{nil, {"--yes"}} {
		code, out, _ := run(t, append([]string{"incident", "prune", "--older-than", "1h", "--journal-dir", dir}, yes...)...)
		if code != 0 || !strings.Contains(out, "nothing older than 1h: 4 incidents kept in "+dir) {
			t.Errorf("prune --older-than 1h: exit %d, %q", code, out)
		}
	}
	// Bad input: refused, nothing removed.
	for _, args := range [][]string{{"--yes"}, {"--older-than", "0", "--yes"}, {"--older-than", "-1d", "--yes"}, {"--older-than", "soon", "--yes"}} {
		if code, _, errOut := run(t, append([]string{"incident", "prune", "--journal-dir", dir}, args...)...); code != 2 || !strings.Contains(errOut, "older-than") {
			t.Errorf("prune %v: exit %d, %q; want 2", args, code, errOut)
		}
	}

	// Wait until the last entry of every incident is more than a second old.
	var last time.Time
	for _, id := range []string{a, b, open} {
		es, err := journal.Read(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		last = maxTime(last, es[len(es)-1].Time)
	}
	clitest.WaitFor(t, time.Minute, "the incidents to be older than 1s", func() bool { return time.Since(last) > 2*time.Second })

	code, out, _ := run(t, "incident", "prune", "--older-than", "1s", "--journal-dir", dir)
	for _, want := range []string{
		a + " closed ", ": would remove journal, report, evidence\n",
		b + " closed ", ": would remove journal, report\n",
		open + " open since ", "kept: open (no incident.closed entry): never removed whatever its age; resume it with `rollback run --resume " + open + "`",
		unreadable + ": kept: cannot read it as an incident journal (line 1: invalid character",
		"2 incidents closed more than 1s ago would be removed, 2 kept in " + dir + ": run again with --yes to remove them",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("dry run: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	for _, f := range append(closedFiles, kept...) {
		if !exists(filepath.Join(dir, f)) {
			t.Errorf("the dry run removed %s", f)
		}
	}

	code, out, _ = run(t, "incident", "prune", "--older-than", "1s", "--journal-dir", dir, "--yes", "-o", "json")
	var res journal.PruneResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.DryRun || len(res.Items) != 4 {
		t.Fatalf("prune --yes -o json: exit %d, %v:\n%s", code, err, out)
	}
	for _, it := range res.Items {
		want := journal.PruneKept
		if it.Incident == a || it.Incident == b {
			want = journal.PruneRemoved
		}
		if it.Action != want {
			t.Errorf("%s: %s, want %s (%+v)", it.Incident, it.Action, want, it)
		}
	}
	for _, f := range closedFiles {
		if exists(filepath.Join(dir, f)) {
			t.Errorf("%s is still there after --yes", f)
		}
	}
	for _, f := range kept {
		if !exists(filepath.Join(dir, f)) {
			t.Errorf("%s was removed", f)
		}
	}
	code, out, _ = run(t, "incident", "list", "--journal-dir", dir)
	if code != 0 || strings.Contains(out, a) || strings.Contains(out, b) || !strings.Contains(out, open) {
		t.Errorf("incident list after the prune: exit %d:\n%s", code, out)
	}
	// The local prune leaves the cluster alone.
	if got := mirrorNames(t, ns); !slices.Equal(got, allMirrors) {
		t.Fatalf("after the local prune kubectl sees mirrors %v, want %v", got, allMirrors)
	}

	// The mirrors: a dry run, then --yes.
	code, out, _ = run(t, "incident", "prune", "--older-than", "1s", "--cluster", "-n", ns)
	for _, want := range []string{
		ns + "/" + a + " closed ", ": would remove configmap " + journal.MirrorName(a) + "\n",
		ns + "/" + open + " open since ", "2 incidents closed more than 1s ago would be removed, 1 kept in namespace " + ns,
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("cluster dry run: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	code, out, _ = run(t, "incident", "prune", "--older-than", "1s", "--cluster", "-A")
	if code != 0 || !strings.Contains(out, ns+"/"+b+" closed ") || !strings.Contains(out, "in every namespace: run again with --yes") {
		t.Errorf("cluster dry run -A: exit %d:\n%s", code, out)
	}
	if got := mirrorNames(t, ns); !slices.Equal(got, allMirrors) {
		t.Fatalf("after the dry runs kubectl sees mirrors %v, want %v", got, allMirrors)
	}
	code, out, _ = run(t, "incident", "prune", "--older-than", "1s", "--cluster", "-n", ns, "--yes")
	if code != 0 || !strings.Contains(out, ": removed configmap "+journal.MirrorName(b)+"\n") || !strings.Contains(out, "removed 2 incidents closed more than 1s ago, kept 1 in namespace "+ns) {
		t.Errorf("cluster --yes: exit %d:\n%s", code, out)
	}
	if got := mirrorNames(t, ns); !slices.Equal(got, []string{"configmap/" + journal.MirrorName(open)}) {
		t.Errorf("after the cluster prune kubectl sees mirrors %v, want only the open incident's", got)
	}
	if _, err := cms.Get(ctx(t), "vibestack-feature-flags", metav1.GetOptions{}); err != nil {
		t.Errorf("the flags ConfigMap: %v", err)
	}
	code, out, _ = run(t, "incident", "list", "--cluster", "-n", ns)
	if code != 0 || strings.Contains(out, a) || strings.Contains(out, b) || !strings.Contains(out, open) {
		t.Errorf("incident list --cluster after the prune: exit %d:\n%s", code, out)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// addsEntryFirst is the namespace's ConfigMap client, except that Delete
// first mirrors one more entry of the incident into the ConfigMap, as a
// second engineer would between prune's List and its Delete.
type addsEntryFirst struct {
	corev1client.ConfigMapsGetter
	t *testing.T
}

func (g addsEntryFirst) ConfigMaps(ns string) corev1client.ConfigMapInterface {
	return addsEntryCMs{g.ConfigMapsGetter.ConfigMaps(ns), g.t}
}

type addsEntryCMs struct {
	corev1client.ConfigMapInterface
	t *testing.T
}

func (c addsEntryCMs) Delete(ctx context.Context, name string, o metav1.DeleteOptions) error {
	id := strings.TrimPrefix(name, "rollback-")
	m := &journal.ConfigMapMirror{ConfigMaps: c.ConfigMapInterface}
	if err := m.Mirror(ctx, journal.Entry{Seq: 99, Incident: id, Time: time.Now().UTC(), Action: journal.ActionNotifySent, Result: journal.ResultOK}); err != nil {
		c.t.Errorf("add an entry before the delete: %v", err)
	}
	return c.ConfigMapInterface.Delete(ctx, name, o)
}

// TestPruneKeepsAMirrorThatChanged: the apiserver refuses prune's delete of
// a mirror that received an entry after prune read it (UID and
// resourceVersion precondition); the ConfigMap stays and the result says so.
func TestPruneKeepsAMirrorThatChanged(t *testing.T) {
	ns := sb.Namespace(t)
	cms := sb.Clientset.CoreV1().ConfigMaps(ns)
	id := journal.NewID(time.Now())
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), Incident: id, Mirror: &journal.ConfigMapMirror{ConfigMaps: cms, App: "vibestack-app"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []journal.Entry{{Action: journal.ActionIncidentOpened}, {Action: journal.ActionIncidentClosed, Result: journal.ResultOK}} {
		if _, err := j.Append(ctx(t), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	clitest.WaitFor(t, time.Minute, "the incident to be older than 1s", func() bool { return time.Since(start) > 2*time.Second })
	res, err := journal.Prune(ctx(t), journal.PruneOptions{ConfigMaps: addsEntryFirst{sb.Clientset.CoreV1(), t}, Namespace: ns,
		OlderThan: time.Second, Delete: true, Clock: clock.RealClock{}})
	if err != nil || len(res.Items) != 1 || res.Items[0].Action != journal.PruneKept || res.Items[0].Kept != journal.KeptChanged {
		t.Fatalf("prune of a mirror that changed: %+v, %v; want it kept as changed", res, err)
	}
	es, err := journal.ReadMirror(ctx(t), cms, id)
	if err != nil || len(es) != 3 {
		t.Errorf("the mirror after the refused delete: %d entries, %v; want all 3", len(es), err)
	}
}
