package runbook

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, and that it either returns a
// runbook or a *ParseError whose every line names the file.
func FuzzParse(f *testing.F) {
	f.Add(Example())
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "database:\n  url: postgres://u:p@h/db\n"))
	f.Add([]byte(minimal + "healthChecks:\n  prometheus:\n    url: http://p\n    queries: [{name: a, query: up, max: 1, min: 2}]\n"))
	f.Add([]byte("app: [\n"))
	f.Add([]byte(strings.Replace(minimal, "deployments: [web]", "statefulSets: [db]\ndaemonSets: [agent, agent]", 1)))
	f.Add([]byte(strings.Replace(minimal, "deployments: [web]\n", "helmReleases:\n  - name: web\n    namespace: shop\n", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := Parse("rollback.yaml", data)
		if err == nil {
			if rb == nil || len(rb.Steps) == 0 || len(rb.Clusters) == 0 || len(rb.Workloads())+len(rb.HelmReleases) == 0 {
				t.Fatalf("Parse returned an incomplete runbook without error: %+v", rb)
			}
			return
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %T is not a *ParseError: %v", err, err)
		}
		for _, is := range pe.Issues {
			if is.Message == "" {
				t.Fatalf("empty issue message in %v", err)
			}
		}
		if !strings.HasPrefix(err.Error(), "rollback.yaml:") && !strings.Contains(err.Error(), "problems in runbook") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
