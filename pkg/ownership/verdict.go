package ownership

import (
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Kind is a kind of owner.
type Kind string

// The owners the check knows.
const (
	// KindOperator is a custom resource whose controller ownerReference
	// points at the workload: its operator reverts direct edits.
	KindOperator Kind = "operator"
	// KindArgoCD is an Argo CD Application.
	KindArgoCD Kind = "argocd"
	// KindFluxKustomization is a Flux Kustomization.
	KindFluxKustomization Kind = "flux-kustomization"
	// KindFluxHelmRelease is a Flux HelmRelease.
	KindFluxHelmRelease Kind = "flux-helmrelease"
	// KindHelm is a Helm release.
	KindHelm Kind = "helm"
)

// Owner is one owner found on a workload.
type Owner struct {
	// Kind says what kind of owner it is.
	Kind Kind `json:"kind"`
	// Name and Namespace name the owner: the Application, Kustomization,
	// HelmRelease, Helm release or custom resource.
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Resource is the custom resource's kind and API version (operators only),
	// e.g. "WebApp (example.com/v1)".
	Resource string `json:"resource,omitempty"`
	// Reverts is true when the owner would put back what a rollback writes.
	Reverts bool `json:"reverts"`
	// Blocks is true when an undo of the workload is refused without --force.
	Blocks bool `json:"blocks"`
	// Why says in one line what was found and what the owner would do.
	Why string `json:"why"`
	// Markers are the labels, annotations or ownerReference found.
	Markers []string `json:"markers"`
	// Commands are the exact commands that suspend the owner or hand the
	// rollback over to it, the preferred one first.
	Commands []string `json:"commands"`
	// Drift says what a rollback forced past this owner leaves behind.
	Drift string `json:"drift"`
}

// Title names the owner for humans: "Argo CD Application shop (namespace argocd)".
func (o Owner) Title() string {
	ns := ""
	if o.Namespace != "" {
		ns = " (namespace " + o.Namespace + ")"
	}
	switch o.Kind {
	case KindArgoCD:
		return "Argo CD Application " + o.Name + ns
	case KindFluxKustomization:
		return "Flux Kustomization " + o.Name + ns
	case KindFluxHelmRelease:
		return "Flux HelmRelease " + o.Name + ns
	case KindHelm:
		return "Helm release " + o.Name + ns
	}
	return o.Resource + " " + o.Name + ns
}

// Command returns the preferred command, or "".
func (o Owner) Command() string {
	if len(o.Commands) == 0 {
		return ""
	}
	return o.Commands[0]
}

// Verdict is the answer of the ownership check for one workload.
type Verdict struct {
	// Kind, Name and Namespace name the workload checked.
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Owners are every owner found, the ones that block first.
	Owners []Owner `json:"owners,omitempty"`
	// Warnings are doubts: an Argo CD label that may or may not be Argo
	// CD's, an Application that could not be read.
	Warnings []string `json:"warnings,omitempty"`
}

// Blocking returns the first owner that blocks an undo, or nil.
func (v *Verdict) Blocking() *Owner {
	for i := range v.Owners {
		if v.Owners[i].Blocks {
			return &v.Owners[i]
		}
	}
	return nil
}

// Without returns a copy of v without the owner of kind k named name (the
// Helm release that a `rollback helm undo` rolls back is no obstacle).
func (v Verdict) Without(k Kind, name string) Verdict {
	out := v
	out.Owners = nil
	for _, o := range v.Owners {
		if o.Kind == k && o.Name == name {
			continue
		}
		out.Owners = append(out.Owners, o)
	}
	return out
}

// Refusal returns the refusal (outcome.Refused) for an undo of the workload
// that an owner blocks, naming the owner and the command to run; nil when
// nothing blocks.
func (v *Verdict) Refusal() error {
	o := v.Blocking()
	if o == nil {
		return nil
	}
	what := strings.ToLower(v.Kind) + " " + v.Name
	if o.Kind == KindHelm {
		return outcome.AsRefused(fmt.Errorf("%s belongs to %s: %s; roll it back through its release with `%s`, or re-run with --force to patch the %s anyway (%s)",
			what, o.Title(), o.Why, o.Command(), strings.ToLower(v.Kind), o.Drift))
	}
	return outcome.AsRefused(fmt.Errorf("%s is managed by %s, which would revert the rollback: %s; suspend it first (`%s`)%s; then re-run with --force",
		what, o.Title(), o.Why, strings.Join(o.Commands, "` or `"), alsoIn(o)))
}

// alsoIn says where else the fix can be made.
func alsoIn(o *Owner) string {
	switch o.Kind {
	case KindArgoCD, KindFluxKustomization, KindFluxHelmRelease:
		return " or roll back in Git"
	case KindOperator:
		return " or roll back through the custom resource"
	}
	return ""
}

// ForcedWarnings are the warnings of an undo forced past the blocking
// owners: what drift each one leaves.
func (v *Verdict) ForcedWarnings() []string {
	var out []string
	for _, o := range v.Owners {
		if o.Blocks {
			out = append(out, fmt.Sprintf("forced past %s: %s", o.Title(), o.Drift))
		}
	}
	return out
}

// Notes are the owners that do not block, and the doubts, for plans and
// preflight: worth reading, no reason to stop.
func (v *Verdict) Notes() []string {
	var out []string
	for _, o := range v.Owners {
		if !o.Blocks {
			out = append(out, fmt.Sprintf("%s: %s", o.Title(), o.Why))
		}
	}
	return append(out, v.Warnings...)
}

// Summary is one line about the verdict for plans, preflight and reports.
func (v *Verdict) Summary() string {
	if len(v.Owners) == 0 {
		return "no operator, Argo CD, Flux or Helm owner"
	}
	var parts []string
	for _, o := range v.Owners {
		state := "does not revert a rollback"
		switch {
		case o.Kind == KindHelm:
			state = "keeps its own release history"
		case o.Reverts:
			state = "reverts a rollback"
		case o.Blocks:
			state = "may revert a rollback"
		}
		parts = append(parts, o.Title()+" "+state)
	}
	return strings.Join(parts, "; ")
}
