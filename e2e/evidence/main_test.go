//go:build e2e

// Package evidence_test runs the evidence a rollback keeps end to end on the
// sandbox: a crash-looping release undone by `rollback app undo`, an http500
// release rolled back by `rollback guard`, a missing-ConfigMap release rolled
// back by `rollback run`, and a namespace of 200 failing pods under a 1 s
// budget. After each rollback the bad pods are gone and the bundle still
// holds their logs (kubectl logs, polled while they lived, is the referee),
// their Events and status; `rollback incident evidence`, `incident show`,
// the report's root cause analysis and `rollback app logs` are read as a
// user reads them.
package evidence_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

func ctxT(t *testing.T) context.Context { return clitest.Context(t, 5*time.Minute) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rollback runs the CLI in-process as the sandbox's admin.
func rollback(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: 5 * time.Minute}, args...)
}

// deployment creates Deployment name (label app=name, container "app") at
// image with replicas, surging every new pod at once (so a bad release has
// all its pods while the old ones still serve), waits for it to roll out
// and stamps it known-good.
func deployment(t *testing.T, ns, name, image string, replicas int32, mutate ...func(*appsv1.Deployment)) {
	t.Helper()
	surge, unavailable := intstr.FromString("100%"), intstr.FromInt32(0)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	for _, m := range mutate {
		m(d)
	}
	_, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctxT(t), d, metav1.CreateOptions{})
	must(t, err)
	sb.WaitRolledOut(t, ns, name)
	if r := rollback(t, "app", "mark-good", name, "-n", ns); r.Code != 0 {
		t.Fatalf("mark-good %s: exit %d", name, r.Code)
	}
}

// release patches Deployment name's pod template (a new revision) with a
// strategic merge patch of its spec.
func release(t *testing.T, ns, name, specPatch string) {
	t.Helper()
	_, err := sb.Clientset.AppsV1().Deployments(ns).Patch(ctxT(t), name, types.StrategicMergePatchType, []byte(`{"spec":`+specPatch+`}`), metav1.PatchOptions{})
	must(t, err)
}

// setImage releases image in container "app".
func setImage(t *testing.T, ns, name, image string) {
	t.Helper()
	release(t, ns, name, `{"template":{"spec":{"containers":[{"name":"app","image":"`+image+`"}]}}}`)
}

// revisionPods waits until the ReplicaSet of revision 2 of Deployment name
// (the bad release) has want pods and ready(pod) holds for each, and
// returns the pods' names and the ReplicaSet's pod-template-hash.
func revisionPods(t *testing.T, ns, name string, want int, what string, ready func(corev1.Pod) bool) ([]string, string) {
	t.Helper()
	var names []string
	var hash string
	clitest.WaitFor(t, 3*time.Minute, what, func() bool {
		rss, err := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctxT(t), metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false
		}
		hash = ""
		for _, rs := range rss.Items {
			if rs.Annotations["deployment.kubernetes.io/revision"] == "2" {
				hash = rs.Labels["pod-template-hash"]
			}
		}
		if hash == "" {
			return false
		}
		names = names[:0]
		for _, p := range sb.Pods(t, ns, "app="+name+",pod-template-hash="+hash) {
			if p.DeletionTimestamp != nil || !ready(p) {
				return false
			}
			names = append(names, p.Name)
		}
		return len(names) == want
	})
	return names, hash
}

// restarted holds once the pod's container has crashed and restarted (so a
// previous run exists).
func restarted(p corev1.Pod) bool {
	return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
}

// waitGone waits until no pod of the ReplicaSet with pod-template-hash hash is left.
func waitGone(t *testing.T, ns, name, hash string) {
	t.Helper()
	clitest.WaitFor(t, 3*time.Minute, "the bad pods to be gone", func() bool {
		return len(sb.Pods(t, ns, "app="+name+",pod-template-hash="+hash)) == 0
	})
}

