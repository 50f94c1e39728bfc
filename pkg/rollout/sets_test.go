package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// TestSetRevisions: a StatefulSet's and a DaemonSet's revisions come from
// their ControllerRevisions, the current one by template, stamps count
// only for the revision's own hash, replicas are counted from the pods.
func TestSetRevisions(t *testing.T) {
	sts := statefulSet("app:crash")
	crs := []*appsv1.ControllerRevision{
		controllerRevision(sts, "StatefulSet", 1, "app:v1", "good"),
		controllerRevision(sts, "StatefulSet", 2, "app:v2", "copied"),
		controllerRevision(sts, "StatefulSet", 3, "app:crash", "failed"),
	}
	other := controllerRevision(daemonSet("x"), "DaemonSet", 4, "app:v9", "good") // not the set's
	pods := []*corev1.Pod{
		setPod(sts, "StatefulSet", "db-0", crs[0], true, runningStatus),
		setPod(sts, "StatefulSet", "db-1", crs[0], true, runningStatus),
		setPod(sts, "StatefulSet", "db-2", crs[2], false, crashStatus),
	}
	revs := revisions(object{sts: sts}, crSources(append(crs, other)...), pods)
	if len(revs) != 3 {
		t.Fatalf("%d revisions, want 3 (the set's own)", len(revs))
	}
	want := []struct {
		health          string
		current, last   bool
		replicas, ready int32
	}{{HealthGood, false, true, 2, 2}, {HealthUnverified, false, false, 0, 0}, {HealthFailed, true, false, 1, 0}}
	for i, w := range want {
		r := revs[i]
		if r.Health != w.health || r.Current != w.current || r.LastGood != w.last || r.Replicas != w.replicas || r.Ready != w.ready {
			t.Errorf("revision %d: health %s current %t last-good %t replicas %d/%d, want %+v", r.Number, r.Health, r.Current, r.LastGood, r.Ready, r.Replicas, w)
		}
		if r.ControllerRevision != crs[i].Name || r.ReplicaSet != "" || r.Ref().Kind != KindStatefulSet {
			t.Errorf("revision %d names %q / %q, ref %+v", r.Number, r.ControllerRevision, r.ReplicaSet, r.Ref())
		}
	}
	if sel := revs[2].Ref().PodSelector(); sel != "controller-revision-hash=db-c3" {
		t.Errorf("statefulset pod selector %q: its pods carry the revision's name", sel)
	}
	ds := daemonSet("app:v2")
	dcr := controllerRevision(ds, "DaemonSet", 2, "app:v2", "")
	if sel := revisions(object{ds: ds}, crSources(dcr), nil)[0].Ref().PodSelector(); sel != "controller-revision-hash=c2" {
		t.Errorf("daemonset pod selector %q: its pods carry the revision's hash", sel)
	}
}

