package preflight

import (
	goldenfile "github.com/vibestack/rollback/internal/golden"
	"path/filepath"
	"testing"
)

// golden compares got with testdata/name.golden (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Assert(t, filepath.Join("testdata", name+".golden"), []byte(got))
}
