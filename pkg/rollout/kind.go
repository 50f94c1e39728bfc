package rollout

import (
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Kind is a kind of workload rollback rolls back: Deployment, StatefulSet
// or DaemonSet, the kinds `kubectl rollout undo` knows.
type Kind string

// The workload kinds.
const (
	KindDeployment  Kind = "Deployment"
	KindStatefulSet Kind = "StatefulSet"
	KindDaemonSet   Kind = "DaemonSet"
)

// Kinds lists every workload kind, in the order results list them.
var Kinds = []Kind{KindDeployment, KindStatefulSet, KindDaemonSet}

// Lower returns the kind as kubectl prints it in KIND/NAME ("statefulset").
func (k Kind) Lower() string { return strings.ToLower(string(k)) }

// Resource returns the kind's plural resource name ("statefulsets").
func (k Kind) Resource() string { return k.Lower() + "s" }

// kindNames are the names kubectl accepts for each kind (resource, plural,
// short name, with or without the group).
var kindNames = map[string]Kind{
	"deployment": KindDeployment, "deployments": KindDeployment, "deploy": KindDeployment,
	"statefulset": KindStatefulSet, "statefulsets": KindStatefulSet, "sts": KindStatefulSet,
	"daemonset": KindDaemonSet, "daemonsets": KindDaemonSet, "ds": KindDaemonSet,
}

// ParseKind reads a kind as kubectl spells it: deployment, deployments,
// deploy, statefulset, sts, daemonset, ds, with or without ".apps", in any
// case. It refuses (exit code 2) anything else.
func ParseKind(s string) (Kind, error) {
	k, ok := kindNames[strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".apps")]
	if !ok {
		return "", outcome.AsRefused(fmt.Errorf("unknown workload kind %q: rollback rolls back deployments (deploy), statefulsets (sts) and daemonsets (ds)", s))
	}
	return k, nil
}

// Workload names one workload: its kind and name, and its namespace when
// the context does not give it.
type Workload struct {
	Kind      Kind   `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String returns the workload as kubectl names it: deployment/web,
// statefulset/db, daemonset/agent.
func (w Workload) String() string { return w.Kind.Lower() + "/" + w.Name }

// Describe returns the workload for sentences: "statefulset db".
func (w Workload) Describe() string { return w.Kind.Lower() + " " + w.Name }

// Arg returns the workload as a rollback command takes it: the bare name
// of a Deployment, KIND/NAME otherwise.
func (w Workload) Arg() string {
	if w.Kind == KindDeployment || w.Kind == "" {
		return w.Name
	}
	return w.String()
}

// ParseWorkload reads a workload in kubectl's resource syntax: KIND/NAME
// (deployment/web, deploy/web, statefulset/db, sts/db, daemonset/agent,
// ds/agent, also deployments.apps/web) or a bare NAME, which is a
// Deployment. It refuses (exit code 2) an empty name or an unknown kind.
func ParseWorkload(s string) (Workload, error) {
	kind, name, found := strings.Cut(s, "/")
	if !found {
		kind, name = "deployment", s
	}
	k, err := ParseKind(kind)
	if err != nil {
		return Workload{}, outcome.AsRefused(fmt.Errorf("%q: %w", s, err))
	}
	if name == "" || strings.Contains(name, "/") {
		return Workload{}, outcome.AsRefused(fmt.Errorf("%q is not a workload: name one as NAME (a deployment) or KIND/NAME (deployment/web, statefulset/db, daemonset/agent)", s))
	}
	return Workload{Kind: k, Name: name}, nil
}