func TestEvaluateSet(t *testing.T) {
	tests := []struct {
		name string
		// ds selects the DaemonSet; otherwise the StatefulSet
		ds       bool
		mutate   func(o object)
		pods     []string // ordinal or node: "new", "new-unready", "old", "old-crash", "terminating"
		complete bool
		line     string
		stuck    string
		replace  []string
		below    []string
		busy     bool
	}{
		{name: "sts complete", pods: []string{"new", "new", "new"}, complete: true, line: "3/3 updated, 3/3 ready, 3/3 available"},
		{name: "sts old pod left", pods: []string{"new", "new", "old"}, line: "2/3 updated, 3/3 ready, 3/3 available, 1 old replica left"},
		{name: "sts new pod not ready", pods: []string{"new", "new", "new-unready"}, busy: true},
		{name: "sts stuck on a crashing pod of the old revision", pods: []string{"new", "new", "old-crash"}, stuck: "db-2"},
		{name: "sts parallel is not stuck", mutate: func(o object) { o.sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }, pods: []string{"new", "new", "old-crash"}},
		{name: "sts partition 2", mutate: func(o object) { o.sts.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(2)) },
			pods: []string{"old", "old", "new"}, complete: true, below: []string{"db-0", "db-1"}, line: "partition 2"},
		{name: "sts partition does not cover a crash below it", mutate: func(o object) {
			o.sts.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(2))
			o.sts.Status.ReadyReplicas, o.sts.Status.AvailableReplicas = 2, 2
		},
			pods: []string{"old-crash", "old", "new"}, below: []string{"db-0", "db-1"}},
		{name: "sts on delete lists the pods to replace, failing first then highest ordinal", mutate: func(o object) {
			o.sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		}, pods: []string{"old", "old-crash", "old"}, replace: []string{"db-1", "db-2", "db-0"}},
		{name: "sts terminating pod makes it busy", pods: []string{"new", "new", "terminating"}, busy: true},
		{name: "sts generation not observed", mutate: func(o object) { o.sts.Status.ObservedGeneration = 2 }, pods: []string{"new", "new", "new"}},
		{name: "ds complete", ds: true, pods: []string{"new", "new", "new"}, complete: true},
		{name: "ds surge: old pod still on a node", ds: true, pods: []string{"new", "new", "new", "old"}, line: "1 old replica left"},
		{name: "ds a node cannot run the pod: desired counts only the others", ds: true, mutate: func(o object) { o.ds.Status.DesiredNumberScheduled = 2 },
			pods: []string{"new", "new"}, complete: true, line: "2/2 updated"},
		{name: "ds on delete", ds: true, mutate: func(o object) {
			o.ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		},
			pods: []string{"new", "old", "old"}, replace: []string{"agent-2", "agent-1"}},
		{name: "ds crash of the old revision is not stuck (its controller replaces it)", ds: true, pods: []string{"new", "new", "old-crash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o object
			var owner metav1.Object
			kind, prefix := "StatefulSet", "db-"
			if tt.ds {
				o = object{ds: daemonSet("app:v2")}
				owner, kind, prefix = o.ds, "DaemonSet", "agent-"
			} else {
				o = object{sts: statefulSet("app:v2")}
				owner = o.sts
			}
			if tt.mutate != nil {
				tt.mutate(o)
			}
			old, cur := controllerRevision(owner, kind, 1, "app:v1", ""), controllerRevision(owner, kind, 2, "app:v2", "")
			var pods []*corev1.Pod
			for i, p := range tt.pods {
				name := prefix + string(rune('0'+i))
				switch p {
				case "new":
					pods = append(pods, setPod(owner, kind, name, cur, true, runningStatus))
				case "new-unready":
					pods = append(pods, setPod(owner, kind, name, cur, false, runningStatus))
				case "old":
					pods = append(pods, setPod(owner, kind, name, old, true, runningStatus))
				case "old-crash":
					pods = append(pods, setPod(owner, kind, name, old, false, crashStatus))
				case "terminating":
					pod := setPod(owner, kind, name, old, true, runningStatus)
					pod.DeletionTimestamp = &metav1.Time{Time: t0}
					pods = append(pods, pod)
				}
			}
			p, pp := evaluate(o, controllerRevisionSource(cur), pods)
			if p.Complete != tt.complete || pp.busy != tt.busy || p.Failure != nil {
				t.Errorf("complete %t busy %t failure %v, want complete %t busy %t (%s)", p.Complete, pp.busy, p.Failure, tt.complete, tt.busy, p)
			}
			if tt.line != "" && !strings.Contains(p.String(), tt.line) {
				t.Errorf("progress %q lacks %q", p, tt.line)
			}
			if got := ""; pp.stuck != nil || tt.stuck != "" {
				if pp.stuck != nil {
					got = pp.stuck.Name
				}
				if got != tt.stuck {
					t.Errorf("stuck pod %q, want %q", got, tt.stuck)
				}
			}
			if got := podNameList(pp.replace); strings.Join(got, ",") != strings.Join(tt.replace, ",") {
				t.Errorf("pods to replace %v, want %v", got, tt.replace)
			}
			if got := podNameList(pp.belowPartition); strings.Join(got, ",") != strings.Join(tt.below, ",") {
				t.Errorf("pods below the partition %v, want %v", got, tt.below)
			}
		})
	}
}

