package rollout

import (
	"strings"
	"testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

func TestParseWorkload(t *testing.T) {
	tests := []struct {
		in      string
		want    Workload
		arg     string
		refused string
	}{
		{in: "web", want: Workload{Kind: KindDeployment, Name: "web"}, arg: "web"},
		{in: "deployment/web", want: Workload{Kind: KindDeployment, Name: "web"}, arg: "web"},
		{in: "deploy/web", want: Workload{Kind: KindDeployment, Name: "web"}, arg: "web"},
		{in: "deployments.apps/web", want: Workload{Kind: KindDeployment, Name: "web"}, arg: "web"},
		{in: "statefulset/db", want: Workload{Kind: KindStatefulSet, Name: "db"}, arg: "statefulset/db"},
		{in: "sts/db", want: Workload{Kind: KindStatefulSet, Name: "db"}, arg: "statefulset/db"},
		{in: "StatefulSets/db", want: Workload{Kind: KindStatefulSet, Name: "db"}, arg: "statefulset/db"},
		{in: "daemonset/agent", want: Workload{Kind: KindDaemonSet, Name: "agent"}, arg: "daemonset/agent"},
		{in: "ds/agent", want: Workload{Kind: KindDaemonSet, Name: "agent"}, arg: "daemonset/agent"},
		{in: "rs/web-123", refused: `unknown workload kind "rs"`},
		{in: "cronjob/nightly", refused: "rollback rolls back deployments (deploy), statefulsets (sts) and daemonsets (ds)"},
		{in: "sts/", refused: "is not a workload"},
		{in: "", refused: "is not a workload"},
		{in: "sts/db/x", refused: "is not a workload"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWorkload(tt.in)
			if tt.refused != "" {
				if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || got.Arg() != tt.arg {
				t.Errorf("ParseWorkload(%q) = %+v (arg %q), want %+v (arg %q)", tt.in, got, got.Arg(), tt.want, tt.arg)
			}
			if back, err := ParseWorkload(got.String()); err != nil || back != got {
				t.Errorf("ParseWorkload(%q) = %+v, %v: String does not round-trip", got.String(), back, err)
			}
		})
	}
}
