package runbook

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vibestack/rollback/pkg/outcome"
)

// FileNames are the names Discover looks for, in order.
var FileNames = []string{"rollback.yaml", "rollback.yml"}

// ErrNotFound is returned by Discover when dir holds no runbook.
var ErrNotFound = errors.New("no rollback.yaml or rollback.yml found")

// Discover returns the path of the runbook in dir: rollback.yaml or
// rollback.yml. Having none or both is a refusal (exit code 2).
func Discover(dir string) (string, error) {
	var found []string
	for _, name := range FileNames {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			found = append(found, p)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("discover runbook: %w", err)
		}
	}
	switch len(found) {
	case 0:
		return "", outcome.AsRefused(fmt.Errorf("discover runbook in %s: %w: write one with \"rollback init\" or pass its path", dir, ErrNotFound))
	case 1:
		return found[0], nil
	}
	return "", outcome.AsRefused(fmt.Errorf("discover runbook in %s: both %s and %s exist: delete one", dir, found[0], found[1]))
}
