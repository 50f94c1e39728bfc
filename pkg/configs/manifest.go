package configs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// ObjectFromManifest finds the kind/name object in a YAML or JSON manifest
// (several documents and v1 Lists allowed) and returns it. namespace, when
// the manifest sets one, must match. Errors never quote the file's values.
func ObjectFromManifest(manifest []byte, kind Kind, name, namespace string) (*Object, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	var seen []string
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
		docs, err := splitList(doc)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(d, &head); err != nil {
				return nil, fmt.Errorf("read manifest: a document is not a Kubernetes object")
			}
			if head.Kind == "" {
				continue
			}
			seen = append(seen, head.Kind+"/"+head.Metadata.Name)
			if head.Kind != string(kind) || head.Metadata.Name != name {
				continue
			}
			if head.APIVersion != "v1" {
				return nil, fmt.Errorf("read manifest: %s/%s has apiVersion %q, want v1", head.Kind, name, head.APIVersion)
			}
			if head.Metadata.Namespace != "" && namespace != "" && head.Metadata.Namespace != namespace {
				return nil, fmt.Errorf("read manifest: %s/%s is for namespace %s, not %s", head.Kind, name, head.Metadata.Namespace, namespace)
			}
			if kind == KindConfigMap {
				var cm corev1.ConfigMap
				if err := yaml.UnmarshalStrict(d, &cm); err != nil {
					return nil, fmt.Errorf("read manifest: ConfigMap %s is not valid", name)
				}
				return FromConfigMap(&cm), nil
			}
			var s corev1.Secret
			if err := yaml.UnmarshalStrict(d, &s); err != nil {
				// Unmarshal errors can quote values: say nothing about them.
				return nil, fmt.Errorf("read manifest: Secret %s is not valid (check the data values are base64)", name)
			}
			return FromSecret(&s), nil
		}
	}
	return nil, fmt.Errorf("read manifest: no %s named %s in it (it holds: %v)", kind, name, seen)
}

// splitList returns the items of a v1 List document, or the document itself.
func splitList(doc []byte) ([][]byte, error) {
	var list struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := yaml.Unmarshal(doc, &list); err != nil || list.Kind != "List" {
		return [][]byte{doc}, nil
	}
	out := make([][]byte, 0, len(list.Items))
	for _, it := range list.Items {
		out = append(out, []byte(it))
	}
	return out, nil
}
