package dbrollback

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw, str, key string
		engine        Engine
	}{
		{"postgres://app:s3cr%40t@db.example:6432/shop?sslmode=require", "postgres://app:xxxxx@db.example:6432/shop", "postgres://db.example:6432/shop", Postgres},
		{"postgresql://app@db/shop", "postgres://app@db:5432/shop", "postgres://db:5432/shop", Postgres},
		{"mysql://root:pw-123@127.0.0.1/shop", "mysql://root:xxxxx@127.0.0.1:3306/shop", "mysql://127.0.0.1:3306/shop", MySQL},
		{"sqlite:///var/lib/app.db", "sqlite:///var/lib/app.db", "sqlite:///var/lib/app.db", SQLite},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			tg, err := ParseURL(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Engine != tc.engine || tg.String() != tc.str || tg.Key() != tc.key {
				t.Errorf("got %s %q %q, want %s %q %q", tg.Engine, tg.String(), tg.Key(), tc.engine, tc.str, tc.key)
			}
		})
	}
	for _, bad := range []string{"", "oracle://x/y", "postgres://host", "sqlite://"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
		}
	}
}

func TestMySQLDSN(t *testing.T) {
	tg, err := ParseURL("mysql://u:p%2Fw@h:3307/db")
	if err != nil {
		t.Fatal(err)
	}
	dsn := tg.mysqlDSN(map[string]string{"lock_wait_timeout": "5"})
	for _, want := range []string{"u:p/w@tcp(h:3307)/db?", "multiStatements=true", "parseTime=true", "lock_wait_timeout=5"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("dsn %q lacks %q", dsn, want)
		}
	}
}

func TestRedact(t *testing.T) {
	tg, err := ParseURL("postgres://app:p%40ss-w0rd@h/db")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"failed: password p@ss-w0rd",
		"url postgres://app:p%40ss-w0rd@h/db",
		"other mysql://x:y-z@h/db",
	} {
		got := tg.Redact(s)
		if strings.Contains(got, "p@ss-w0rd") || strings.Contains(got, "p%40ss-w0rd") || strings.Contains(got, "y-z") {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
	inner := errors.New("connect: p@ss-w0rd")
	err = tg.redactErr(inner)
	if strings.Contains(err.Error(), "p@ss-w0rd") || !errors.Is(err, inner) {
		t.Errorf("redactErr = %v (unwraps: %t)", err, errors.Is(err, inner))
	}
	if strings.Contains(tg.libpqURL(), "p@ss") || strings.Contains(tg.libpqURL(), "p%40ss") {
		t.Errorf("libpqURL carries the password: %s", tg.libpqURL())
	}
}

// TestParseURLErrorsNeverEchoThePassword: a URL that does not parse (a space
// or a newline in the password) is shown as scheme and host only.
func TestParseURLErrorsNeverEchoThePassword(t *testing.T) {
	for _, raw := range []string{
		"postgres://app:pa ss-S3CRET@db:5432/shop",
		"postgres://app:pa\nss-S3CRET@db/shop",
		"mysql://root:50%-S3CRET@db/shop",
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Fatalf("ParseURL(%q) succeeded", raw)
		}
		if strings.Contains(err.Error(), "S3CRET") || !strings.Contains(err.Error(), "://db") {
			t.Errorf("ParseURL(%q): %v", raw, err)
		}
	}
}

// TestRedactAnyPassword: an unencoded '@' in a password is hidden whole, and
// passwords of one or two characters are hidden too.
func TestRedactAnyPassword(t *testing.T) {
	for _, tc := range []struct{ raw, text, secret string }{
		{"postgres://app:ab@h/db", "auth failed for ab (postgres://app:ab@h/db)", "ab"},
		{"postgres://app:x@h/db", "password x rejected", "x"},
	} {
		tg, err := ParseURL(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		got := tg.Redact(tc.text)
		if strings.Contains(" "+got+" ", " "+tc.secret+" ") || strings.Contains(got, ":"+tc.secret+"@") {
			t.Errorf("Redact(%q) = %q", tc.text, got)
		}
	}
	tg, _ := ParseURL("postgres://app@h/db")
	if got := tg.Redact("url postgres://app:p@ss-S3CRET@h/db"); strings.Contains(got, "ss-S3CRET") {
		t.Errorf("an @ in a password is redacted partially: %q", got)
	}
}
