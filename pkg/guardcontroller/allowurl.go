package guardcontroller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// URLPolicy is the allowlist of the URLs a workload's annotations (or its
// settings ConfigMap) may make the controller fetch: check URLs and the
// Prometheus server. Namespace editors write those; the allowlist is the
// cluster admin's (--allow-url, or the key allowURLs of the controller's
// settings ConfigMap).
//
// A pattern is scheme://host[:port][/path-prefix]:
//   - scheme is http or https;
//   - host is a DNS name (web.shop.svc), "*." and a DNS name for any name
//     below it (*.svc.cluster.local matches a.b.svc.cluster.local, not
//     svc.cluster.local itself), or an IP literal (10.0.0.7, [fd00::7]);
//   - port is a number or "*" for any port; without it only the scheme's
//     default port (80, 443) matches;
//   - path-prefix matches whole path segments: /api matches /api and
//     /api/v1, not /apis; without it any path matches;
//   - no user info, query or fragment; matching ignores letter case in the
//     scheme and host.
//
// With no pattern the default applies: http and https to cluster-internal
// Service names only, hosts ending in .svc or .svc.cluster.local, on any
// port and path. IP literals are never allowed by default. Link-local
// addresses (169.254.0.0/16, fe80::/10, where cloud metadata services
// listen), other metadata addresses and names are refused whatever the
// patterns say, and the controller's HTTP client also refuses to connect to
// them after name resolution and on redirects.
type URLPolicy struct {
	patterns []urlPattern
}

type urlPattern struct {
	raw      string
	scheme   string
	host     string // lower case; without "*." when wildcard
	wildcard bool
	port     string // "" default port, "*" any
	path     string // "" any
}

// defaultPatterns is the policy without any pattern.
var defaultPatterns = []string{"http://*.svc:*", "https://*.svc:*", "http://*.svc.cluster.local:*", "https://*.svc.cluster.local:*"}

// ParseURLPolicy parses the allowlist patterns (empty entries are skipped;
// an entry may hold several patterns separated by commas or new lines). No
// pattern at all is the default policy.
func ParseURLPolicy(patterns []string) (URLPolicy, error) {
	var p URLPolicy
	var errs []error
	for _, entry := range patterns {
		for _, raw := range strings.FieldsFunc(entry, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
			raw = strings.TrimSpace(raw)
			if raw == "" || strings.HasPrefix(raw, "#") {
				continue
			}
			pat, err := parsePattern(raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("allow-url %q: %w", raw, err))
				continue
			}
			p.patterns = append(p.patterns, pat)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return URLPolicy{}, fmt.Errorf("%w (a pattern is scheme://host[:port][/path-prefix], e.g. https://*.monitoring.svc.cluster.local:9090 or http://prometheus.example.com/api)", err)
	}
	return p, nil
}

// DefaultURLPolicy is the policy without patterns: Service names only.
func DefaultURLPolicy() URLPolicy { return URLPolicy{} }

func parsePattern(raw string) (urlPattern, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return urlPattern{}, errors.New("no scheme://")
	}
	pat := urlPattern{raw: raw, scheme: strings.ToLower(scheme)}
	if pat.scheme != "http" && pat.scheme != "https" {
		return urlPattern{}, errors.New("scheme must be http or https")
	}
	if strings.ContainsAny(rest, "?#@") {
		return urlPattern{}, errors.New("no user info, query or fragment in a pattern")
	}
	hostport, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	pat.path = strings.TrimSuffix(path, "/")
	host, port := hostport, ""
	if h, pt, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, pt
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	if port != "" && port != "*" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return urlPattern{}, fmt.Errorf("port %q is not a number from 1 to 65535 or *", port)
		}
	}
	pat.port = port
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if strings.HasPrefix(host, "*.") {
		pat.wildcard, host = true, host[2:]
	}
	if host == "" || strings.Contains(host, "*") {
		return urlPattern{}, errors.New("host must be a name, *.name or an IP literal")
	}
	if _, err := netip.ParseAddr(host); err == nil && pat.wildcard {
		return urlPattern{}, errors.New("*. cannot precede an IP address")
	}
	if safehttp.ForbiddenHost(host) {
		return urlPattern{}, errors.New("link-local and cloud metadata addresses are never allowed")
	}
	pat.host = host
	return pat, nil
}

