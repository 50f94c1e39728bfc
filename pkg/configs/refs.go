package configs

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Ref is one ConfigMap or Secret a pod template references, with every
// place that references it.
type Ref struct {
	Kind   Kind     `json:"kind"`
	Name   string   `json:"name"`
	Places []string `json:"usedBy"`
}

// String returns "configmap/NAME".
func (r Ref) String() string { return r.Kind.lower() + "/" + r.Name }

// References returns every ConfigMap and Secret the pod spec references in
// env valueFrom, envFrom, volumes and projected volumes (init containers
// included), sorted by kind and name.
func References(spec *corev1.PodSpec) []Ref {
	byKey := map[string]*Ref{}
	add := func(kind Kind, name, place string) {
		if name == "" {
			return
		}
		key := string(kind) + "/" + name
		r, ok := byKey[key]
		if !ok {
			r = &Ref{Kind: kind, Name: name}
			byKey[key] = r
		}
		for _, p := range r.Places {
			if p == place {
				return
			}
		}
		r.Places = append(r.Places, place)
	}
	visitRefs(spec, func(kind Kind, name *string, place string) { add(kind, *name, place) })
	out := make([]Ref, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// SwitchReferences rewrites every reference to the kind/from object in the
// pod spec to point at to, and returns where it did so.
func SwitchReferences(spec *corev1.PodSpec, kind Kind, from, to string) []string {
	var places []string
	visitRefs(spec, func(k Kind, name *string, place string) {
		if k == kind && *name == from {
			*name = to
			places = append(places, place)
		}
	})
	return places
}

// visitRefs calls fn with a pointer to every ConfigMap or Secret name in
// spec, so that callers can read or rewrite it.
func visitRefs(spec *corev1.PodSpec, fn func(kind Kind, name *string, place string)) {
	containers := func(kind string, cs []corev1.Container) {
		for i := range cs {
			c := &cs[i]
			for j := range c.EnvFrom {
				ef := &c.EnvFrom[j]
				if ef.ConfigMapRef != nil {
					fn(KindConfigMap, &ef.ConfigMapRef.Name, fmt.Sprintf("%s %s envFrom", kind, c.Name))
				}
				if ef.SecretRef != nil {
					fn(KindSecret, &ef.SecretRef.Name, fmt.Sprintf("%s %s envFrom", kind, c.Name))
				}
			}
			for j := range c.Env {
				e := &c.Env[j]
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					fn(KindConfigMap, &r.Name, fmt.Sprintf("%s %s env %s", kind, c.Name, e.Name))
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					fn(KindSecret, &r.Name, fmt.Sprintf("%s %s env %s", kind, c.Name, e.Name))
				}
			}
		}
	}
	containers("initContainer", spec.InitContainers)
	containers("container", spec.Containers)
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.ConfigMap != nil {
			fn(KindConfigMap, &v.ConfigMap.Name, "volume "+v.Name)
		}
		if v.Secret != nil {
			fn(KindSecret, &v.Secret.SecretName, "volume "+v.Name)
		}
		if v.Projected != nil {
			for j := range v.Projected.Sources {
				src := &v.Projected.Sources[j]
				if src.ConfigMap != nil {
					fn(KindConfigMap, &src.ConfigMap.Name, "projected volume "+v.Name)
				}
				if src.Secret != nil {
					fn(KindSecret, &src.Secret.Name, "projected volume "+v.Name)
				}
			}
		}
	}
}
