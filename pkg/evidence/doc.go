// Package evidence keeps what a rollback destroys: before the first write of
// every rollback path it collects, within a time budget and a size limit,
// the logs of the failing pods (current and previous container, last N
// lines) and of a few healthy ones, the Events of each workload, its
// revisions and pods with their status, the pod template diff against the
// rollback target, the database's migration state and plan, and guard's
// analysis rounds. Everything passes through the one redactor (pkg/redact);
// env values are never read, so values from Secrets are never included.
//
//	res := (&evidence.Collect{Limits: lim, Sources: srcs, Redactor: red}).Run(ctx)
//	err := res.Bundle.WriteFile(path) // a .tar.gz with manifest.json and the sha256 of each file
//	sum := res.Summary               // first error lines, exit codes, first failure vs. release
//
// A collection never fails the rollback: what it could not read is listed in
// the manifest (Errors), what the budget or the size limit cut is listed too
// (Skipped, StoppedBy), and the caller records the result in the journal.
package evidence
