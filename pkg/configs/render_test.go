package configs

import (
	"bytes"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/rollout"
)

func TestWriteHistory(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	v1 := &Object{Kind: KindConfigMap, Name: "app-config-v1", ResourceVersion: "10", Created: at, Data: map[string]string{"SANDBOX_MODE": "ok"}}
	v2 := &Object{Kind: KindConfigMap, Name: "app-config-v2", ResourceVersion: "20", Created: at.Add(time.Hour), Data: map[string]string{"SANDBOX_MODE": "crash"}}
	sec := &Object{Kind: KindSecret, Name: "api-token", ResourceVersion: "30", Created: at, BinaryData: map[string][]byte{"token": []byte("s3cret")}}
	snap := &Object{Kind: KindSecret, Name: "api-token.snap-20261126-013000-0123456789", ResourceVersion: "31", Immutable: true,
		BinaryData:  map[string][]byte{"token": []byte("old")},
		Labels:      map[string]string{LabelSnapshot: "true"},
		Annotations: map[string]string{AnnotationSnapshotTime: "2026-11-26T01:30:00Z", AnnotationSourceResourceVersion: "29", AnnotationReason: "manual"}}
	cur := summarize(v2)
	cur.Current, cur.Version = true, "v2"
	sv1, sv2 := summarize(v1), summarize(v2)
	sv1.Version, sv2.Version, sv2.Current = "v1", "v2", true
	scur := summarize(sec)
	scur.Current = true
	h := &HistoryResult{Namespace: "shop", Deployment: "web", Configs: []ConfigHistory{
		{Ref: Ref{Kind: KindConfigMap, Name: "app-config-v2", Places: []string{"container app envFrom", "volume config"}},
			Version: &Version{Base: "app-config", Number: 2}, Current: &cur, Versions: []Summary{sv1, sv2}},
		{Ref: Ref{Kind: KindSecret, Name: "api-token", Places: []string{"container app env TOKEN"}},
			Current: &scur, Snapshots: []Summary{summarize(snap)}},
		{Ref: Ref{Kind: KindConfigMap, Name: "gone", Places: []string{"volume gone"}}, Problem: "missing: pods referencing it fail with CreateContainerConfigError unless the reference is optional"},
	}}
	var buf bytes.Buffer
	WriteHistory(&buf, h)
	golden(t, "history", buf.String())
	if bytes.Contains(buf.Bytes(), []byte("s3cret")) {
		t.Error("history shows a secret value")
	}
}

func TestWriteUndo(t *testing.T) {
	from := &Object{Kind: KindConfigMap, Data: map[string]string{"SANDBOX_MODE": "crash"}}
	to := &Object{Kind: KindConfigMap, Data: map[string]string{"SANDBOX_MODE": "ok"}}
	versioned := &Plan{Namespace: "shop", Deployment: "web", Kind: KindConfigMap, Name: "app-config-v2", Strategy: StrategyVersioned,
		From: "app-config-v2", To: "app-config-v1", FromVersion: "v2", ToVersion: "v1", Changes: Diff(from, to),
		TemplateChanges: []string{"container app envFrom", "container app env SANDBOX_MODE", "volume config"},
		Warnings:        []string{"deployment web is managed with kubectl apply: change its manifest to app-config-v1 too, or the next apply switches it back to app-config-v2"}}
	file := &Plan{Namespace: "shop", Deployment: "web", Kind: KindConfigMap, Name: "settings", Strategy: StrategyFile,
		From: "settings", To: "previous.yaml", Changes: Diff(from, to)}
	tests := []struct {
		name string
		res  *UndoResult
	}{
		{"undo-dry-run", &UndoResult{Plan: versioned, Verdict: "dry-run"}},
		{"undo-rolled-back", &UndoResult{Plan: versioned, Verdict: "rolled-back",
			Snapshot: &SnapshotResult{Snapshot: "app-config-v2.snap-20261126-013000-0123456789"}, Status: &rollout.StatusResult{Revision: 4}}},
		{"undo-skipped", &UndoResult{Plan: &Plan{Skipped: "deployment web already uses app-config-v1"}, Verdict: "skipped"}},
		{"undo-file-dry-run", &UndoResult{Plan: file, Verdict: "dry-run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			WriteUndoResult(&buf, tt.res)
			golden(t, tt.name, buf.String())
		})
	}
}
