package reference

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkedIn is the reference in the repository, relative to this package.
var checkedIn = filepath.Join("..", "..", "docs", "reference")

// TestReferenceUpToDate fails when the reference in docs/reference differs
// from what the commands generate.
func TestReferenceUpToDate(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	const fix = "the command reference is out of date: run `make docs` and commit docs/reference"
	have, err := List(checkedIn)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range have {
		if _, ok := files[name]; !ok {
			t.Errorf("docs/reference/%s documents a command that no longer exists; %s", name, fix)
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(checkedIn, name))
		if err != nil {
			t.Errorf("docs/reference/%s is missing; %s", name, fix)
			continue
		}
		if diff := cmp.Diff(string(got), string(want)); diff != "" {
			t.Errorf("docs/reference/%s differs from the commands (-checked in +generated); %s:\n%s", name, fix, diff)
		}
	}
}

// TestWriteRemovesStalePages: a page of a removed command does not survive
// a regeneration.
func TestWriteRemovesStalePages(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "man"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []string{"rollback_gone.md", "man/rollback-gone.1"} {
		if err := os.WriteFile(filepath.Join(dir, stale), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	names, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := Generate()
	if len(names) != len(files) {
		t.Errorf("%d pages written, %d generated: %v", len(names), len(files), names)
	}
	for _, stale := range []string{"rollback_gone.md", "man/rollback-gone.1"} {
		if _, err := os.Stat(filepath.Join(dir, stale)); !os.IsNotExist(err) {
			t.Errorf("stale page %s survived", stale)
		}
	}
}
