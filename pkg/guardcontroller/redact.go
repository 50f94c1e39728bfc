package guardcontroller

import (
	"net/url"
	"regexp"
)

// urlSecrets matches the parts of a URL that may carry a credential: the
// userinfo before the host, and the query string and fragment.
var urlSecrets = regexp.MustCompile(`(https?://)(?:[^/\s@]*@)?([^/\s?#]+)([^\s?#]*)(?:[?#][^\s]*[^\s:,;.)])?`)

// redactURLs removes userinfo, query strings and fragments from every URL in
// s, so that a token in a check URL never reaches an Event, the state
// annotation or the log.
func redactURLs(s string) string {
	return urlSecrets.ReplaceAllString(s, "$1$2$3")
}

// secretsOf returns the parts of the settings' URLs that may be credentials
// (userinfo, query, fragment), for the journal's redaction.
func secretsOf(s Settings) []string {
	var out []string
	for _, raw := range append(append([]string{}, s.CheckURLs...), s.PrometheusURL) {
		u, err := url.Parse(raw)
		if err != nil || raw == "" {
			continue
		}
		if u.User != nil {
			out = append(out, u.User.String())
			if p, ok := u.User.Password(); ok {
				out = append(out, p)
			}
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
			for _, vs := range u.Query() {
				out = append(out, vs...)
			}
		}
		if u.Fragment != "" {
			out = append(out, u.Fragment)
		}
	}
	var keep []string
	for _, v := range out {
		if len(v) >= 4 { // never redact tiny values such as "1" everywhere
			keep = append(keep, v)
		}
	}
	return keep
}
