// Package redact is the one redactor of rollback: every output path (stdout,
// stderr, JSON, the journal and its cluster mirror, the report, Events,
// annotations, notifications and logs) passes its text through it.
//
// It removes two kinds of secrets:
//
//   - what it recognises in any text (String): the password of a URL's
//     userinfo, of any scheme and spelling (HTTPS://, postgres://,
//     mysql://, ...), whatever its length and whatever it contains ('@'
//     included); a long user name that looks like a token; the values of
//     token-like query and fragment parameters (token, access_token, key,
//     secret, password, signature, ...); the path of a Slack incoming
//     webhook; password=... and similar key-value pairs; Bearer tokens; the
//     password of a MySQL DSN (user:pass@tcp(host)/db);
//   - the secret values a Redactor was told about (database passwords,
//     Secret values, webhook URLs and HMAC secrets, Slack URLs, PagerDuty
//     keys), of any length: values of four characters or more wherever they
//     appear, shorter ones where they stand alone (not inside a word).
//
// A URL shown on its own (URL) that does not parse is shown as scheme and
// host only.
package redact

import (
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces every secret.
const Mask = "xxxxx"

// minAnywhere is the shortest known secret replaced wherever it occurs;
// shorter ones are replaced only where they stand alone.
const minAnywhere = 4

// Redactor removes known secret values and recognisable credentials from
// text. The zero value and a nil *Redactor remove recognisable credentials
// only. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first
	seen    map[string]bool
}

// New returns a Redactor that knows secrets (empty strings are ignored).
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers secret values. Each value's URL-encoded and JSON-escaped
// forms and, for a value of several lines, each line, are registered too.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	for _, s := range secrets {
		for _, v := range forms(s) {
			if v == "" || r.seen[v] {
				continue
			}
			r.seen[v] = true
			r.secrets = append(r.secrets, v)
		}
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// AddURL registers the secret parts of each URL (see URLSecrets).
func (r *Redactor) AddURL(raws ...string) {
	for _, raw := range raws {
		r.Add(URLSecrets(raw)...)
	}
}

// Secrets returns the registered values (with their encoded forms).
func (r *Redactor) Secrets() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.secrets...)
}

// forms returns s and the other spellings it may appear in.
func forms(s string) []string {
	out := []string{s}
	if q := url.QueryEscape(s); q != s {
		out = append(out, q)
	}
	if p := url.PathEscape(s); p != s {
		out = append(out, p)
	}
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		out = append(out, q[1:len(q)-1])
	}
	if strings.ContainsAny(s, "\r\n") {
		for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if line = strings.TrimSpace(line); len(line) >= minAnywhere {
				out = append(out, line)
			}
		}
	}
	return out
}

// String returns s without the known secrets and without the credentials
// String (the package function) recognises.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, sec := range r.secrets {
			if len(sec) >= minAnywhere {
				s = strings.ReplaceAll(s, sec, Mask)
			} else {
				s = replaceStandalone(s, sec)
			}
		}
		r.mu.RUnlock()
	}
	return String(s)
}

// replaceStandalone replaces the occurrences of sec in s that are not part
// of a longer word (letters and digits on either side).
func replaceStandalone(s, sec string) string {
	var b strings.Builder
	last := 0 // s[:last] is in b
	for from := 0; from <= len(s)-len(sec); {
		i := strings.Index(s[from:], sec)
		if i < 0 {
			break
		}
		i += from
		end := i + len(sec)
		if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
			b.WriteString(s[last:i])
			b.WriteString(Mask)
			last = end
			from = end
			continue
		}
		from = i + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// Error returns err with its message redacted; it still unwraps to err, so
// errors.Is, errors.As and failure kinds keep working. nil stays nil.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// Error returns err with the credentials String recognises removed from its
// message; it still unwraps to err.
func Error(err error) error { return (*Redactor)(nil).Error(err) }

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Value returns v with every string in it redacted: v is a decoded JSON
// value (string, []any, map[string]any; map keys included) or a scalar.
func (r *Redactor) Value(v any) any {
	switch v := v.(type) {
	case string:
		return r.String(v)
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = r.Value(v[i])
		}
		return out
	case []string:
		out := make([]string, len(v))
		for i := range v {
			out[i] = r.String(v[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[r.String(k)] = r.Value(x)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(v))
		for k, x := range v {
			out[r.String(k)] = r.String(x)
		}
		return out
	}
	return v
}

// Writer returns a writer that redacts every Write before passing it to w.
// Each Write is redacted on its own: write whole lines or messages (as
// fmt.Fprintf does) so that a secret is never split between two writes.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	if rw, ok := w.(*writer); ok && rw.r == r {
		return w
	}
	return &writer{w: w, r: r}
}

type writer struct {
	w io.Writer
	r *Redactor
}

func (w *writer) Write(p []byte) (int, error) {
	out := w.r.String(string(p))
	if _, err := io.WriteString(w.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap returns the writer redacted output goes to (for terminal checks).
func (w *writer) Unwrap() io.Writer { return w.w }
