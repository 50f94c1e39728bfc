package guardcontroller

import (
	"strings"
	"testing"
)

func TestURLPolicy(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		url      string
		allowed  bool
	}{
		{"default: a Service name", nil, "http://web.shop.svc:8080/healthz", true},
		{"default: a full Service name", nil, "https://prometheus.monitoring.svc.cluster.local:9090", true},
		{"default: upper case", nil, "HTTP://Web.Shop.SVC/healthz", true},
		{"default: an IP literal", nil, "http://10.0.0.7:8080/", false},
		{"default: loopback", nil, "http://127.0.0.1:8080/", false},
		{"default: an external name", nil, "https://example.com/", false},
		{"default: a name that only looks internal", nil, "http://svc.evil.example.com/", false},
		{"default: metadata", nil, "http://169.254.169.254/latest/meta-data", false},
		{"default: metadata name", nil, "http://metadata.google.internal/computeMetadata/v1/", false},
		{"exact host, default port", []string{"https://prom.example.com"}, "https://prom.example.com/api/v1/query", true},
		{"exact host, other port", []string{"https://prom.example.com"}, "https://prom.example.com:8443/", false},
		{"explicit default port", []string{"https://prom.example.com:443"}, "https://prom.example.com/", true},
		{"any port", []string{"http://127.0.0.1:*"}, "http://127.0.0.1:39211/healthz", true},
		{"exact port", []string{"http://127.0.0.1:8080"}, "http://127.0.0.1:8081/", false},
		{"wildcard subdomain", []string{"https://*.example.com"}, "https://a.b.example.com/", true},
		{"wildcard is not the bare domain", []string{"https://*.example.com"}, "https://example.com/", false},
		{"wildcard needs a dot boundary", []string{"https://*.example.com"}, "https://evilexample.com/", false},
		{"scheme must match", []string{"https://prom.example.com"}, "http://prom.example.com/", false},
		{"path prefix", []string{"http://web.example.com/health"}, "http://web.example.com/health/live", true},
		{"path prefix on a segment boundary", []string{"http://web.example.com/health"}, "http://web.example.com/healthz", false},
		{"explicit patterns replace the default", []string{"https://prom.example.com"}, "http://web.shop.svc/", false},
		{"metadata even when allowed by wildcard", []string{"http://*.internal:*"}, "http://metadata.google.internal/", false},
		{"ipv6 literal", []string{"http://[fd00::7]:8080"}, "http://[fd00::7]:8080/x", true},
		{"userinfo does not matter", []string{"http://web.example.com"}, "http://u:p@web.example.com/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseURLPolicy(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Check(tt.url)
			if (err == nil) != tt.allowed {
				t.Fatalf("Check(%s) with %v = %v, want allowed=%t", tt.url, tt.patterns, err, tt.allowed)
			}
			if err != nil && strings.Contains(err.Error(), "u:p") {
				t.Errorf("message shows credentials: %v", err)
			}
		})
	}
}

func TestParseURLPolicyRefusesBadPatterns(t *testing.T) {
	for _, bad := range []string{"prom.example.com", "ftp://x", "http://*", "http://a.*.com", "http://*.10.0.0.1", "http://h:99999", "http://u:p@h", "http://h/?q=1", "http://169.254.169.254", "http://[fe80::1]"} {
		if _, err := ParseURLPolicy([]string{bad}); err == nil {
			t.Errorf("ParseURLPolicy(%q) accepted", bad)
		}
	}
	p, err := ParseURLPolicy([]string{"# comment\nhttp://a.svc, https://b.example.com\n\n"})
	if err != nil || len(p.patterns) != 2 {
		t.Fatalf("list: %v %v", p, err)
	}
}
