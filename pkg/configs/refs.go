package configs

import (
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/pkg/podrefs"
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
// spec, so that callers can read or rewrite it (podrefs.Visit walks the spec).
func visitRefs(spec *corev1.PodSpec, fn func(kind Kind, name *string, place string)) {
	podrefs.Visit(spec, func(s podrefs.Site) { fn(Kind(s.Kind), s.Name, s.Place) })
}
