package preflight

import (
	"context"
	"fmt"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Need is one resource and the verbs a rollback needs on it.
type Need struct {
	// Group is the API group ("" for core).
	Group string
	// Resource is the plural resource name.
	Resource string
	// Verbs are the verbs needed.
	Verbs []string
	// Why says which step needs it.
	Why string
}

// String returns resource.group as kubectl spells it.
func (n Need) String() string {
	if n.Group == "" {
		return n.Resource
	}
	return n.Resource + "." + n.Group
}

// Needs returns the access matrix of a rollback: every resource and verb
// the app, config and db steps, the journal mirror and the cluster lock
// use. Secrets are included only when the runbook lists Secrets; the
// StatefulSet and DaemonSet resources only for the kinds given.
func Needs(secrets bool, kinds ...string) []Need {
	needs := []Need{
		{Group: "apps", Resource: "deployments", Verbs: []string{"get", "list", "watch", "patch", "update"}, Why: "undo and watch the Deployments"},
		{Group: "apps", Resource: "replicasets", Verbs: []string{"get", "list", "watch", "patch"}, Why: "read revisions and stamp known-good"},
	}
	sets := false
	for _, k := range kinds {
		switch k {
		case "StatefulSet":
			needs = append(needs, Need{Group: "apps", Resource: "statefulsets", Verbs: []string{"get", "list", "watch", "patch"}, Why: "undo and watch the StatefulSets"})
			sets = true
		case "DaemonSet":
			needs = append(needs, Need{Group: "apps", Resource: "daemonsets", Verbs: []string{"get", "list", "watch", "patch"}, Why: "undo and watch the DaemonSets"})
			sets = true
		}
	}
	if sets {
		needs = append(needs,
			Need{Group: "apps", Resource: "controllerrevisions", Verbs: []string{"get", "list", "watch", "patch"}, Why: "read the revisions of StatefulSets and DaemonSets and stamp known-good"},
			Need{Resource: "pods", Verbs: []string{"list", "watch", "delete"}, Why: "watch the rollout and replace the pods a StatefulSet's or DaemonSet's controller does not"})
	} else {
		needs = append(needs, Need{Resource: "pods", Verbs: []string{"list", "watch"}, Why: "watch the rollout"})
	}
	needs = append(needs,
		Need{Resource: "events", Verbs: []string{"list"}, Why: "explain failing pods"},
		Need{Resource: "configmaps", Verbs: []string{"get", "list", "create", "update", "patch"}, Why: "roll back configuration and mirror the journal"},
	)
	if secrets {
		needs = append(needs, Need{Resource: "secrets", Verbs: []string{"get", "list", "create", "update", "patch"}, Why: "roll back the Secrets of the runbook"})
	}
	return append(needs, Need{Group: "coordination.k8s.io", Resource: "leases", Verbs: []string{"get", "create", "update", "delete"}, Why: "hold the rollback lock"})
}

// accessJob checks every verb of Needs with SelfSubjectAccessReviews.
func (o *Options) accessJob(c Cluster) job {
	return func(ctx context.Context) []Check {
		if c.Client == nil {
			err := c.Err
			if err == nil {
				err = fmt.Errorf("no client")
			}
			return []Check{{Cluster: c.Context, Group: GroupAccess, Name: "kubeconfig", Status: Fail,
				Detail: err.Error(), Fix: "fix the runbook's clusters or pass --kubeconfig with the context " + c.Context}}
		}
		secrets := false
		for _, r := range o.Runbook.Configs {
			if r.Kind == "Secret" {
				secrets = true
			}
		}
		var kinds []string
		for _, w := range o.Runbook.Workloads() {
			kinds = append(kinds, w.Kind)
		}
		return CheckAccess(ctx, c.Client, c.Context, c.Namespace, Needs(secrets, kinds...))
	}
}

// CheckAccess asks the API server, with one SelfSubjectAccessReview per verb
// and resource, whether the client's identity may do what needs lists in
// namespace; it returns one check per resource.
func CheckAccess(ctx context.Context, cs kubernetes.Interface, cluster, namespace string, needs []Need) []Check {
	who := identity(ctx, cs)
	type answer struct {
		allowed bool
		err     error
	}
	answers := make([][]answer, len(needs))
	var wg sync.WaitGroup
	for i, n := range needs {
		answers[i] = make([]answer, len(n.Verbs))
		for j, verb := range n.Verbs {
			wg.Go(func() {
				r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
					Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: namespace, Verb: verb, Group: n.Group, Resource: n.Resource,
					}},
				}, metav1.CreateOptions{})
				if err != nil {
					answers[i][j] = answer{err: err}
					return
				}
				answers[i][j] = answer{allowed: r.Status.Allowed && !r.Status.Denied}
			})
		}
	}
	wg.Wait()
	checks := make([]Check, 0, len(needs))
	for i, n := range needs {
		var missing []string
		var errs []string
		for j, a := range answers[i] {
			switch {
			case a.err != nil:
				errs = append(errs, n.Verbs[j]+": "+a.err.Error())
			case !a.allowed:
				missing = append(missing, n.Verbs[j])
			}
		}
		ch := Check{Cluster: cluster, Group: GroupAccess, Name: n.String()}
		switch {
		case len(missing) > 0:
			ch.Status = Fail
			ch.Detail = fmt.Sprintf("%s may not %s %s in namespace %s (needed to %s)", who, strings.Join(missing, ", "), n, namespace, n.Why)
			ch.Fix = fmt.Sprintf("ask a cluster admin for: kubectl create role rollback-%s --verb=%s --resource=%s -n %s && kubectl create rolebinding rollback-%s --role=rollback-%s --user=%s -n %s",
				n.Resource, strings.Join(missing, ","), n, namespace, n.Resource, n.Resource, bareUser(who), namespace)
		case len(errs) > 0:
			ch.Status = Unknown
			ch.Detail = fmt.Sprintf("cannot ask the API server whether %s may %s %s: %s", who, strings.Join(n.Verbs, ", "), n, errs[0])
			ch.Fix = "check that the cluster is reachable with this kubeconfig context (kubectl --context " + cluster + " auth can-i --list -n " + namespace + ")"
		default:
			ch.Status = OK
			ch.Detail = fmt.Sprintf("%s may %s", who, strings.Join(n.Verbs, ", "))
		}
		checks = append(checks, ch)
	}
	return checks
}

// identity returns "user NAME" for the client's identity (SelfSubjectReview),
// or "this identity" when the server does not say.
func identity(ctx context.Context, cs kubernetes.Interface) string {
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r.Status.UserInfo.Username == "" {
		return "this identity"
	}
	return "user " + r.Status.UserInfo.Username
}

func bareUser(who string) string {
	if u, ok := strings.CutPrefix(who, "user "); ok {
		return u
	}
	return "YOUR-USER"
}
