// Package report writes the Markdown report of an incident from its journal:
// summary, timeline, what changed, health before and after, notifications,
// feature flags, escalation contacts and the RCA questions to fill in.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// RCAQuestions are the questions of the runbook's post-rollback actions
// (section 5 of the emergency rollback procedures), asked in every report.
var RCAQuestions = []string{
	"What failed, and what was the root cause?",
	"How was the failure detected, and how long did detection and rollback take?",
	"Is the environment stable now? What confirms it?",
	"Were stakeholders told about the outcome? Who, when, through which channel?",
	"Was the problematic feature disabled behind a feature flag? What is needed to roll forward?",
	"What prevents this from happening again? (actions, owners, due dates)",
	"Which documentation and runbooks (rollback.yaml, this procedure) must be updated with the lessons learned?",
}

// timeFormat formats times in the report.
const timeFormat = "2006-01-02 15:04:05 UTC"

// Write writes the Markdown report of the incident whose journal entries are
// entries (in order) to w. Unknown actions appear in the timeline.
func Write(w io.Writer, entries []journal.Entry) error {
	if len(entries) == 0 {
		return errors.New("write incident report: the journal has no entries")
	}
	norm := make([]journal.Entry, len(entries))
	for i, e := range entries {
		n, err := normalize(e)
		if err != nil {
			return fmt.Errorf("write incident report: entry %d: %w", e.Seq, err)
		}
		norm[i] = n
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	r := &writer{w: bw, entries: norm}
	r.all()
	_ = bw.Flush()
	// The whole report at once: no secret or escape sequence is split
	// between two writes.
	if _, err := io.WriteString(w, termsafe.Text(redact.String(buf.String()))); err != nil {
		return fmt.Errorf("write incident report: %w", err)
	}
	return nil
}

// normalize turns Inputs, Before and After into plain JSON values (maps,
// slices, strings, numbers), as read back from a journal file.
func normalize(e journal.Entry) (journal.Entry, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	var n journal.Entry
	err = json.Unmarshal(raw, &n)
	return n, err
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeFormat)
}
