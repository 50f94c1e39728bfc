package guardcontroller

import (
	"net/url"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// FuzzParseSettings: whatever a namespace editor writes in the annotations
// or the settings ConfigMap, parsing never panics, and settings it accepts
// name only allowed URLs and valid queries, within the limits.
func FuzzParseSettings(f *testing.F) {
	f.Add("5m", "http://web.shop.svc/healthz,http://169.254.169.254/", "http://prom.monitoring.svc:9090", "- name: e\n  query: up{namespace=\"{{.namespace}}\"}\n  max: 1\n")
	f.Add("soon", "ftp://u:p@h/", "HTTPS://u:p@x.svc", "- name: e\n  query: '{{range 9}}x{{end}}'\n  max: 1\n")
	f.Add("1s", "", "", "&a [*a, *a]")
	f.Fuzz(func(t *testing.T, bake, checks, prom, queries string) {
		allow := DefaultURLPolicy()
		s, err := ParseSettings(map[string]string{AnnotationGuard: EnabledValue, AnnotationBake: bake, AnnotationCheckURLs: checks, AnnotationPrometheusURL: prom},
			map[string]string{"queries": queries, "interval": "1s"}, allow)
		if err != nil {
			if strings.Contains(err.Error(), "u:p@") {
				t.Fatalf("error shows credentials: %v", err)
			}
			return
		}
		if len(s.CheckURLs) > MaxCheckURLs || len(s.Checks) > MaxQueries {
			t.Fatalf("limits exceeded: %d urls, %d queries", len(s.CheckURLs), len(s.Checks))
		}
		for _, u := range append(append([]string{}, s.CheckURLs...), s.PrometheusURL) {
			if u != "" && allow.Check(u) != nil {
				t.Fatalf("accepted a URL the policy refuses: %q", u)
			}
		}
		for _, c := range s.Checks {
			if err := promquery.Validate(c.Query); err != nil {
				t.Fatalf("accepted query %q: %v", c.Query, err)
			}
		}
	})
}

// FuzzURLPolicy: patterns and URLs never panic; an accepted URL is never a
// link-local or metadata address.
func FuzzURLPolicy(f *testing.F) {
	f.Add("https://*.example.com:*/api", "https://a.example.com:8443/api/v1")
	f.Add("http://127.0.0.1:*", "http://169.254.169.254/")
	f.Add("", "http://[fe80::1%25eth0]/")
	f.Fuzz(func(t *testing.T, pattern, raw string) {
		p, err := ParseURLPolicy([]string{pattern})
		if err != nil {
			return
		}
		if p.Check(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || safehttp.ForbiddenHost(u.Hostname()) {
			t.Fatalf("pattern %q allows %q", pattern, raw)
		}
	})
}

// FuzzReadState: any state annotation reads without a panic; one that
// parses writes back.
func FuzzReadState(f *testing.F) {
	f.Add(`{"hash":"abc","revision":2,"phase":"baking","bakeStarted":"2026-11-26T03:00:00Z","by":"a","updated":"2026-11-26T03:00:00Z"}`)
	f.Add(`{"revision":1e400}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, raw string) {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{AnnotationState: raw}}}
		s, err := ReadState(d)
		if err != nil || s == nil {
			return
		}
		_ = s.Final()
		_ = stateOps(d.Annotations, raw)
	})
}
