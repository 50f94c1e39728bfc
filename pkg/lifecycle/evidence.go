package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vibestack/rollback/pkg/bytesize"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/rollout"
)

// maxJournaledErrors bounds the collection errors copied into the journal
// (the manifest has them all).
const maxJournaledErrors = 5

// Evidence is what Collect kept.
type Evidence struct {
	// Bundle is the bundle's path; empty when it could not be written.
	Bundle string
	// Manifest lists its files, what was cut and what failed.
	Manifest evidence.Manifest
	// Summary is what the report's root cause analysis shows.
	Summary evidence.Summary
	// Compressed is the bundle's size on disk.
	Compressed int64
}

// Collect collects the evidence of sources (pkg/evidence) before the
// rollback's first write, within the incident's limits (Options.Evidence),
// writes the bundle beside the journal (<dir>/<id>.evidence.tar.gz, mode
// 0600, atomically) and records evidence.collected with what the report's
// root cause analysis shows. It runs once per incident process: later calls
// return nil (a call without sources does not count). It never fails the
// rollback: a collection or a write that fails is recorded and reported as
// a warning.
func (in *Incident) Collect(ctx context.Context, step string, sources ...evidence.Source) *Evidence {
	if len(sources) == 0 {
		return nil
	}
	in.mu.Lock()
	done := in.collected
	in.collected = true
	in.mu.Unlock()
	if done {
		return nil
	}
	lim := evidence.DefaultLimits()
	if in.o.Evidence != nil {
		lim = *in.o.Evidence
	}
	if !lim.Enabled() {
		in.Log(ctx, journal.Entry{Step: step, Action: journal.ActionEvidenceCollected, Result: journal.ResultSkipped,
			Inputs: map[string]any{"budget": lim.Budget.String(), "why": "--evidence-budget 0: no evidence is collected"}})
		return nil
	}
	in.info("incident/"+in.id, "collecting evidence before the first change (budget %s)", lim.Budget)
	res := (&evidence.Collect{Limits: lim, Sources: sources, Redactor: redact.New(in.o.Secrets...), Clock: in.o.Clock, Incident: in.id}).Run(ctx)
	out := &Evidence{Manifest: res.Bundle.Manifest(), Summary: res.Summary}
	m := out.Manifest
	e := journal.Entry{Step: step, Action: journal.ActionEvidenceCollected, Result: journal.ResultOK,
		Inputs: map[string]any{"budget": lim.Budget.String(), "maxSize": lim.MaxSize, "logLines": lim.LogLines, "pods": lim.Pods,
			"sources": m.Sources, "started": m.Started.UTC().Format(time.RFC3339Nano)}}
	path, err := in.bundlePath()
	if err == nil {
		out.Compressed, err = res.Bundle.WriteFile(path)
	}
	after := map[string]any{"files": len(m.Files), "bytes": m.Size(), "duration": rollout.Duration(m.Duration()).String(),
		"skipped": len(m.Skipped), "summary": res.Summary}
	if m.StoppedBy != "" {
		after["stoppedBy"] = m.StoppedBy
	}
	if len(m.Errors) > 0 {
		errs := m.Errors[:min(len(m.Errors), maxJournaledErrors)]
		after["errors"] = errs
	}
	if err != nil {
		e.Result, e.Error = journal.ResultFailed, err.Error()
		in.warn("warning: evidence not kept: %v; the rollback goes on", err)
	} else {
		out.Bundle = path
		e.Target = "evidence/" + filepath.Base(path)
		after["bundle"], after["compressed"] = path, out.Compressed
		in.info("incident/"+in.id, "evidence kept: %s (%s compressed) collected in %s%s: %s", bytesize.Human(m.Size()), bytesize.Human(out.Compressed),
			rollout.Duration(m.Duration()), cutNote(m), path)
	}
	e.After = after
	in.Log(ctx, e)
	return out
}

// cutNote says what a limit cut, for the progress line.
func cutNote(m evidence.Manifest) string {
	if m.StoppedBy == "" {
		return ""
	}
	return fmt.Sprintf(" (stopped by the %s limit; the manifest lists what was left out)", m.StoppedBy)
}

// bundlePath returns a free path for this incident's next bundle.
func (in *Incident) bundlePath() (string, error) {
	for n := 1; n < 1000; n++ {
		p := EvidencePath(in.o.JournalDir, in.id, n)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no free evidence bundle name for incident %s in %s", in.id, in.o.JournalDir)
}

// EvidencePath is where the n-th evidence bundle of incident id is kept:
// <dir>/<id>.evidence.tar.gz, then <dir>/<id>.evidence-2.tar.gz, ...
func EvidencePath(dir, id string, n int) string {
	if n <= 1 {
		return filepath.Join(dir, id+".evidence.tar.gz")
	}
	return filepath.Join(dir, fmt.Sprintf("%s.evidence-%d.tar.gz", id, n))
}

// EvidenceBundles returns the paths of the evidence bundles of incident id
// kept in dir, in order.
func EvidenceBundles(dir, id string) []string {
	var out []string
	for n := 1; n < 1000; n++ {
		p := EvidencePath(dir, id, n)
		if _, err := os.Lstat(p); err != nil {
			break
		}
		out = append(out, p)
	}
	return out
}
