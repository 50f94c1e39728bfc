package helmrelease

import (
	"strings"
	"testing"
)

// TestWorkloads: every Deployment, StatefulSet and DaemonSet of a
// manifest, in the order of rollout.Kinds, named as kubectl names them.
func TestWorkloads(t *testing.T) {
	manifest := `---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec: {template: {spec: {containers: [{name: app, image: db:v1}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: infra}
spec: {template: {spec: {containers: [{name: app, image: agent:v1}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {A: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: app, image: web:v1}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: loose}
`
	objs, err := parseManifest(manifest, "shop")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range workloads(objs) {
		if o.template == nil {
			t.Errorf("%s: no pod template", o.workload())
		}
		got = append(got, o.Namespace+"/"+o.workload())
	}
	if want := "shop/deployment/web shop/statefulset/db infra/daemonset/agent"; strings.Join(got, " ") != want {
		t.Errorf("workloads %q, want %q", strings.Join(got, " "), want)
	}
}
