package preflight

import (
	"net/url"
	"strings"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// secrets returns the secret values preflight knows of: the notification
// settings' values and the database URL's password.
func (o *Options) secrets() []string {
	var out []string
	for _, s := range o.channelSettings() {
		for _, e := range s.env {
			if v := o.Getenv(e); v != "" {
				out = append(out, v)
				// A webhook URL's path usually is the token.
				if u, err := url.Parse(v); err == nil && u.Host != "" && len(u.Path) > 1 {
					out = append(out, u.Path)
				}
			}
		}
	}
	return out
}

// redact removes every known secret, every URL password and the database
// URL's password from the checks' texts.
func redact(checks []Check, secrets []string) {
	clean := func(s string) string {
		for _, sec := range secrets {
			if len(sec) >= 4 {
				s = strings.ReplaceAll(s, sec, "xxxxx")
			}
		}
		return dbrollback.RedactURL(s)
	}
	for i := range checks {
		checks[i].Detail = clean(checks[i].Detail)
		checks[i].Fix = clean(checks[i].Fix)
	}
}

// redactDatabase removes the password of the database URL from the checks.
func redactDatabase(checks []Check, rawURL string) {
	t, err := dbrollback.ParseURL(rawURL)
	if err != nil {
		return
	}
	for i := range checks {
		checks[i].Detail = t.Redact(checks[i].Detail)
		checks[i].Fix = t.Redact(checks[i].Fix)
	}
}