func TestPlanSets(t *testing.T) {
	onDelete := func(o object) {
		o.sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	}
	tests := []struct {
		name        string
		image       string // the set's template
		mutate      func(o object)
		opts        PlanOptions
		pods        []string // per ordinal: the revision (1 good, 3 bad) and "c" for crash-looping
		refused     string
		skip, only  bool
		replace     []string
		stuck       string
		warning     string
		wantTo      int64
		noAnnotions bool
	}{
		{name: "target is the last good revision, stuck pod replaced", image: "app:crash", pods: []string{"1", "1", "3c"}, stuck: "db-2", wantTo: 1,
			warning: "volumeClaimTemplates and the data in the volumes are not rolled back"},
		{name: "no-replace-stuck warns", image: "app:crash", pods: []string{"1", "1", "3c"}, opts: PlanOptions{NoReplaceStuck: true}, warning: "--no-replace-stuck leaves it", wantTo: 1},
		{name: "kubectl undo already ran: only the stuck pod is left", image: "app:v1", pods: []string{"1", "1", "3c"}, only: true, stuck: "db-2", wantTo: 1},
		{name: "already at the target", image: "app:v1", pods: []string{"1", "1", "1"}, skip: true, wantTo: 1},
		{name: "on delete without consent is refused", image: "app:crash", mutate: onDelete, pods: []string{"3", "3", "3c"}, refused: "re-run with --replace-pods"},
		{name: "on delete with consent lists the pods", image: "app:crash", mutate: onDelete, opts: PlanOptions{ReplacePods: true}, pods: []string{"3", "3", "3c"}, replace: []string{"db-2", "db-1", "db-0"}, wantTo: 1},
		{name: "on delete with nothing to replace needs no consent", image: "app:crash", mutate: onDelete, pods: []string{"1", "1", "1"}, wantTo: 1},
		{name: "on delete at the target: pods only", image: "app:v1", mutate: onDelete, opts: PlanOptions{ReplacePods: true}, pods: []string{"3", "1", "1"}, only: true, replace: []string{"db-0"}, wantTo: 1},
		{name: "partition warns", image: "app:crash", mutate: func(o object) { o.sts.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(2)) },
			pods: []string{"1", "1", "3"}, warning: "partition 2: the undo rolls only the pods from ordinal 2 up", wantTo: 1},
		{name: "pruned revision", image: "app:crash", opts: PlanOptions{ToRevision: 0}, mutate: func(o object) {}, pods: []string{"3"}, wantTo: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := statefulSet(tt.image)
			sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
			o := object{sts: sts}
			if tt.mutate != nil {
				tt.mutate(o)
			}
			crs := map[string]*appsv1.ControllerRevision{
				"1": controllerRevision(sts, "StatefulSet", 1, "app:v1", "good"),
				"3": controllerRevision(sts, "StatefulSet", 3, "app:crash", ""),
			}
			var pods []*corev1.Pod
			for i, p := range tt.pods {
				cs, ready := runningStatus, true
				if strings.HasSuffix(p, "c") {
					cs, ready = crashStatus, false
				}
				pods = append(pods, setPod(sts, "StatefulSet", "db-"+string(rune('0'+i)), crs[p[:1]], ready, cs))
			}
			p, err := planUndo(context.Background(), o, crSources(crs["1"], crs["3"]), pods, tt.opts)
			if tt.refused != "" {
				if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Skip != tt.skip || p.PodsOnly != tt.only || p.ReplaceStuck != tt.stuck || strings.Join(p.ReplacePods, ",") != strings.Join(tt.replace, ",") {
				t.Errorf("skip %t pods-only %t stuck %q replace %v, want skip %t pods-only %t stuck %q replace %v",
					p.Skip, p.PodsOnly, p.ReplaceStuck, p.ReplacePods, tt.skip, tt.only, tt.stuck, tt.replace)
			}
			if p.To == nil || p.To.Number != tt.wantTo {
				t.Errorf("target %v, want revision %d", p.To, tt.wantTo)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(p.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q lack %q", p.Warnings, tt.warning)
			}
			if p.Kind != KindStatefulSet || p.Name != "db" || p.Deployment != "" {
				t.Errorf("plan names %s %q (deployment %q)", p.Kind, p.Name, p.Deployment)
			}
		})
	}
}