// Check returns nil when the policy allows raw, else an error saying why
// (naming the scheme and host only: the URL may carry credentials).
func (p URLPolicy) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return p.CheckURL(u)
}

// CheckURL is Check for a parsed URL (a redirect target, say).
func (p URLPolicy) CheckURL(u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return errors.New("not an absolute http(s) URL")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	where := scheme + "://" + u.Host
	if safehttp.ForbiddenHost(host) {
		return fmt.Errorf("%s is a link-local or cloud metadata address, never fetched", redact.Host(where))
	}
	pats := p.patterns
	if len(pats) == 0 {
		if _, err := netip.ParseAddr(host); err == nil {
			return fmt.Errorf("%s is an IP address; by default only cluster Service names (*.svc, *.svc.cluster.local) are fetched: ask the cluster admin to allow it with --allow-url", redact.Host(where))
		}
		pats = defaults
	}
	for _, pat := range pats {
		if pat.matches(scheme, host, u.Port(), u.EscapedPath()) {
			return nil
		}
	}
	if len(p.patterns) == 0 {
		return fmt.Errorf("%s is not a cluster Service name (*.svc, *.svc.cluster.local), the only URLs fetched by default: ask the cluster admin to allow it with --allow-url", redact.Host(where))
	}
	return fmt.Errorf("%s%s is not in the controller's URL allowlist (%s): ask the cluster admin to add it with --allow-url", redact.Host(where), safePath(u), p)
}

// safePath shows a URL's path for messages, nothing after it.
func safePath(u *url.URL) string {
	if u.Path == "" || u.Path == "/" {
		return ""
	}
	return u.EscapedPath()
}

var defaults = func() []urlPattern {
	var out []urlPattern
	for _, raw := range defaultPatterns {
		p, err := parsePattern(raw)
		if err != nil {
			panic(err)
		}
		out = append(out, p)
	}
	return out
}()

func (pat urlPattern) matches(scheme, host, port, path string) bool {
	if scheme != pat.scheme {
		return false
	}
	if pat.wildcard {
		if !strings.HasSuffix(host, "."+pat.host) {
			return false
		}
	} else if host != pat.host {
		return false
	}
	switch pat.port {
	case "*":
	case "":
		if port != "" && port != map[string]string{"http": "80", "https": "443"}[scheme] {
			return false
		}
	default:
		if port != pat.port && !(port == "" && pat.port == map[string]string{"http": "80", "https": "443"}[scheme]) {
			return false
		}
	}
	if pat.path != "" && path != pat.path && !strings.HasPrefix(path, pat.path+"/") {
		return false
	}
	return true
}

// String lists the patterns (the default when there is none).
func (p URLPolicy) String() string {
	if len(p.patterns) == 0 {
		return "default: " + strings.Join(defaultPatterns, ", ")
	}
	out := make([]string, len(p.patterns))
	for i, pat := range p.patterns {
		out[i] = pat.raw
	}
	return strings.Join(out, ", ")
}

// The controller's own settings ConfigMap, in its namespace (the lease
// namespace): only the cluster admin writes there.
const (
	// SettingsConfigMap is the name of the controller's settings ConfigMap.
	SettingsConfigMap = "rollback-guard-settings"
	// SettingsKeyAllowURLs holds URL patterns, one per line or comma-separated.
	SettingsKeyAllowURLs = "allowURLs"
)

// LoadURLPolicy returns the policy of the flag patterns and of the key
// allowURLs of ConfigMap SettingsConfigMap read with configMaps (the
// controller's namespace). A missing ConfigMap or key adds nothing; one the
// controller may not read is an error naming the permission.
func LoadURLPolicy(ctx context.Context, configMaps corev1client.ConfigMapInterface, flagPatterns []string) (URLPolicy, error) {
	patterns := append([]string(nil), flagPatterns...)
	cm, err := configMaps.Get(ctx, SettingsConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return URLPolicy{}, fmt.Errorf("read the URL allowlist from configmap %s: %w (grant get on it, or remove it and use --allow-url)", SettingsConfigMap, err)
	default:
		if v := cm.Data[SettingsKeyAllowURLs]; v != "" {
			patterns = append(patterns, v)
		}
	}
	p, err := ParseURLPolicy(patterns)
	if err != nil {
		return URLPolicy{}, fmt.Errorf("URL allowlist (--allow-url, configmap %s key %s): %w", SettingsConfigMap, SettingsKeyAllowURLs, err)
	}
	return p, nil
}
