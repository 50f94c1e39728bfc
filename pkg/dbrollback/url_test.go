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
