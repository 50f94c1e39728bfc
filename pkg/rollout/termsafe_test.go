package rollout

import (
	"bytes"
	"strings"
	"testing"
)

// TestPrintersStripControlCharacters: a change-cause or a failure reason
// from the cluster cannot clear the screen or rewrite a line.
func TestPrintersStripControlCharacters(t *testing.T) {
	evil := "release 1.5\x1b[2J\x1b[1;1H\rall good\x1b]0;title\x07"
	var buf bytes.Buffer
	WriteHistory(&buf, &HistoryResult{Deployment: "web", Namespace: "shop", Revisions: []Revision{{Number: 1, ChangeCause: evil, Health: HealthFailed, FailedReason: evil}}})
	WriteStatusResult(&buf, &StatusResult{Deployment: "web", Verdict: VerdictUnhealthy, Reason: "pod web-1: " + evil})
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\r\x07") {
		t.Errorf("control characters printed: %q", out)
	}
	if !strings.Contains(out, "release 1.5") || !strings.Contains(out, "all good") {
		t.Errorf("text lost: %q", out)
	}
}
