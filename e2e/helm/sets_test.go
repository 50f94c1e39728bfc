//go:build e2e

package helm_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/helmrelease"
	"github.com/vibestack/rollback/pkg/rollout"
)

// setsChart is a chart with one workload of each kind: Deployment web,
// OrderedReady StatefulSet db (3 replicas, no volumes, its headless
// Service) and DaemonSet agent; each image's tag is a value (webTag,
// dbTag, agentTag), v1 by default. Optional values: dbAnnotations and
// agentAnnotations (on the StatefulSet and the DaemonSet), apiKey (a
// Secret stack-credentials holding it).
var setsChart = map[string]string{
	"Chart.yaml":  "apiVersion: v2\nname: stack\nversion: 1.0.0\nappVersion: \"1.0.0\"\n",
	"values.yaml": "webTag: v1\ndbTag: v1\nagentTag: v1\n",
	"templates/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: "vibestack/web:{{ .Values.webTag }}"
`,
	"templates/db.yaml": `apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  {{- with .Values.dbAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  replicas: 3
  serviceName: db
  podManagementPolicy: OrderedReady
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: app
          image: "vibestack/db:{{ .Values.dbTag }}"
`,
	"templates/agent.yaml": `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  {{- with .Values.agentAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - name: app
          image: "vibestack/agent:{{ .Values.agentTag }}"
`,
	"templates/secret.yaml": `{{- with .Values.apiKey }}
apiVersion: v1
kind: Secret
metadata:
  name: stack-credentials
stringData:
  API_KEY: {{ . | quote }}
{{- end }}
`,
}

// writeSetsChart writes setsChart into a directory and returns it.
func writeSetsChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stack")
	for name, text := range setsChart {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// installSets installs release stack with helm install (args added:
// values), waits until every workload rolled out and marks it good with
// mark-good, which verifies all three. It returns the chart's directory.
func installSets(t *testing.T, ns string, args ...string) string {
	t.Helper()
	chart := writeSetsChart(t)
	helmCLI(t, append([]string{"install", "stack", chart, "-n", ns}, args...)...)
	sb.WaitRolledOut(t, ns, "web")
	sb.WaitStatefulSetRolledOut(t, ns, "db")
	sb.WaitDaemonSetRolledOut(t, ns, "agent")
	code, out, _ := rollbackHelm(t, "helm", "mark-good", "stack", "-n", ns, "--settle", "0s", "-o", "json")
	if code != 0 {
		t.Fatalf("mark-good exit %d", code)
	}
	var mg helmrelease.MarkGoodResult
	if err := json.Unmarshal([]byte(out), &mg); err != nil {
		t.Fatal(err)
	}
	if got := kindsOf(mg.Workloads); got != "Deployment/web StatefulSet/db DaemonSet/agent" || mg.Marked != "good" {
		t.Fatalf("mark-good verified %s, marked %s; want every workload of the release, good", got, mg.Marked)
	}
	return chart
}

// crashingSets installs release stack (v1, installSets) and upgrades it
// with the helm CLI to a v2 whose StatefulSet crashes (dbTag crash-v2):
// OrderedReady, the StatefulSet replaces db-2 first and waits for it for
// ever. It returns the UIDs of db's pods once db-2 crash-loops at v2.
func crashingSets(t *testing.T, ns string) map[string]types.UID {
	t.Helper()
	chart := installSets(t, ns)
	helmCLI(t, "upgrade", "stack", chart, "-n", ns, "--set", "dbTag=crash-v2")
	var uids map[string]types.UID
	clitest.WaitFor(t, 2*time.Minute, "db-2 to crash-loop at the bad revision", func() bool {
		uids = map[string]types.UID{}
		crashing := false
		for _, p := range sb.Pods(t, ns, "app=db") {
			uids[p.Name] = p.UID
			if p.Name == "db-2" && p.Spec.Containers[0].Image == "vibestack/db:crash-v2" && restarts(p) > 0 {
				crashing = true
			}
		}
		return crashing && len(uids) == 3
	})
	return uids
}

func restarts(p corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

// kindsOf names verifications as "Kind/name", space-separated.
func kindsOf(ws []*rollout.StatusResult) string {
	var s []string
	for _, w := range ws {
		s = append(s, string(w.Kind)+"/"+w.Name)
	}
	return strings.Join(s, " ")
}

// rolloutStatus is `kubectl rollout status` of workload in ns: the
// referee that the StatefulSet's rollout completes.
func rolloutStatus(t *testing.T, ns, workload string) {
	t.Helper()
	if _, err := exec.LookPath(sandboxenv.KubectlBin); err != nil {
		t.Logf("kubectl not installed at %s: no referee for %s", sandboxenv.KubectlBin, workload)
		return
	}
	if out, err := sb.KubectlErr(t, "-n", ns, "rollout", "status", workload, "--timeout", "2m"); err != nil {
		t.Errorf("kubectl rollout status %s: %v\n%s", workload, err, out)
	}
}

// TestSetsUndo: a release with a Deployment, an OrderedReady StatefulSet
// and a DaemonSet; v2 crashes only the StatefulSet, which Helm's rollback
// alone leaves stuck on its crash-looping db-2 (kubernetes/kubernetes#67250).
// `rollback helm undo` goes back to v1 through Helm (helm history agrees),
// replaces db-2 and only it, verifies all three workloads, marks the new
// revision good and keeps the evidence of every workload.
func TestSetsUndo(t *testing.T) {
	ns := sb.Namespace(t)
	before := crashingSets(t, ns)

	journalDir := t.TempDir()
	code, out, errOut := rollbackHelm(t, "helm", "undo", "stack", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", journalDir, "-o", "json")
	if code != 0 {
		t.Fatalf("undo exit %d", code)
	}
	var res helmrelease.UndoResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Verdict != "healthy" || res.NewRevision != 3 || res.Plan.To.Revision != 1 || res.Marked != "good" {
		t.Errorf("undo result: verdict %s, new %d, to %d, marked %s", res.Verdict, res.NewRevision, res.Plan.To.Revision, res.Marked)
	}
	if got := strings.Join(res.Plan.Workloads, " "); got != "deployment/web statefulset/db daemonset/agent" {
		t.Errorf("plan workloads %q", got)
	}
	if got := strings.Join(res.Plan.Deployments, " "); got != "web" {
		t.Errorf("plan deployments %q", got)
	}
	if got := kindsOf(res.Workloads); got != "Deployment/web StatefulSet/db DaemonSet/agent" {
		t.Fatalf("verified %q, want every workload of the release", got)
	}
	for _, w := range res.Workloads {
		if w.Verdict != "healthy" {
			t.Errorf("%s/%s: %s %s", w.Kind, w.Name, w.Verdict, w.Reason)
		}
	}
	if db := res.Workloads[1]; len(db.Replaced) != 1 || db.Replaced[0].Pod != "db-2" || db.Replaced[0].Why != rollout.ReplacedStuck {
		t.Errorf("statefulset db replaced %+v, want db-2 (stuck)", db.Replaced)
	}
	mustContain(t, "undo progress", errOut, "db-2")

	// The referee: Helm recorded the rollback; kubectl sees the
	// StatefulSet's rollout complete.
	if line := refereeHistory(t, ns, "stack").Line(3); line != `3 deployed stack-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history revision 3: %s", line)
	}
	rolloutStatus(t, ns, "statefulset/db")
	after := map[string]types.UID{}
	for _, p := range sb.Pods(t, ns, "app=db") {
		after[p.Name] = p.UID
		if img := p.Spec.Containers[0].Image; img != "vibestack/db:v1" {
			t.Errorf("pod %s runs %s after the undo, want vibestack/db:v1", p.Name, img)
		}
	}
	if after["db-0"] != before["db-0"] || after["db-1"] != before["db-1"] || after["db-2"] == before["db-2"] || after["db-2"] == "" {
		t.Errorf("pods before %v, after %v: want db-2 replaced, and only it", before, after)
	}
	_, hout, _ := rollbackHelm(t, "helm", "history", "stack", "-n", ns, "-o", "json")
	var h helmrelease.HistoryResult
	json.Unmarshal([]byte(hout), &h)
	if h.LastGood != 3 {
		t.Errorf("last good after the undo: %d, want 3", h.LastGood)
	}

	// The journal holds the pod's replacement; the evidence holds every
	// workload of the release.
	files, _ := filepath.Glob(filepath.Join(journalDir, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("journal files %v", files)
	}
	j, _ := os.ReadFile(files[0])
	mustContain(t, "journal", string(j), `"action":"step.written"`, "db-2", `"action":"step.completed"`)
	code, ev, _ := rollbackHelm(t, "incident", "evidence", strings.TrimSuffix(filepath.Base(files[0]), ".jsonl"), "--journal-dir", journalDir, "-o", "json")
	if code != 0 {
		t.Fatalf("incident evidence: exit %d", code)
	}
	mustContain(t, "evidence", ev, "deployment-web/pods.json", "statefulset-db/pods.json", "daemonset-agent/pods.json")
}

// TestSetsGuard: `rollback guard sts/db` on a crash release of the same
// chart sees the StatefulSet crash and rolls it back through its release
// (Helm's rollback: helm history shows it), never by patching the
// StatefulSet, and the stuck pod is replaced.
func TestSetsGuard(t *testing.T) {
	ns := sb.Namespace(t)
	crashingSets(t, ns)
	env := map[string]string{"ROLLBACK_HELM_BIN": helmenv.Program(t), "ROLLBACK_JOURNAL_DIR": t.TempDir()}
	p := clitest.Start(t, clitest.Binary(t), env, "guard", "sts/db", "-n", ns, "--bake", "5s", "--interval", "1s", "--settle", "1s", "-o", "json", "--kubeconfig", sb.Kubeconfig)
	res := p.Wait(t, 4*time.Minute)
	t.Logf("guard sts/db: exit %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	if res.Code != exitcode.Unhealthy {
		t.Fatalf("guard: exit %d, want %d (bad release rolled back)", res.Code, exitcode.Unhealthy)
	}
	var g guard.Result
	if err := json.Unmarshal([]byte(res.Stdout), &g); err != nil {
		t.Fatal(err)
	}
	if g.Verdict != guard.VerdictRolledBack || g.Release != "stack" || g.Helm == nil || g.Helm.NewRevision != 3 || g.Helm.Plan.To.Revision != 1 || g.Undo != nil {
		t.Fatalf("guard result: verdict %s, release %q, helm %+v, undo %+v", g.Verdict, g.Release, g.Helm, g.Undo)
	}
	if got := kindsOf(g.Helm.Workloads); got != "Deployment/web StatefulSet/db DaemonSet/agent" {
		t.Errorf("guard's release undo verified %q", got)
	}
	h := helmenv.History(t, sb.Kubeconfig, ns, "stack")
	if h.Line(3) != `3 deployed stack-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history after guard: %+v", h)
	}
	rolloutStatus(t, ns, "statefulset/db")
	if img := sb.StatefulSet(t, ns, "db").Spec.Template.Spec.Containers[0].Image; img != "vibestack/db:v1" {
		t.Errorf("statefulset image after guard: %s", img)
	}
}
