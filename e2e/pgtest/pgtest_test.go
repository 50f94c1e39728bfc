//go:build e2e

package pgtest

import (
	"strings"
	"testing"
)

func TestURLs(t *testing.T) {
	t.Setenv("ROLLBACK_E2E_DB_USER", "u")
	t.Setenv("ROLLBACK_E2E_DB_PASSWORD", "p@ss")
	t.Setenv("ROLLBACK_E2E_PG_ADDR", "db:5433")
	tests := []struct{ got, want string }{
		{ServerURL(), "postgres://u:p%40ss@db:5433"},
		{ServerURLAt("127.0.0.1:1"), "postgres://u:p%40ss@127.0.0.1:1"},
		{URL("shop"), "postgres://u:p%40ss@db:5433/shop"},
		{Password(), "p@ss"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestNewDatabase creates a database on the real test server and connects
// to it; it skips (fails with CI=true) when the server is not running.
func TestNewDatabase(t *testing.T) {
	u := NewDatabase(t, "pgtest")
	if !strings.Contains(u, "/rb_pgtest_") {
		t.Errorf("URL %s", strings.ReplaceAll(u, Password(), "xxxxx"))
	}
}
