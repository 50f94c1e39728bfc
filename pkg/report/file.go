package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vibestack/rollback/pkg/journal"
)

// WriteFile writes the report of entries to path atomically: into a new
// temporary file beside it (created exclusively, never following a link),
// fsynced, renamed over path, and the directory fsynced. A reader sees the
// old report or the new one, never half of one.
func WriteFile(path string, entries []journal.Entry) error {
	var buf bytes.Buffer
	if err := Write(&buf, entries); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
