package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"https userinfo and token", "GET http://admin:pw@host/h?token=abc&x=1 failed", "GET http://admin:xxxxx@host/h?token=xxxxx&x=1 failed"},
		{"upper-case scheme", "HTTPS://admin:s3cret@host/", "HTTPS://admin:xxxxx@host/"},
		{"postgres", "connect to postgres://app:hunter2@db:5432/shop: refused", "connect to postgres://app:xxxxx@db:5432/shop: refused"},
		{"password with @", "postgres://app:p@ss@db/shop", "postgres://app:xxxxx@db/shop"},
		{"password with slash", "mysql://root:a/b@db/shop", "mysql://root:xxxxx@db/shop"},
		{"one-character password", "postgres://app:x@db/shop", "postgres://app:xxxxx@db/shop"},
		{"user without password kept", "postgres://app@db/shop", "postgres://app@db/shop"},
		{"token as user name", "https://ghp_0123456789abcdefghijklmnop@github.com/x", "https://xxxxx@github.com/x"},
		{"email in a query is no userinfo", "http://host/p?email=a@b.example", "http://host/p?email=a@b.example"},
		{"access_token in fragment", "https://app/cb#access_token=abc&state=1", "https://app/cb#access_token=xxxxx&state=1"},
		{"api key upper case", "http://h/?API_KEY=abc", "http://h/?API_KEY=xxxxx"},
		{"signature", "https://bucket/o?X-Amz-Signature=abc&X-Amz-Date=1", "https://bucket/o?X-Amz-Signature=xxxxx&X-Amz-Date=1"},
		{"json-escaped ampersand", `{"url":"http://h/?a=1\u0026token=abc"}`, `{"url":"http://h/?a=1\u0026token=xxxxx"}`},
		{"slack path", "post https://hooks.slack.com/services/T0/B0/XYZ: 500", "post https://hooks.slack.com/xxxxx: 500"},
		{"key=value", "pg_dump: password=hunter2 host=db", "pg_dump: password=xxxxx host=db"},
		{"PGPASSWORD", "env PGPASSWORD=hunter2 pg_dump", "env PGPASSWORD=xxxxx pg_dump"},
		{"quoted password", "password='a b c' host=db", "password=xxxxx host=db"},
		{"password colon", "password: hunter2", "password: xxxxx"},
		{"bearer", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc", "Authorization: Bearer xxxxx"},
		{"mysql dsn", "dial app:hunter2@tcp(127.0.0.1:3306)/shop", "dial app:xxxxx@tcp(127.0.0.1:3306)/shop"},
		{"nothing to do", "deployment web rolled back to revision 3", "deployment web rolled back to revision 3"},
		{"two urls", "a http://u:p@h1/ b https://u:q@h2/", "a http://u:xxxxx@h1/ b https://u:xxxxx@h2/"},
		{"sqlite path", "sqlite:///var/lib/app.db", "sqlite:///var/lib/app.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://admin:pw@host:8080/h?token=abc", "http://admin:xxxxx@host:8080/h?token=xxxxx"},
		{"postgres://app:pa ss@db:5432/shop", "postgres://db:5432"},
		{"postgres://app:pa\nss@db/shop", "postgres://db"},
		{"postgres://app:p%zz@db/shop", "postgres://db"},
		{"HTTPS://u:p@Host/", "HTTPS://u:xxxxx@Host/"},
		{"not a url", "(unparsable URL)"},
		{"http://a b c", "http://(unparsable URL)"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactorKnownSecrets(t *testing.T) {
	r := New("hunter2-long-secret", "pw", "", "multi\nline-secret-value")
	tests := []struct{ in, want string }{
		{"the secret hunter2-long-secret leaked", "the secret xxxxx leaked"},
		{"encoded hunter2-long-secret", "encoded xxxxx"},
		{"pw alone is hidden: pw.", "xxxxx alone is hidden: xxxxx."},
		{"but not inside a word: upward", "but not inside a word: upward"},
		{"line-secret-value", "xxxxx"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	r2 := New("a&b c+d")
	if got := r2.String("q=a%26b+c%2Bd and a&b%20c+d"); strings.Contains(got, "a%26b") || strings.Contains(got, "b%20c") {
		t.Errorf("encoded forms survive: %q", got)
	}
	var nilR *Redactor
	if got := nilR.String("http://u:p@h/"); got != "http://u:xxxxx@h/" {
		t.Errorf("nil redactor: %q", got)
	}
}

func TestURLSecrets(t *testing.T) {
	r := New()
	raw := "http://admin:s3cr%40t@host/h?token=tok-123&x=1"
	r.AddURL(raw, "postgres://app:pa ss@db/shop")
	for _, in := range []string{"s3cr@t", "s3cr%40t", "tok-123", "pa ss", raw} {
		if got := r.String("[" + in + "]"); strings.Contains(got, in) {
			t.Errorf("%q survives: %q", in, got)
		}
	}
	if got := r.String("x=1"); got != "x=1" {
		t.Errorf("non-secret parameter redacted: %q", got)
	}
	w := New()
	w.Add(WebhookURLSecrets("https://hooks.example/T0/B0/abcdef")...)
	if got := w.String("path /T0/B0/abcdef"); strings.Contains(got, "abcdef") {
		t.Errorf("webhook path survives: %q", got)
	}
}

func TestErrorKeepsChain(t *testing.T) {
	base := fmt.Errorf("open postgres://u:hunter2@db/x: %w", fs.ErrNotExist)
	err := New().Error(base)
	if strings.Contains(err.Error(), "hunter2") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Error() = %v (is ErrNotExist: %t)", err, errors.Is(err, fs.ErrNotExist))
	}
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	plain := errors.New("fine")
	if Error(plain) != plain {
		t.Error("an error without secrets is not returned as is")
	}
}

func TestValueAndWriter(t *testing.T) {
	r := New("canary-value")
	v := r.Value(map[string]any{"canary-value": []any{"x canary-value", 3, map[string]any{"u": "http://a:b@h/"}}})
	got := fmt.Sprint(v)
	if strings.Contains(got, "canary-value") || strings.Contains(got, ":b@") {
		t.Errorf("Value left secrets: %s", got)
	}
	var buf bytes.Buffer
	w := r.Writer(&buf)
	n, err := fmt.Fprintf(w, "token canary-value and http://u:p@h/\n")
	if err != nil || n != len("token canary-value and http://u:p@h/\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if buf.String() != "token xxxxx and http://u:xxxxx@h/\n" {
		t.Errorf("writer wrote %q", buf.String())
	}
	if r.Writer(w) != w {
		t.Error("wrapping twice")
	}
}

// TestKeyWordsFoldedLikeThePatterns: the key patterns' cheap pre-check sees
// every spelling the case-insensitive patterns match.
func TestKeyWordsFoldedLikeThePatterns(t *testing.T) {
	for _, in := range []string{"PASSWORD=hunter2", "api_\u212aey=hunter2", "pa\u017fsword=hunter2", "Pa\u017f\u017fword: hunter2", "Auth-Token=hunter2"} {
		if out := String(in); strings.Contains(out, "hunter2") {
			t.Errorf("String(%q) = %q", in, out)
		}
	}
}
