package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// scheme finds the start of a URL of any scheme, in any letter case.
var scheme = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://`)

// keyValue finds password=..., PGPASSWORD=..., api_key=..., and the like
// outside URLs; password: ... too.
var keyValue = regexp.MustCompile(`(?i)((?:password|passwd|pwd|pgpassword|mysql_pwd|client_secret|secret_key|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?token|routing[_-]?key|hmac[_-]?secret)\s*=\s*)("[^"]*"|'[^']*'|[^\s"',;&]+)`)

// keyColon finds "password: ..." (YAML, logs): a key that is a word of its
// own, not the last segment of a resource's path, so that a message such as
// "read secret shop/db-password: you may not read it" keeps its words.
var keyColon = regexp.MustCompile(`(?i)((?:^|[\s{,(;"'])[\w-]*(?:password|passwd)["']?\s*:\s*)("[^"]*"|'[^']*'|[^\s"',;&]+)`)

// bearer finds HTTP Authorization values.
var bearer = regexp.MustCompile(`(?i)(\bauthorization:\s*(?:bearer|basic|token)\s+|\bbearer\s+)([A-Za-z0-9._~+/=\-]{8,})`)

// mysqlDSN finds the password of a go-sql-driver DSN: user:pass@tcp(host)/db.
var mysqlDSN = regexp.MustCompile(`(\b[^\s:@/()]+):([^\s@]*)@(tcp|unix)\(`)

// String returns s without the credentials it recognises (see the package
// documentation); everything else is left as it is.
func String(s string) string {
	if strings.Contains(s, "://") {
		s = redactURLs(s)
	}
	if strings.Contains(s, "=") || strings.Contains(s, ":") {
		s = keyValue.ReplaceAllString(s, "${1}"+Mask)
		s = keyColon.ReplaceAllString(s, "${1}"+Mask)
	}
	if len(s) >= 8 {
		s = bearer.ReplaceAllString(s, "${1}"+Mask)
	}
	if strings.Contains(s, "@tcp(") || strings.Contains(s, "@unix(") {
		s = mysqlDSN.ReplaceAllString(s, "${1}:"+Mask+"@${3}(")
	}
	return s
}

// tokenEnd reports whether c ends a URL in running text.
func tokenEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '`', '<', '>':
		return true
	}
	return false
}

