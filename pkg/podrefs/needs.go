package podrefs

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Need is one object a pod template needs to start.
type Need struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Keys are the keys the pods need from a ConfigMap or Secret.
	Keys []string `json:"keys,omitempty"`
	// Places say where the template names the object.
	Places []string `json:"usedBy"`
}

// Needs returns every object the pod spec needs to start, sorted by kind
// and name: the ConfigMaps and Secrets of non-optional references with the
// keys they name, the PersistentVolumeClaims of its volumes, its
// ServiceAccount ("default" when none is named) and its imagePullSecrets.
func Needs(spec *corev1.PodSpec) []Need {
	byKey := map[string]*Need{}
	add := func(kind Kind, name, key, place string) {
		if name == "" {
			return
		}
		id := string(kind) + "/" + name
		n, ok := byKey[id]
		if !ok {
			n = &Need{Kind: kind, Name: name}
			byKey[id] = n
		}
		if key != "" && !contains(n.Keys, key) {
			n.Keys = append(n.Keys, key)
		}
		if !contains(n.Places, place) {
			n.Places = append(n.Places, place)
		}
	}
	Visit(spec, func(s Site) {
		if !s.Optional {
			add(s.Kind, *s.Name, s.Key, s.Place)
		}
	})
	for _, v := range spec.Volumes {
		if c := v.PersistentVolumeClaim; c != nil {
			add(KindPVC, c.ClaimName, "", "volume "+v.Name)
		}
	}
	// The namespace's "default" ServiceAccount, used when none is named,
	// is created with the namespace: only a named one is checked.
	sa := spec.ServiceAccountName
	if sa == "" {
		sa = spec.DeprecatedServiceAccount
	}
	if sa != "" && sa != "default" {
		add(KindServiceAccount, sa, "", "serviceAccountName")
	}
	for _, s := range spec.ImagePullSecrets {
		add(KindSecret, s.Name, "", "imagePullSecrets")
	}
	out := make([]Need, 0, len(byKey))
	for _, n := range byKey {
		sort.Strings(n.Keys)
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
