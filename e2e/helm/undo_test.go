//go:build e2e

package helm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/release/common"
	rel "helm.sh/helm/v4/pkg/release/v1"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/helmrelease"
)

// badRelease installs v1 (good, marked), upgrades to v2 (crash-looping)
// and to v3 (failed: the API rejects its Deployment), so that the revision
// before the current one is the failed one.
func badRelease(t *testing.T, ns string) *helmenv.Release {
	t.Helper()
	r := newRelease(t, ns, "web")
	r.Install("1.0.0", values("vibestack/app:v1", "s3cret-one", 2))
	sb.WaitRolledOut(t, ns, "web")
	if code, _, _ := rollbackHelm(t, "helm", "mark-good", "web", "-n", ns, "--settle", "0s"); code != 0 {
		t.Fatalf("mark-good exit %d", code)
	}
	if err := r.Upgrade("2.0.0", values("vibestack/app:crash", "s3cret-two", 2)); err != nil {
		t.Fatalf("upgrade to v2: %v", err)
	}
	if err := r.Upgrade("3.0.0", values("vibestack/app:v3", "s3cret-three", -1)); err == nil {
		t.Fatal("upgrade to v3 with replicas -1 succeeded; want Helm to record a failed revision")
	}
	return r
}

// TestUndoPastFailedRevision: `helm rollback` would pick revision 2 (N-1,
// the crash-looping one); rollback goes to the last verified revision 1,
// through Helm's library, and the helm CLI agrees on what happened.
func TestUndoPastFailedRevision(t *testing.T) {
	ns := sb.Namespace(t)
	badRelease(t, ns)
	secrets := []string{"s3cret-one", "s3cret-two", "s3cret-three"}

	code, out, errOut := rollbackHelm(t, "helm", "history", "web", "-n", ns, "-o", "json")
	if code != 0 {
		t.Fatalf("history exit %d", code)
	}
	var h helmrelease.HistoryResult
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if h.Current != 3 || h.LastGood != 1 || h.Revisions[0].Health != helmrelease.HealthGood || h.Revisions[2].Health != helmrelease.HealthFailed || h.Revisions[1].Health != helmrelease.HealthUnverified {
		t.Errorf("history: current %d, last good %d, health %s/%s/%s", h.Current, h.LastGood, h.Revisions[0].Health, h.Revisions[1].Health, h.Revisions[2].Health)
	}
	if h.Revisions[2].Chart != "web-3.0.0" || h.Revisions[2].AppVersion != "3.0.0" || h.Revisions[2].Status != "failed" {
		t.Errorf("revision 3: %+v", h.Revisions[2])
	}
	_, text, _ := rollbackHelm(t, "helm", "history", "web", "-n", ns)
	mustContain(t, "history", text, "last known good revision 1", "current", "last-good")

	code, out, errOut = rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exit %d", code)
	}
	mustContain(t, "dry run", errOut, "to:   revision 1 (web-1.0.0", "last known good revision 1", "apiKey: [REDACTED]", "image: vibestack/app:v3 -> vibestack/app:v1",
		"Deployment/web: changed", "container app image: vibestack/app:v3 -> vibestack/app:v1", "Secret/web-credentials: changed", "replicas: -1 -> 2")
	mustContain(t, "dry run", out, "would roll back from revision 3 to revision 1")
	mustNotContain(t, "dry run", out+errOut, secrets...)
	if got := len(refereeHistory(t, ns, "web")); got != 3 {
		t.Fatalf("dry run changed the history: %d revisions", got)
	}

	journalDir := t.TempDir()
	code, out, errOut = rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", journalDir, "-o", "json")
	if code != 0 {
		t.Fatalf("undo exit %d", code)
	}
	var res helmrelease.UndoResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Verdict != "healthy" || res.NewRevision != 4 || res.Plan.To.Revision != 1 || res.Marked != "good" || len(res.Workloads) != 1 || !res.Workloads[0].MarkedGood {
		t.Errorf("undo result: verdict %s, new %d, to %d, marked %s, workloads %d", res.Verdict, res.NewRevision, res.Plan.To.Revision, res.Marked, len(res.Workloads))
	}
	mustNotContain(t, "undo", out+errOut, secrets...)

	// The referee: Helm's own CLI reads what Helm's library wrote.
	hh := refereeHistory(t, ns, "web")
	if len(hh) != 4 || hh.Line(4) != `4 deployed web-1.0.0 "Rollback to 1"` || hh[2].Status != "failed" || hh[0].Status != "superseded" {
		t.Errorf("helm history after the undo: %+v", hh)
	}
	if v, st := helmenv.Status(t, sb.Kubeconfig, ns, "web"); v != 4 || st != "deployed" {
		t.Errorf("helm status: revision %d %s, want 4 deployed", v, st)
	}
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), "web", metav1GetOptions)
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "vibestack/app:v1" {
		t.Errorf("deployment image after undo: %v %v", d.Spec.Template.Spec.Containers[0].Image, err)
	}

	// The marks are ours, never in Helm's release Secrets; history now
	// says revision 4 is the last known good.
	_, out, _ = rollbackHelm(t, "helm", "history", "web", "-n", ns, "-o", "json")
	h = helmrelease.HistoryResult{}
	json.Unmarshal([]byte(out), &h)
	if h.LastGood != 4 {
		t.Errorf("last good after undo: %d, want 4", h.LastGood)
	}
	sec, err := sb.Clientset.CoreV1().Secrets(ns).Get(ctx(t), "sh.helm.release.v1.web.v4", metav1GetOptions)
	if err != nil {
		t.Fatal(err)
	}
	for k := range sec.Annotations {
		if strings.HasPrefix(k, "rollback.") {
			t.Errorf("rollback wrote %s on Helm's release Secret", k)
		}
	}

	// The journal holds the rollback.
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("journal files %v", files)
	}
	j, _ := os.ReadFile(files[0])
	mustContain(t, "journal", string(j), `"action":"incident.opened"`, `"action":"evidence.collected"`, `"action":"step.started"`, `"action":"step.completed"`, `"target":"helmrelease/web"`, `"action":"incident.closed"`)
	// The evidence of the release's Deployment, kept before Helm's write.
	if bundles, _ := filepath.Glob(filepath.Join(journalDir, "*.evidence.tar.gz")); len(bundles) != 1 {
		t.Errorf("evidence bundles %v, want one", bundles)
	}
	if code, out, _ := rollbackHelm(t, "incident", "evidence", strings.TrimSuffix(filepath.Base(files[0]), ".jsonl"), "--journal-dir", journalDir, "-o", "json"); code != 0 || !strings.Contains(out, "deployment-web/pods.json") {
		t.Errorf("incident evidence: exit %d\n%s", code, out)
	}
	mustNotContain(t, "journal", string(j), secrets...)

	// Already at the last known good revision: skipped.
	if code, out, _ := rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--yes"); code != 0 || !strings.Contains(out, "skipped") {
		t.Errorf("second undo: exit %d, %q", code, out)
	}
}

