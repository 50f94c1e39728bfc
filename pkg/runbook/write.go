package runbook

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrExists is returned by WriteExample when the file exists and force is false.
var ErrExists = errors.New("runbook already exists")

// WriteExample writes Example() to path. It refuses to replace an existing
// file unless force is true.
func WriteExample(path string, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write runbook %s: %w: keep it, or pass --force to replace it with the example", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("write runbook %s: %w", path, err)
	}
	if _, err := f.Write(Example()); err != nil {
		f.Close()
		return fmt.Errorf("write runbook %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write runbook %s: %w", path, err)
	}
	return nil
}
