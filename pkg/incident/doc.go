// Package incident runs a whole rollback as one incident: it opens an
// incident id and its journal, takes the application's cluster lock, tells
// people, runs the preflight checklist, rolls back the application, its
// configuration and its database in the runbook's order (each step with the
// library code of its own command), checks health, and writes the report.
// An interrupted run resumes from its journal without repeating completed
// steps: every step records its target before it writes, and running a step
// again with the same target is a no-op.
package incident
