package redact

import (
	"strings"
	"testing"
)

// canaryOf turns fuzz bytes into a secret of at least 8 characters drawn
// from letters and digits that never occur in Mask, so that a surviving
// canary is a real leak.
func canaryOf(seed string) string {
	const alphabet = "abcdefghijklmnopqrstuvwyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteString("Cn")
	for i := 0; i < len(seed) && b.Len() < 24; i++ {
		b.WriteByte(alphabet[int(seed[i])%len(alphabet)])
	}
	for b.Len() < 8 {
		b.WriteByte('q')
	}
	return b.String()
}

// FuzzRedact plants a canary as a URL password, as a token parameter and as
// a known secret inside arbitrary text: none survives String, URL or a
// Redactor that knows it.
func FuzzRedact(f *testing.F) {
	f.Add("error: ", " failed", "http", "canary")
	f.Add("", "", "HTTPS", "x")
	f.Add("connect to ", ": dial tcp", "postgres", "p@ss")
	f.Add("a@b ", "@c/d?e", "mysql", "0")
	f.Add("\x1b[31m", "\r\n", "sqlite", "")
	f.Fuzz(func(t *testing.T, prefix, suffix, scheme, seed string) {
		canary := canaryOf(seed)
		if scheme == "" || !isSchemeWord(scheme) {
			scheme = "http"
		}
		inputs := []string{
			prefix + scheme + "://user:" + canary + "@host/p" + suffix,
			prefix + scheme + "://user:" + canary + "@" + suffix,
			prefix + scheme + "://host/p?token=" + canary + suffix,
			prefix + scheme + "://host/p?a=1&access_token=" + canary + suffix,
			prefix + "password=" + canary + " " + suffix,
		}
		for _, in := range inputs {
			if out := String(in); strings.Contains(out, canary) {
				t.Fatalf("String(%q) = %q: canary survives", in, out)
			}
		}
		r := New(canary)
		known := prefix + canary + suffix + strings.ToUpper(canary[:1]) + canary
		if out := r.String(known); strings.Contains(out, canary) {
			t.Fatalf("Redactor.String(%q) = %q: known secret survives", known, out)
		}
		if out := URL(inputs[0]); strings.Contains(out, canary) {
			t.Fatalf("URL(%q) = %q: canary survives", inputs[0], out)
		}
	})
}

func isSchemeWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-')) {
			return false
		}
	}
	return len(s) > 0 && len(s) < 20
}
