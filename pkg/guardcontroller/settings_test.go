package guardcontroller

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vibestack/rollback/pkg/promquery"
)

func TestParseSettings(t *testing.T) {
	max := 0.05
	min := 10.0
	tests := []struct {
		name    string
		ann     map[string]string
		config  map[string]string
		want    func(*Settings)
		wantErr []string
	}{
		{name: "defaults", ann: map[string]string{AnnotationGuard: "enabled"}, want: func(*Settings) {}},
		{name: "annotations", ann: map[string]string{
			AnnotationGuard: "enabled", AnnotationBake: "2m", AnnotationInterval: "10s", AnnotationFailureLimit: "2",
			AnnotationConsecutiveErrorLimit: "0", AnnotationOnInconclusive: "fail", AnnotationTimeout: "3m", AnnotationSettle: "1s",
			AnnotationCheckURLs: "http://web/healthz, https://web.example.com/ready", AnnotationPrometheusURL: "http://prom:9090",
			AnnotationState: `{"not":"parsed here"}`,
		}, want: func(s *Settings) {
			s.Bake, s.Interval, s.FailureLimit, s.ConsecutiveErrorLimit, s.OnInconclusive = 2*time.Minute, 10*time.Second, 2, 0, "fail"
			s.Timeout, s.Settle = 3*time.Minute, time.Second
			s.CheckURLs = []string{"http://web/healthz", "https://web.example.com/ready"}
			s.PrometheusURL = "http://prom:9090"
		}},
		{name: "configmap, annotations override", ann: map[string]string{AnnotationBake: "1m"}, config: map[string]string{
			"bake": "10m", "interval": "20s", "prometheus-url": "http://prom:9090",
			"queries": "- name: errors\n  query: sum(rate(x[1m]))\n  max: 0.05\n- name: rps\n  query: sum(rate(y[1m]))\n  min: 10\n",
		}, want: func(s *Settings) {
			s.Bake, s.Interval, s.PrometheusURL = time.Minute, 20*time.Second, "http://prom:9090"
			s.Checks = []promquery.Check{{Name: "errors", Query: "sum(rate(x[1m]))", Max: &max}, {Name: "rps", Query: "sum(rate(y[1m]))", Min: &min}}
		}},
		{name: "bad values, all reported", ann: map[string]string{
			AnnotationBake: "soon", AnnotationInterval: "10ms", AnnotationFailureLimit: "-1", AnnotationOnInconclusive: "ignore",
			AnnotationPrefix + "-bak": "5m",
		}, wantErr: []string{AnnotationBake + `: "soon" is not a duration`, AnnotationInterval + ": 10ms is shorter than the minimum 1s",
			AnnotationFailureLimit + `: "-1" is not a whole number`, `"ignore" is not rollback, pass or fail`, AnnotationPrefix + "-bak: unknown guard setting"}},
		{name: "a URL with a token is never echoed", ann: map[string]string{AnnotationCheckURLs: "http://ok/healthz,ftp://user:s3cr3t@host/x"},
			wantErr: []string{AnnotationCheckURLs + ": entry 2: not an absolute http(s) URL"}},
		{name: "queries without prometheus", config: map[string]string{"queries": "- name: e\n  query: up\n  max: 1\n"},
			wantErr: []string{"1 prometheus queries but no Prometheus"}},
		{name: "query with both thresholds", config: map[string]string{"prometheus-url": "http://p", "queries": "- name: e\n  query: up\n  max: 1\n  min: 0\n"},
			wantErr: []string{`query "e" needs exactly one of max and min`}},
		{name: "query with an unknown field", config: map[string]string{"prometheus-url": "http://p", "queries": "- name: e\n  query: up\n  maximum: 1\n"},
			wantErr: []string{"field maximum not found"}},
		{name: "unknown configmap key", config: map[string]string{"bake-time": "5m"}, wantErr: []string{`configmap key "bake-time": unknown setting`}},
		{name: "a URL outside the allowlist", ann: map[string]string{AnnotationCheckURLs: "http://web/healthz,http://169.254.169.254/latest/meta-data", AnnotationPrometheusURL: "http://evil.example.com:9090"},
			wantErr: []string{"check URL 2: http://169.254.169.254 is a link-local or cloud metadata address", "prometheus URL: http://evil.example.com:9090 is not in the controller's URL allowlist"}},
		{name: "a query template is refused", config: map[string]string{"prometheus-url": "http://p", "queries": "- name: e\n  query: '{{range 20000}}{{range 1000}}xxxxxxxxxxxxxxxx{{end}}{{end}}'\n  max: 1\n"},
			wantErr: []string{`query "e": query template`, "{{.namespace}}"}},
		{name: "allowURLs is not a per-Deployment key", config: map[string]string{"allowURLs": "http://*"}, wantErr: []string{"the URL allowlist is the cluster admin's"}},
		{name: "too many check URLs", ann: map[string]string{AnnotationCheckURLs: strings.Repeat("http://web/,", MaxCheckURLs+1)}, wantErr: []string{"more than the limit of 20"}},
		{name: "interval longer than the bake", ann: map[string]string{AnnotationBake: "10s", AnnotationInterval: "1m"}, wantErr: []string{"interval 1m0s is longer than the bake 10s"}},
	}
	allow, err := ParseURLPolicy([]string{"http://web,https://web.example.com", "http://prom:9090", "http://p"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSettings(tt.ann, tt.config, allow)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("error %q echoes a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultSettings()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}
