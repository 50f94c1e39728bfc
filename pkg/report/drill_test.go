package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
)

func TestDrillSection(t *testing.T) {
	at := time.Date(2026, 11, 26, 4, 2, 38, 0, time.UTC)
	entries := []journal.Entry{
		{Seq: 1, Time: at, Incident: "inc-1", Step: "drill", Action: "drill.started", Target: "namespace/shop-drill",
			Inputs: map[string]any{"app": "shop", "badRelease": "deployment web container app image shop:crash"}},
		{Seq: 2, Time: at, Incident: "inc-1", Step: "drill", Action: "drill.detected", Inputs: map[string]any{"failure": "web-1: CrashLoopBackOff"}},
		{Seq: 3, Time: at, Incident: "inc-1", Action: "incident.opened", Inputs: map[string]any{"app": "shop"}},
		{Seq: 4, Time: at, Incident: "inc-1", Step: "drill", Action: "drill.completed", Result: "ok",
			Inputs: map[string]any{"verdict": "passed", "detect": "340ms", "recover": "3.2s", "previous": "first passed drill of shop"}},
	}
	var b bytes.Buffer
	if err := Write(&b, entries); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Drill", "| Drill namespace | namespace/shop-drill |", "| Time to detect | 340ms |",
		"| Time to recover | 3.2s |", "| Detected | web-1: CrashLoopBackOff |", "first passed drill of shop"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	b.Reset()
	if err := Write(&b, entries[2:3]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "## Drill") {
		t.Error("an incident that is not a drill has a drill section")
	}
}