// onlyIncident returns the one incident recorded in dir.
func onlyIncident(t *testing.T, dir string) string {
	t.Helper()
	l, err := journal.List(dir)
	if err != nil || len(l) != 1 {
		t.Fatalf("incidents in %s: %+v, %v; want one", dir, l, err)
	}
	return l[0].Incident
}

// kept is an incident's evidence as `rollback incident evidence` gives it.
type kept struct {
	id       string
	manifest evidence.Manifest
	// dir is where `--export DIR` extracted it (DIR/<id>).
	dir string
	// files are the first bundle's files by name.
	files map[string]string
}

// file returns the named file of the bundle, failing the test when absent.
func (k *kept) file(t *testing.T, name string) string {
	t.Helper()
	s, ok := k.files[name]
	if !ok {
		t.Fatalf("the evidence of %s has no %s; it has %v", k.id, name, k.names())
	}
	return s
}

func (k *kept) names() []string {
	var out []string
	for _, f := range k.manifest.Files {
		out = append(out, f.Name)
	}
	return out
}

// skipped returns the manifest's Skipped entries whose What contains s.
func (k *kept) skipped(s string) []evidence.Skip {
	var out []evidence.Skip
	for _, sk := range k.manifest.Skipped {
		if strings.Contains(sk.What, s) {
			out = append(out, sk)
		}
	}
	return out
}

// keptEvidence reads incident id's evidence through the CLI: the listing
// (-o json, every sha256 checked), `--export DIR` (extracted beside the
// report) and `--export FILE.tar.gz` (one archive to share, read back and
// checked against the extracted files).
func keptEvidence(t *testing.T, journals, id string) *kept {
	t.Helper()
	r := rollback(t, "incident", "evidence", id, "--journal-dir", journals, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("incident evidence %s: exit %d", id, r.Code)
	}
	var res struct {
		Bundles []struct {
			Path     string            `json:"path"`
			Manifest evidence.Manifest `json:"manifest"`
		} `json:"bundles"`
	}
	must(t, json.Unmarshal([]byte(r.Stdout), &res))
	if len(res.Bundles) != 1 {
		t.Fatalf("incident %s kept %d evidence bundles, want 1", id, len(res.Bundles))
	}
	if st, err := os.Stat(res.Bundles[0].Path); err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(res.Bundles[0].Path) != journals {
		t.Errorf("bundle %s: %v, %v; want mode 0600 beside the journal in %s", res.Bundles[0].Path, st, err, journals)
	}
	out := t.TempDir()
	if r := rollback(t, "incident", "evidence", id, "--journal-dir", journals, "--export", out); r.Code != 0 {
		t.Fatalf("incident evidence --export DIR: exit %d", r.Code)
	}
	k := &kept{id: id, manifest: res.Bundles[0].Manifest, dir: filepath.Join(out, id), files: map[string]string{}}
	for _, f := range k.manifest.Files {
		b, err := os.ReadFile(filepath.Join(k.dir, filepath.FromSlash(f.Name)))
		if err != nil {
			t.Fatalf("extracted evidence: %v", err)
		}
		k.files[f.Name] = string(b)
	}
	if _, err := os.Stat(filepath.Join(k.dir, "report.md")); err != nil {
		t.Errorf("the extracted evidence has no report: %v", err)
	}
	if r := rollback(t, "incident", "evidence", id, "--journal-dir", journals, "--export", out); r.Code != 2 {
		t.Errorf("a second export into %s: exit %d, want 2 (nothing overwritten)", out, r.Code)
	}
	share := filepath.Join(t.TempDir(), id+".tar.gz")
	if r := rollback(t, "incident", "evidence", id, "--journal-dir", journals, "--export", share); r.Code != 0 {
		t.Fatalf("incident evidence --export FILE.tar.gz: exit %d", r.Code)
	}
	shared := readTarGz(t, share)
	for name, data := range k.files {
		if shared[id+"/"+name] != data {
			t.Errorf("the shared archive's %s differs from the extracted one", name)
		}
	}
	if _, ok := shared[id+"/report.md"]; !ok {
		t.Errorf("the shared archive has no report.md: %v", slices.Sorted(maps.Keys(shared)))
	}
	return k
}