// TestRefusals: no known-good revision, a missing revision, no terminal.
func TestRefusals(t *testing.T) {
	ns := sb.Namespace(t)
	r := newRelease(t, ns, "web")
	r.Install("1.0.0", values("vibestack/app:v1", "k", 1))
	if err := r.Upgrade("2.0.0", values("vibestack/app:crash", "k", 1)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--yes"}, "no revision of release web is known good"},
		{[]string{"--to-revision", "9", "--yes"}, "release web has no revision 9"},
		{[]string{"--to-revision", "1"}, "no terminal to confirm on"},
		{[]string{"--to-revision", "-1"}, "--to-revision must be positive"},
	} {
		code, _, errOut := rollbackHelm(t, append([]string{"helm", "undo", "web", "-n", ns}, tt.args...)...)
		if code != exitcode.Refused || !strings.Contains(errOut, tt.want) {
			t.Errorf("undo %v: exit %d, want 2 with %q", tt.args, code, tt.want)
		}
	}
	if n := len(refereeHistory(t, ns, "web")); n != 2 {
		t.Errorf("refusals changed the history: %d revisions", n)
	}
	if code, _, errOut := rollbackHelm(t, "helm", "history", "nope", "-n", ns); code != exitcode.Refused || !strings.Contains(errOut, "release nope not found") {
		t.Errorf("history of a missing release: exit %d %q", code, errOut)
	}
	// Named explicitly, an unverified revision is fine.
	if code, _, _ := rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--to-revision", "1", "--yes", "--settle", "0s"); code != 0 {
		t.Errorf("undo --to-revision 1: exit %d", code)
	}
}

