package redact

import "testing"

// TestResourcePathIsNotAPassword: a Secret named db-password in a message is
// a name, not a key holding a password; a key of its own still is.
func TestResourcePathIsNotAPassword(t *testing.T) {
	for in, want := range map[string]string{
		"read secret shop/db-password: you may not read it (forbidden)": "read secret shop/db-password: you may not read it (forbidden)",
		"password: hunter2":        "password: " + Mask,
		"db-password: hunter2":     "db-password: " + Mask,
		`{"password": "hunter2"}`:  `{"password": ` + Mask + `}`,
		"DB_PASSWORD=hunter2 next": "DB_PASSWORD=" + Mask + " next",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}
