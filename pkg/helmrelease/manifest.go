package helmrelease

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/vibestack/rollback/pkg/rollout"
)

// object is one object of a rendered manifest.
type object struct {
	Kind      string
	Name      string
	Namespace string
	raw       []byte
	// template is the pod template of a workload (Deployment, StatefulSet,
	// DaemonSet); nil otherwise.
	template *corev1.PodTemplateSpec
	// keys are the data keys of a ConfigMap or Secret (never the values).
	keys map[string]bool
}

// id is "Kind/name".
func (o object) id() string { return o.Kind + "/" + o.Name }

// workload is the object as kubectl names a workload ("statefulset/db").
func (o object) workload() string {
	return rollout.Workload{Kind: rollout.Kind(o.Kind), Name: o.Name}.String()
}

// isWorkload reports whether kind is a workload kind (rollout.Kinds): its
// pod template is diffed and checked, and the workload is verified.
func isWorkload(kind string) bool { return slices.Contains(rollout.Kinds, rollout.Kind(kind)) }

// parseManifest splits a release manifest into its objects; namespace is
// the release's, for objects that name none.
func parseManifest(manifest, namespace string) ([]object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(manifest), 4096)
	var out []object
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("parse release manifest: %w", err)
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.Kind == "" {
			continue
		}
		o := object{Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, raw: raw}
		if o.Namespace == "" {
			o.Namespace = namespace
		}
		switch {
		case isWorkload(o.Kind):
			var w struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			}
			if err := json.Unmarshal(raw, &w); err == nil {
				o.template = &w.Spec.Template
			}
		case o.Kind == "ConfigMap" || o.Kind == "Secret":
			var d struct {
				Data       map[string]json.RawMessage `json:"data"`
				StringData map[string]json.RawMessage `json:"stringData"`
				BinaryData map[string]json.RawMessage `json:"binaryData"`
			}
			if err := json.Unmarshal(raw, &d); err == nil {
				o.keys = map[string]bool{}
				for _, m := range []map[string]json.RawMessage{d.Data, d.StringData, d.BinaryData} {
					for k := range m {
						o.keys[k] = true
					}
				}
			}
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out, nil
}

// workloads returns the workloads among objs (Deployments, StatefulSets,
// DaemonSets), in the order of rollout.Kinds, then by name.
func workloads(objs []object) []object {
	var out []object
	for _, k := range rollout.Kinds {
		for _, o := range objs {
			if o.Kind == string(k) {
				out = append(out, o)
			}
		}
	}
	return out
}

// manifestHash is the hash a mark is made for: a mark counts only while
// the revision's manifest is the one that was marked.
func manifestHash(manifest string) string {
	sum := sha256.Sum256([]byte(manifest))
	return hex.EncodeToString(sum[:])[:16]
}