// TestUndoPatchStatefulSet: the write puts the ControllerRevision's
// template on the set, as kubectl's strategic merge patch with $patch
// replace does, behind the generation and annotations preconditions, and
// leaves the set's annotations alone (as kubectl does).
func TestUndoPatchStatefulSet(t *testing.T) {
	sts := statefulSet("app:crash")
	crs := crSources(controllerRevision(sts, "StatefulSet", 1, "app:v1", "good"), controllerRevision(sts, "StatefulSet", 3, "app:crash", ""))
	p, err := planUndo(context.Background(), object{sts: sts}, crs, nil, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patch, err := undoPatch(p)
	if err != nil {
		t.Fatal(err)
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, op := range ops {
		paths = append(paths, op.Op+" "+op.Path)
	}
	if got := strings.Join(paths, ", "); got != "test /metadata/generation, test /metadata/annotations, replace /spec/template" {
		t.Fatalf("patch ops %s", got)
	}
	var tmpl corev1.PodTemplateSpec
	if err := json.Unmarshal(ops[2].Value, &tmpl); err != nil {
		t.Fatal(err)
	}
	if want := template("app:v1"); !apiequality.Semantic.DeepEqual(tmpl, want) {
		t.Errorf("template %+v, want %+v", tmpl, want)
	}
}

// TestStatefulSetHistoryAndRevisionPods reads the history of a StatefulSet
// that `kubectl rollout undo` left stuck, and the pods of one revision,
// through the clients.
func TestStatefulSetHistoryAndRevisionPods(t *testing.T) {
	sts := statefulSet("app:v1")
	good, bad := controllerRevision(sts, "StatefulSet", 1, "app:v1", "good"), controllerRevision(sts, "StatefulSet", 3, "app:crash", "")
	cs := fake.NewClientset(sts, good, bad,
		setPod(sts, "StatefulSet", "db-0", good, true, runningStatus),
		setPod(sts, "StatefulSet", "db-1", good, true, runningStatus),
		setPod(sts, "StatefulSet", "db-2", bad, false, crashStatus))
	c := NewClients(cs, "shop")
	h := History{Clients: c}
	res, err := h.Run(context.Background(), "sts/db")
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != KindStatefulSet || res.Current != 1 || res.LastGood != 1 || res.Failure != nil {
		t.Fatalf("history %+v", res)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "kubernetes/kubernetes#67250") {
		t.Errorf("notes %q: want the stuck pod explained", res.Notes)
	}
	var buf bytes.Buffer
	WriteHistory(&buf, res)
	golden(t, "history-statefulset.golden", buf.String())
	pods, err := RevisionPods(context.Background(), c, "statefulset/db", res.Revisions[0].Ref())
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 || pods[0].Name != "db-0" || pods[1].Name != "db-1" {
		t.Errorf("pods of revision 1: %v", pods)
	}
	if pods, err = RevisionPods(context.Background(), c, "sts/db", res.Revisions[1].Ref()); err != nil || len(pods) != 1 || pods[0].Name != "db-2" {
		t.Errorf("pods of revision 3: %v, %v", pods, err)
	}
}

// TestUndoReplacesStuckPod: on a StatefulSet that `kubectl rollout undo`
// left stuck (template at the good revision, pod db-2 crash-looping at the
// bad one), the undo deletes db-2 once, with UID and resourceVersion
// preconditions, journals it as a write, and, once the controller (faked
// by a reactor) recreated it at the good revision, verifies the set.
func TestUndoReplacesStuckPod(t *testing.T) {
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	sts := statefulSet("app:v1")
	good, bad := controllerRevision(sts, "StatefulSet", 1, "app:v1", "good"), controllerRevision(sts, "StatefulSet", 3, "app:crash", "")
	sts.Status.ReadyReplicas, sts.Status.AvailableReplicas = 2, 2
	objs := []runtime.Object{sts, good, bad,
		setPod(sts, "StatefulSet", "db-0", good, true, runningStatus),
		setPod(sts, "StatefulSet", "db-1", good, true, runningStatus),
		setPod(sts, "StatefulSet", "db-2", bad, false, crashStatus)}
	cs := fake.NewClientset(objs...)
	var deletes []k8stesting.DeleteActionImpl
	cs.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteActionImpl)
		deletes = append(deletes, d)
		tr := cs.Tracker()
		if err := tr.Delete(a.GetResource(), "shop", d.Name); err != nil {
			return true, nil, err
		}
		// The controller recreates the pod at the update revision, and
		// counts it ready.
		go func() {
			p := setPod(sts, "StatefulSet", d.Name, good, true, runningStatus)
			p.UID = types.UID("pod-" + d.Name + "-new")
			_ = tr.Add(p)
			s := sts.DeepCopy()
			s.Status.ReadyReplicas, s.Status.AvailableReplicas = 3, 3
			_ = tr.Update(appsv1.SchemeGroupVersion.WithResource("statefulsets"), s, "shop")
		}()
		return true, nil, nil
	})
	var rec progress.Recorder
	u := Undo{Clients: NewClients(cs, "shop"), Observer: &rec, Verification: Verification{Timeout: 30 * time.Second}}
	res, err := u.Run(context.Background(), "sts/db")
	if err != nil || res.Verdict != VerdictHealthy {
		t.Fatalf("verdict %s, err %v; events:\n%v", res.Verdict, err, rec.Events())
	}
	if len(deletes) != 1 || deletes[0].Name != "db-2" {
		t.Fatalf("deletes %v, want db-2 once", deletes)
	}
	pre := deletes[0].DeleteOptions.Preconditions
	if pre == nil || pre.UID == nil || *pre.UID != "pod-db-2" || pre.ResourceVersion == nil || *pre.ResourceVersion != "1" {
		t.Errorf("delete preconditions %+v, want the UID and resourceVersion read", pre)
	}
	if len(res.ReplacedPods) != 1 || res.ReplacedPods[0].Why != ReplacedStuck {
		t.Errorf("replaced pods %+v", res.ReplacedPods)
	}
	written := 0
	for _, e := range rec.Events() {
		if e.Kind == progress.Written {
			written++
			if !strings.Contains(e.Message, "deleted pod db-2 (uid pod-db-2") || e.Target != "statefulset/db" {
				t.Errorf("written event %+v", e)
			}
		}
	}
	if written != 1 {
		t.Errorf("%d written events, want one (the deletion; the template was already the target's)", written)
	}
	got, err := cs.AppsV1().ControllerRevisions("shop").Get(context.Background(), good.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Annotations[AnnotationKnownGoodBy] != "undo" {
		t.Errorf("the good revision's controllerrevision is not stamped by the undo: %v", got.Annotations)
	}
}

// TestSortForReplacement: failing pods first, the lowest ordinal first (an
// OrderedReady controller recreates a pod only once those below it are
// Ready); then Ready pods, the highest ordinal first.
func TestSortForReplacement(t *testing.T) {
	s := statefulSet("db:v2")
	cr := controllerRevision(s, "StatefulSet", 1, "db:v1", "")
	crash := corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}
	ok := corev1.ContainerStatus{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	pods := []*corev1.Pod{
		setPod(s, "StatefulSet", "db-0", cr, true, ok),
		setPod(s, "StatefulSet", "db-3", cr, false, crash),
		setPod(s, "StatefulSet", "db-1", cr, false, crash),
		setPod(s, "StatefulSet", "db-2", cr, true, ok),
	}
	sortForReplacement(pods)
	var got []string
	for _, p := range pods {
		got = append(got, p.Name)
	}
	if want := "db-1 db-3 db-2 db-0"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}
