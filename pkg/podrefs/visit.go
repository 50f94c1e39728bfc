// Package podrefs lists what a pod template needs from its namespace to
// start (ConfigMaps and Secrets with the keys it names, PersistentVolumeClaims,
// the ServiceAccount, imagePullSecrets) and tells which of them are missing,
// before a rollback writes a template whose pods could not start.
package podrefs

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Kind is the kind of a referenced object.
type Kind string

// The kinds a pod template references.
const (
	KindConfigMap      Kind = "ConfigMap"
	KindSecret         Kind = "Secret"
	KindPVC            Kind = "PersistentVolumeClaim"
	KindServiceAccount Kind = "ServiceAccount"
)

// Site is one place where a pod spec names a ConfigMap or a Secret.
type Site struct {
	Kind Kind
	// Name points at the name in the spec, so that callers may rewrite it.
	Name *string
	// Key is the key the place takes ("" for a whole object: envFrom, a
	// volume without items).
	Key string
	// Place says where: "container app env LOG_LEVEL", "volume config".
	Place string
	// Optional is true when the pod starts without the object (or key).
	Optional bool
}

// Visit calls fn for every place the pod spec names a ConfigMap or a Secret
// (env valueFrom, envFrom, volumes and projected volumes, init containers
// included); a volume with items calls fn once per item key.
func Visit(spec *corev1.PodSpec, fn func(Site)) {
	containers := func(kind string, cs []corev1.Container) {
		for i := range cs {
			c := &cs[i]
			for j := range c.EnvFrom {
				ef := &c.EnvFrom[j]
				place := fmt.Sprintf("%s %s envFrom", kind, c.Name)
				if r := ef.ConfigMapRef; r != nil {
					fn(Site{Kind: KindConfigMap, Name: &r.Name, Place: place, Optional: isTrue(r.Optional)})
				}
				if r := ef.SecretRef; r != nil {
					fn(Site{Kind: KindSecret, Name: &r.Name, Place: place, Optional: isTrue(r.Optional)})
				}
			}
			for j := range c.Env {
				e := &c.Env[j]
				if e.ValueFrom == nil {
					continue
				}
				place := fmt.Sprintf("%s %s env %s", kind, c.Name, e.Name)
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					fn(Site{Kind: KindConfigMap, Name: &r.Name, Key: r.Key, Place: place, Optional: isTrue(r.Optional)})
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					fn(Site{Kind: KindSecret, Name: &r.Name, Key: r.Key, Place: place, Optional: isTrue(r.Optional)})
				}
			}
		}
	}
	containers("initContainer", spec.InitContainers)
	containers("container", spec.Containers)
	items := func(s Site, its []corev1.KeyToPath) {
		if len(its) == 0 {
			fn(s)
			return
		}
		for _, it := range its {
			s.Key = it.Key
			fn(s)
		}
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if r := v.ConfigMap; r != nil {
			items(Site{Kind: KindConfigMap, Name: &r.Name, Place: "volume " + v.Name, Optional: isTrue(r.Optional)}, r.Items)
		}
		if r := v.Secret; r != nil {
			items(Site{Kind: KindSecret, Name: &r.SecretName, Place: "volume " + v.Name, Optional: isTrue(r.Optional)}, r.Items)
		}
		if v.Projected != nil {
			for j := range v.Projected.Sources {
				src := &v.Projected.Sources[j]
				if r := src.ConfigMap; r != nil {
					items(Site{Kind: KindConfigMap, Name: &r.Name, Place: "projected volume " + v.Name, Optional: isTrue(r.Optional)}, r.Items)
				}
				if r := src.Secret; r != nil {
					items(Site{Kind: KindSecret, Name: &r.Name, Place: "projected volume " + v.Name, Optional: isTrue(r.Optional)}, r.Items)
				}
			}
		}
	}
}

func isTrue(b *bool) bool { return b != nil && *b }