// redactURLs redacts every URL in s.
func redactURLs(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range scheme.FindAllStringIndex(s, -1) {
		if m[0] < last {
			continue // inside the previous URL
		}
		end := m[1]
		for end < len(s) && !tokenEnd(s[end]) {
			end++
		}
		// Punctuation that ends a sentence is not part of the URL.
		for end > m[1] && strings.IndexByte(".,;:!)]}", s[end-1]) >= 0 {
			end--
		}
		b.WriteString(s[last:m[1]])
		b.WriteString(redactRest(strings.ToLower(s[m[0]:m[1]-3]), s[m[1]:end]))
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactRest redacts what follows "scheme://" of one URL: its userinfo, its
// secret parameters and a Slack webhook's path.
func redactRest(scheme, rest string) string {
	if at := userinfoEnd(rest); at >= 0 {
		info := rest[:at]
		if user, _, ok := strings.Cut(info, ":"); ok {
			info = user + ":" + Mask
		} else if tokenLike(info) {
			info = Mask
		}
		rest = info + rest[at:]
	}
	host := rest
	if at := userinfoEnd(rest); at >= 0 {
		host = rest[at+1:]
	}
	if strings.HasPrefix(strings.ToLower(host), "hooks.slack.com/") {
		i := strings.Index(host, "/")
		rest = rest[:len(rest)-len(host)] + host[:i+1] + Mask
		return rest
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + redactParams(rest[i:])
	}
	return rest
}

// userinfoEnd returns the index of the '@' that ends the userinfo of rest
// (what follows "scheme://"), or -1. The last '@' counts, so that a password
// holding '@' is hidden whole; text before it that cannot be a user name
// (a path, a query) means there is no userinfo.
func userinfoEnd(rest string) int {
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return -1
	}
	info := rest[:at]
	user, _, hasPassword := strings.Cut(info, ":")
	if hasPassword {
		if strings.ContainsAny(user, "/?#") {
			return -1
		}
		return at
	}
	if strings.ContainsAny(info, "/?#") {
		return -1
	}
	return at
}

// tokenLike reports whether a user name without password may be a token
// (https://TOKEN@host): long enough that it is unlikely to be a login.
func tokenLike(user string) bool { return len(user) >= 20 }

// redactParams redacts the values of secret parameters in a query or
// fragment (starting with '?' or '#'). Parameters are separated by '&', ';',
// '#' and, in JSON output, by the escaped ampersand \u0026.
func redactParams(q string) string {
	var b strings.Builder
	sep := q[:1]
	q = q[1:]
	for {
		b.WriteString(sep)
		j, n := nextSeparator(q)
		param := q[:j]
		if k, _, ok := strings.Cut(param, "="); ok && secretKey(k) {
			b.WriteString(k + "=" + Mask)
		} else {
			b.WriteString(param)
		}
		if j == len(q) {
			return b.String()
		}
		sep, q = q[j:j+n], q[j+n:]
	}
}

// jsonAmp is '&' as encoding/json escapes it.
const jsonAmp = `\u0026`

// nextSeparator returns the index and length of the next parameter
// separator in q, or len(q) and 0.
func nextSeparator(q string) (int, int) {
	for j := 0; j < len(q); j++ {
		switch q[j] {
		case '&', ';', '#':
			return j, 1
		case '\\':
			if strings.HasPrefix(q[j:], jsonAmp) {
				return j, len(jsonAmp)
			}
		}
	}
	return len(q), 0
}

// secretKeys are the words that mark a URL parameter's value as secret.
var secretKeys = []string{"token", "key", "secret", "pass", "pwd", "auth", "sig", "credential", "session", "jwt", "code", "cookie", "otp"}

// secretKey reports whether the parameter named k holds a secret.
func secretKey(k string) bool {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	k = strings.ToLower(k)
	for _, w := range secretKeys {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// URL returns raw ready to show: the password and secret parameters masked
// (see String). A URL that does not parse is shown as scheme and host only,
// or as "(unparsable URL)" when not even those can be told.
func URL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.ContainsAny(raw, " \t\r\n") {
		return Host(raw)
	}
	return String(raw)
}

// Host returns "scheme://host[:port]" of raw and nothing else, even when raw
// does not parse; "(unparsable URL)" when there is no telling.
func Host(raw string) string {
	raw = strings.TrimSpace(raw)
	i := strings.Index(raw, "://")
	if i <= 0 || !scheme.MatchString(raw[:i+3]) || scheme.FindStringIndex(raw)[0] != 0 {
		return "(unparsable URL)"
	}
	rest := raw[i+3:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	if rest == "" || strings.Trim(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]_") != "" {
		return strings.ToLower(raw[:i]) + "://(unparsable URL)"
	}
	return strings.ToLower(raw[:i]) + "://" + rest
}

// URLSecrets returns the secret parts of a URL, to register with a
// Redactor: the whole URL when it holds any secret, the userinfo and the
// password (raw and decoded), a token-like user name, the values of secret
// parameters, and a Slack webhook's path. A URL that does not parse is
// split by hand the same way.
func URLSecrets(raw string) []string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	var out []string
	i := strings.Index(raw, "://")
	if i < 0 {
		return nil
	}
	rest := raw[i+3:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		info := rest[:at]
		if user, pass, ok := strings.Cut(info, ":"); ok && pass != "" {
			out = append(out, info, pass)
			if d, err := url.PathUnescape(pass); err == nil && d != pass {
				out = append(out, d)
			}
		} else if !ok && tokenLike(user) && !strings.ContainsAny(user, "/?#") {
			out = append(out, user)
		}
		rest = rest[at+1:]
	}
	if strings.HasPrefix(strings.ToLower(rest), "hooks.slack.com/") {
		out = append(out, rest[strings.Index(rest, "/"):])
	}
	if j := strings.IndexAny(rest, "?#"); j >= 0 {
		for _, p := range strings.FieldsFunc(rest[j+1:], func(r rune) bool { return r == '&' || r == ';' || r == '#' }) {
			if k, v, ok := strings.Cut(p, "="); ok && v != "" && secretKey(k) {
				out = append(out, v)
				if d, err := url.QueryUnescape(v); err == nil && d != v {
					out = append(out, d)
				}
			}
		}
	}
	if len(out) > 0 {
		out = append(out, raw)
	}
	return out
}

// WebhookURLSecrets returns the secret parts of a notification URL, whose
// path and query are the credential (a Slack or generic webhook): the whole
// URL, its path, its query and URLSecrets.
func WebhookURLSecrets(raw string) []string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	out := append([]string{raw}, URLSecrets(raw)...)
	if u, err := url.Parse(raw); err == nil {
		if p := strings.Trim(u.EscapedPath(), "/"); len(p) > 1 {
			out = append(out, u.EscapedPath(), u.Path)
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
		}
	}
	return out
}