// TestPendingUpgrade: a release left pending-upgrade (a helm upgrade killed
// midway) is refused with who and since when; --recover-pending marks it
// failed through Helm's storage and rolls back.
func TestPendingUpgrade(t *testing.T) {
	ns := sb.Namespace(t)
	r := newRelease(t, ns, "web")
	r.Install("1.0.0", values("vibestack/app:v1", "k", 1))
	sb.WaitRolledOut(t, ns, "web")
	rollbackHelm(t, "helm", "mark-good", "web", "-n", ns, "--settle", "0s")
	last, err := r.Config().Releases.Last("web")
	if err != nil {
		t.Fatal(err)
	}
	stuck := *last.(*rel.Release)
	info := *stuck.Info
	stuck.Info, stuck.Version = &info, 2
	stuck.Info.Status, stuck.Info.Description, stuck.Info.LastDeployed = common.StatusPendingUpgrade, "Preparing upgrade", time.Now()
	if err := r.Config().Releases.Create(&stuck); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--yes")
	if code != exitcode.Refused {
		t.Fatalf("undo of a pending release: exit %d, want 2", code)
	}
	mustContain(t, "refusal", errOut, "revision 2 is pending-upgrade since", `"Preparing upgrade"`, "written by", "--recover-pending")

	journalDir := t.TempDir()
	if code, _, _ := rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--yes", "--recover-pending", "--settle", "0s", "--journal-dir", journalDir); code != 0 {
		t.Fatalf("undo --recover-pending: exit %d", code)
	}
	hh := refereeHistory(t, ns, "web")
	if hh.Line(2) == "" || hh[1].Status != "failed" || !strings.Contains(hh[1].Description, "marked failed by rollback --recover-pending") || hh.Line(3) != `3 deployed web-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history after recovery: %+v", hh)
	}
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	if len(files) == 1 {
		j, _ := os.ReadFile(files[0])
		mustContain(t, "journal", string(j), `"action":"helm.pending-recovered"`)
	} else {
		t.Errorf("journal files %v", files)
	}
}

// TestRollbackRunsHelmBinary: the rollback binary runs rollback-helm for
// `rollback helm`, with its exit code.
func TestRollbackRunsHelmBinary(t *testing.T) {
	ns := sb.Namespace(t)
	newRelease(t, ns, "web").Install("1.0.0", values("vibestack/app:v1", "k", 1))
	env := map[string]string{"ROLLBACK_HELM_BIN": helmenv.Program(t)}
	p := clitest.Start(t, clitest.Binary(t), env, "helm", "history", "web", "-n", ns, "--kubeconfig", sb.Kubeconfig)
	res := p.Wait(t, 2*time.Minute)
	if res.Code != 0 || !strings.Contains(res.Stdout, "release web in namespace "+ns) {
		t.Errorf("rollback helm history: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	p = clitest.Start(t, clitest.Binary(t), env, "helm", "undo", "web", "-n", ns, "--yes", "--kubeconfig", sb.Kubeconfig)
	if res := p.Wait(t, 2*time.Minute); res.Code != exitcode.Refused {
		t.Errorf("rollback helm undo with nothing known good: exit %d, want 2", res.Code)
	}
}

// TestUndoOfCLIRelease: a release installed and upgraded by the helm CLI
// (server-side apply as field manager "helm"): rollback's undo applies as
// the same manager, so neither it nor the next `helm upgrade` conflicts.
func TestUndoOfCLIRelease(t *testing.T) {
	ns := sb.Namespace(t)
	chart := helmenv.Chart()
	helmCLI(t, "install", "web", chart, "-n", ns, "--set", "image=vibestack/app:v1", "--wait", "--timeout", "2m")
	if code, _, _ := rollbackHelm(t, "helm", "mark-good", "web", "-n", ns, "--settle", "0s"); code != 0 {
		t.Fatalf("mark-good exit %d", code)
	}
	helmCLI(t, "upgrade", "web", chart, "-n", ns, "--set", "image=vibestack/app:crash")
	code, out, _ := rollbackHelm(t, "helm", "undo", "web", "-n", ns, "--yes", "--settle", "0s", "--journal-dir", t.TempDir(), "-o", "json")
	if code != 0 {
		t.Fatalf("undo exit %d: %s", code, out)
	}
	if !strings.Contains(out, `"fieldManager": "helm"`) {
		t.Errorf("the undo did not apply as the CLI's field manager: %s", out)
	}
	if line := refereeHistory(t, ns, "web").Line(3); line != `3 deployed web-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history revision 3: %s", line)
	}
	helmCLI(t, "upgrade", "web", chart, "-n", ns, "--set", "image=vibestack/app:v5")
}