// bundlesOf returns the evidence bundles kept in dir.
func bundlesOf(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.evidence*.tar.gz"))
	must(t, err)
	return m
}

// podStatuses decodes a workload's pods.json by pod name.
func podStatuses(t *testing.T, k *kept, workloadDir string) map[string]evidence.PodStatus {
	t.Helper()
	var ps []evidence.PodStatus
	must(t, json.Unmarshal([]byte(k.file(t, workloadDir+"/pods.json")), &ps))
	out := map[string]evidence.PodStatus{}
	for _, p := range ps {
		out[p.Pod] = p
	}
	return out
}

// checkEvents checks that every Event kubectl listed about the bad
// revision (its ReplicaSet and pods) before the rollback is in the bundle's
// events.txt, by reason and object.
func checkEvents(t *testing.T, k *kept, workloadDir string, before []corev1.Event, hash string) {
	t.Helper()
	events := k.file(t, workloadDir+"/events.txt")
	n := 0
	for _, e := range before {
		if !strings.Contains(e.InvolvedObject.Name, hash) {
			continue
		}
		n++
		obj := e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name
		found := false
		for _, line := range strings.Split(events, "\n") {
			if strings.Contains(line, " "+e.Reason+" ") && strings.Contains(line, obj) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("event %s %s (%s) is not in the evidence:\n%s", e.Reason, obj, e.Message, events)
		}
	}
	if n == 0 {
		t.Errorf("kubectl listed no Event about the bad revision %s; the referee saw nothing to compare", hash)
	}
	t.Logf("%d Events of the bad revision found in the evidence", n)
}

// eventsNow lists the namespace's Events with kubectl.
func eventsNow(t *testing.T, ns string) []corev1.Event {
	t.Helper()
	out, err := sb.KubectlContext(ctxT(t), "get", "events", "-n", ns, "-o", "json")
	if err != nil {
		t.Fatalf("kubectl get events: %v\n%s", err, out)
	}
	var l corev1.EventList
	must(t, json.Unmarshal([]byte(out), &l))
	return l.Items
}

// workloadDir is the bundle directory of Deployment ns/name.
func workloadDir(ns, name string) string { return "workloads/" + ns + "/deployment-" + name }

// checkShown checks that `rollback incident show` lists the bundle and the
// report's root cause analysis shows what the evidence shows (each want).
func checkShown(t *testing.T, journals string, k *kept, want ...string) {
	t.Helper()
	r := rollback(t, "incident", "show", k.id, "--journal-dir", journals)
	if r.Code != 0 || !strings.Contains(r.Stdout, "EVIDENCE") || !strings.Contains(r.Stdout, k.id+".evidence.tar.gz") {
		t.Errorf("incident show %s: exit %d; want the evidence bundle listed:\n%s", k.id, r.Code, r.Stdout)
	}
	r = rollback(t, "incident", "report", k.id, "--journal-dir", journals)
	if r.Code != 0 {
		t.Fatalf("incident report: exit %d", r.Code)
	}
	i := strings.Index(r.Stdout, "### What the evidence shows")
	if i < 0 {
		t.Fatalf("the report has no evidence in its root cause analysis:\n%s", r.Stdout)
	}
	rca := r.Stdout[i:]
	for _, w := range want {
		if !strings.Contains(rca, w) {
			t.Errorf("the report's root cause analysis does not show %q:\n%s", w, rca)
		}
	}
}

// readTarGz returns the regular files of a .tar.gz by name.
func readTarGz(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	must(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	must(t, err)
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		out[h.Name] = string(b)
	}
}
