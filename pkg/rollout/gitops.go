package rollout

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
)

// GitOpsOwner names the GitOps controller that manages a Deployment and how
// to suspend it.
type GitOpsOwner struct {
	Tool    string `json:"tool"`
	Name    string `json:"name"`
	Suspend string `json:"suspend"`
}

// DetectGitOps reports whether Argo CD or Flux manages d, going by the labels
// and annotations they put on what they apply; it returns nil otherwise.
func DetectGitOps(d *appsv1.Deployment) *GitOpsOwner {
	l, a := d.Labels, d.Annotations
	if name := l["argocd.argoproj.io/instance"]; name != "" {
		return argo(name)
	}
	if name := l["app.kubernetes.io/instance"]; name != "" {
		for k := range a {
			if strings.HasPrefix(k, "argocd.argoproj.io/") {
				return argo(name)
			}
		}
	}
	if name := l["kustomize.toolkit.fluxcd.io/name"]; name != "" {
		ns := l["kustomize.toolkit.fluxcd.io/namespace"]
		return &GitOpsOwner{Tool: "Flux", Name: name, Suspend: fmt.Sprintf("flux suspend kustomization %s%s", name, nsFlag(ns))}
	}
	if name := l["helm.toolkit.fluxcd.io/name"]; name != "" {
		ns := l["helm.toolkit.fluxcd.io/namespace"]
		return &GitOpsOwner{Tool: "Flux", Name: name, Suspend: fmt.Sprintf("flux suspend helmrelease %s%s", name, nsFlag(ns))}
	}
	return nil
}

func argo(app string) *GitOpsOwner {
	return &GitOpsOwner{Tool: "Argo CD", Name: app, Suspend: fmt.Sprintf("argocd app set %s --sync-policy none", app)}
}

func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return " -n " + ns
}
