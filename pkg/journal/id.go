package journal

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// NewID returns a new incident id for now: DNS-label safe and sortable by
// time, such as "inc-20261126-033122-7f3a" (UTC, 4 random hex digits).
func NewID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "inc-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

var idRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// ValidateID checks that id can name a journal file and a ConfigMap: a DNS
// label of at most 54 characters (the mirror prefixes "rollback-").
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("missing incident id: pass one such as inc-20261126-033122-7f3a (see \"rollback incident list\")")
	}
	if len(id) > 54 || !idRE.MatchString(id) {
		return fmt.Errorf("invalid incident id %q: use lowercase letters, digits and '-', at most 54 characters, such as inc-20261126-033122-7f3a", id)
	}
	return nil
}

// DefaultDir returns where journals are kept: $ROLLBACK_JOURNAL_DIR, else
// $XDG_STATE_HOME/rollback/incidents, else ~/.local/state/rollback/incidents.
func DefaultDir() string {
	return dirFrom(os.Getenv, os.UserHomeDir)
}

func dirFrom(getenv func(string) string, home func() (string, error)) string {
	if d := getenv("ROLLBACK_JOURNAL_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "rollback", "incidents")
	}
	h, err := home()
	if err != nil || h == "" {
		return filepath.Join(".rollback", "incidents")
	}
	return filepath.Join(h, ".local", "state", "rollback", "incidents")
}
