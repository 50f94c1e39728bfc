package rollout

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestWriteHistory(t *testing.T) {
	d := deployment("app:crash")
	rs1, rs2, rs3 := replicaSet(d, 1, "app:v1", ""), replicaSet(d, 2, "app:v2", "good"), replicaSet(d, 3, "app:crash", "")
	rs3.Status = appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 0}
	crash := waiting("CrashLoopBackOff", "back-off")
	cs := fake.NewClientset(d, &rs1, &rs2, &rs3, pod(&rs3, "web-h3-a", false, crash))
	h := History{Clients: NewClients(cs, "shop")}
	res, err := h.Run(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if res.Current != 3 || res.LastGood != 2 || res.Failure == nil {
		t.Fatalf("current %d, last good %d, failure %v", res.Current, res.LastGood, res.Failure)
	}
	var buf bytes.Buffer
	WriteHistory(&buf, res)
	golden(t, "history.golden", buf.String())
}

func TestWritePlanAndResults(t *testing.T) {
	d := deployment("app:crash")
	d.Annotations[corev1.LastAppliedConfigAnnotation] = "{}"
	rss := []appsv1.ReplicaSet{replicaSet(d, 1, "app:v1", "good"), replicaSet(d, 2, "app:v2", ""), replicaSet(d, 3, "app:crash", "")}
	p, err := planDeployment(d, rss, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WritePlan(&buf, p)
	golden(t, "plan.golden", buf.String())

	buf.Reset()
	res := &UndoResult{Deployment: "web", Namespace: "shop", Verdict: VerdictHealthy, FromRevision: 3, ToRevision: 1, NewRevision: 4,
		ImagesBefore: []string{"app:crash"}, ImagesAfter: []string{"app:v1"},
		ConcurrentChanges: []string{"replicas: 3 -> 4"},
		Status:            &StatusResult{MarkedGood: true},
		Durations:         UndoDurations{Plan: Duration(20 * time.Millisecond), Write: Duration(10 * time.Millisecond), Rollout: Duration(1200 * time.Millisecond), Settle: Duration(time.Second), Total: Duration(2300 * time.Millisecond)}}
	WriteUndoResult(&buf, res)
	res2 := *res
	res2.Verdict, res2.Reason, res2.Status, res2.ConcurrentChanges = VerdictUnhealthy, "pod web-h1-a container app: CrashLoopBackOff", nil, nil
	WriteUndoResult(&buf, &res2)
	WriteUndoResult(&buf, &UndoResult{Deployment: "web", Verdict: VerdictSkipped, ToRevision: 2, ImagesAfter: []string{"app:v2"}})
	WriteUndoResult(&buf, &UndoResult{Deployment: "web", Verdict: VerdictRefused})
	golden(t, "undo-result.golden", buf.String())

	buf.Reset()
	WriteStatusResult(&buf, &StatusResult{Deployment: "web", Revision: 3, Images: []string{"app:crash"}, Verdict: VerdictUnhealthy,
		Reason:   "pod web-h3-a container app: CrashLoopBackOff: back-off 10s; last exit: Error (exit code 1) (restarts 1)",
		Progress: Progress{Desired: 3, Updated: 1, Ready: 0, Available: 0, OldReplicas: 3}, Durations: StatusDurations{Rollout: Duration(1400 * time.Millisecond), Total: Duration(1400 * time.Millisecond)}})
	golden(t, "status-result.golden", buf.String())

	buf.Reset()
	b := &BulkResult{Selector: "tier=web", Counts: map[Verdict]int{VerdictHealthy: 1, VerdictRefused: 1}, Total: Duration(3 * time.Second), Results: []*UndoResult{
		{Namespace: "a", Deployment: "web", FromRevision: 3, ToRevision: 2, NewRevision: 4, Verdict: VerdictHealthy, Durations: UndoDurations{Total: Duration(2 * time.Second)}},
		{Namespace: "b", Deployment: "api", Verdict: VerdictRefused, Error: "deployment api is paused"},
	}}
	WriteBulkResult(&buf, b)
	golden(t, "bulk-result.golden", buf.String())
}

func TestUndoWithoutWrite(t *testing.T) {
	tests := []struct {
		name    string
		image   string
		dryRun  bool
		confirm func(*Plan) (bool, error)
		verdict Verdict
		code    bool // an error is expected
	}{
		{name: "dry run", image: "app:crash", dryRun: true, verdict: VerdictDryRun},
		{name: "already at target", image: "app:v2", verdict: VerdictSkipped},
		{name: "cancelled", image: "app:crash", confirm: func(*Plan) (bool, error) { return false, nil }, verdict: VerdictCancelled, code: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment(tt.image)
			rs2, rs3 := replicaSet(d, 2, "app:v2", "good"), replicaSet(d, 3, "app:crash", "")
			cs := fake.NewClientset(d, &rs2, &rs3)
			u := Undo{Clients: NewClients(cs, "shop"), DryRun: tt.dryRun, Confirm: tt.confirm}
			res, err := u.Run(context.Background(), "web")
			if (err != nil) != tt.code || res.Verdict != tt.verdict {
				t.Fatalf("verdict %s, err %v", res.Verdict, err)
			}
			for _, a := range cs.Actions() {
				if a.GetVerb() != "get" && a.GetVerb() != "list" {
					t.Errorf("unexpected write %s %s", a.GetVerb(), a.GetResource().Resource)
				}
			}
		})
	}
}

func TestRestartTwiceWithinOneSecond(t *testing.T) {
	d := deployment("app:v1")
	cs := fake.NewClientset(d)
	deps := cs.AppsV1().Deployments("shop")
	now := time.Date(2026, 11, 26, 1, 0, 0, 100, time.UTC)
	first, err := Restart(context.Background(), deps, "web", now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Restart(context.Background(), deps, "web", now) // same instant
	if err != nil {
		t.Fatal(err)
	}
	a, b := first.Spec.Template.Annotations[RestartedAtAnnotation], second.Spec.Template.Annotations[RestartedAtAnnotation]
	if a == b || a != "2026-11-26T01:00:00.0000001Z" {
		t.Errorf("restartedAt %q then %q: both restarts must change the template", a, b)
	}
}

func TestVerdictLineHeldKnownGood(t *testing.T) {
	r := &StatusResult{Deployment: "web", Revision: 2, Verdict: VerdictHealthy, Progress: Progress{Ready: 2, Desired: 2}}
	for _, c := range []struct {
		marked, held bool
		want         string
	}{
		{true, false, "; stamped known-good"},
		{false, true, "; known-good stamp held"},
		{false, false, "restarts stable ("},
	} {
		r.MarkedGood, r.HeldGood = c.marked, c.held
		if got := verdictLine(r); !strings.Contains(got, c.want) {
			t.Errorf("verdictLine(marked=%v, held=%v) = %q, want %q", c.marked, c.held, got, c.want)
		}
	}
}
