package report

import (
	"fmt"
	"io"

	"github.com/vibestack/rollback/pkg/atomicfile"
	"github.com/vibestack/rollback/pkg/journal"
)

// WriteFile writes the report of entries to path atomically: into a new
// temporary file beside it (created exclusively, never following a link),
// fsynced, renamed over path, and the directory fsynced. A reader sees the
// old report or the new one, never half of one.
func WriteFile(path string, entries []journal.Entry) error {
	if err := atomicfile.Write(path, 0o600, func(w io.Writer) error { return Write(w, entries) }); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
