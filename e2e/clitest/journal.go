package clitest

import (
	"testing"

	"github.com/vibestack/rollback/pkg/journal"
)

// JournalEntries returns the journal of incident id in dir, only the
// entries of target when target is set; a journal it cannot read fails the
// test.
func JournalEntries(t testing.TB, dir, id, target string) []journal.Entry {
	t.Helper()
	all, err := journal.Read(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []journal.Entry
	for _, e := range all {
		if target == "" || e.Target == target {
			out = append(out, e)
		}
	}
	return out
}

// CountActions counts the entries with action.
func CountActions(es []journal.Entry, action journal.Action) int {
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}
