package configs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kind is the kind of a configuration object: ConfigMap or Secret.
type Kind string

// The kinds of configuration object a Deployment can reference.
const (
	KindConfigMap Kind = "ConfigMap"
	KindSecret    Kind = "Secret"
)

// lower returns the kind as kubectl spells it in a resource name ("configmap").
func (k Kind) lower() string { return strings.ToLower(string(k)) }

// Object is a ConfigMap or a Secret, reduced to what a rollback needs.
type Object struct {
	Kind            Kind
	Namespace       string
	Name            string
	ResourceVersion string
	Created         time.Time
	Immutable       bool
	Labels          map[string]string
	Annotations     map[string]string
	// SecretType is the type of a Secret; empty for a ConfigMap.
	SecretType corev1.SecretType
	// Data is a ConfigMap's data; always empty for a Secret.
	Data map[string]string
	// BinaryData is a ConfigMap's binaryData or a Secret's data.
	BinaryData map[string][]byte
}

// FromConfigMap converts a ConfigMap.
func FromConfigMap(cm *corev1.ConfigMap) *Object {
	return &Object{
		Kind:            KindConfigMap,
		Namespace:       cm.Namespace,
		Name:            cm.Name,
		ResourceVersion: cm.ResourceVersion,
		Created:         cm.CreationTimestamp.Time,
		Immutable:       cm.Immutable != nil && *cm.Immutable,
		Labels:          cm.Labels,
		Annotations:     cm.Annotations,
		Data:            cm.Data,
		BinaryData:      cm.BinaryData,
	}
}

// FromSecret converts a Secret.
func FromSecret(s *corev1.Secret) *Object {
	data := map[string][]byte{}
	for k, v := range s.Data {
		data[k] = v
	}
	// stringData is write-only, but a manifest file may use it.
	for k, v := range s.StringData {
		data[k] = []byte(v)
	}
	return &Object{
		Kind:            KindSecret,
		Namespace:       s.Namespace,
		Name:            s.Name,
		ResourceVersion: s.ResourceVersion,
		Created:         s.CreationTimestamp.Time,
		Immutable:       s.Immutable != nil && *s.Immutable,
		Labels:          s.Labels,
		Annotations:     s.Annotations,
		SecretType:      s.Type,
		BinaryData:      data,
	}
}

// Ref returns the object's kind and name as "configmap/NAME".
func (o *Object) Ref() string { return o.Kind.lower() + "/" + o.Name }

// Values returns every key with its value, data and binaryData together.
func (o *Object) Values() map[string][]byte {
	out := make(map[string][]byte, len(o.Data)+len(o.BinaryData))
	for k, v := range o.Data {
		out[k] = []byte(v)
	}
	for k, v := range o.BinaryData {
		out[k] = v
	}
	return out
}

// Hash returns a short hash of the object's contents (keys, values and
// whether each key is text or binary); equal contents give equal hashes.
func (o *Object) Hash() string {
	h := sha256.New()
	write := func(tag byte, k string, v []byte) {
		var n [8]byte
		h.Write([]byte{tag})
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write([]byte(k))
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
	}
	for _, k := range sortedKeys(o.Data) {
		write('d', k, []byte(o.Data[k]))
	}
	for _, k := range sortedKeys(o.BinaryData) {
		write('b', k, o.BinaryData[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// SameData reports whether o and other hold the same keys and values, with
// each key in the same field (data or binaryData).
func (o *Object) SameData(other *Object) bool { return o.Hash() == other.Hash() }

// Keys describes every key of the object: its size and a short hash of its
// value, never the value itself.
func (o *Object) Keys() []KeyInfo {
	values := o.Values()
	out := make([]KeyInfo, 0, len(values))
	for _, k := range sortedKeys(values) {
		out = append(out, KeyInfo{Key: k, Size: len(values[k]), Hash: ValueHash(values[k])})
	}
	return out
}

// KeyInfo describes one key of a ConfigMap or Secret without its value.
type KeyInfo struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
	Hash string `json:"hash"`
}

// ValueHash returns the first 8 hex digits of the SHA-256 of a value, so
// that a user can compare values (printf %s VALUE | sha256sum) without
// seeing them.
func ValueHash(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:])[:8]
}

// ConfigMap returns the object as a ConfigMap.
func (o *Object) ConfigMap() *corev1.ConfigMap {
	cm := &corev1.ConfigMap{Data: o.Data, BinaryData: o.BinaryData}
	cm.Namespace, cm.Name, cm.ResourceVersion = o.Namespace, o.Name, o.ResourceVersion
	cm.Labels, cm.Annotations = o.Labels, o.Annotations
	if o.Immutable {
		t := true
		cm.Immutable = &t
	}
	return cm
}

// Secret returns the object as a Secret.
func (o *Object) Secret() *corev1.Secret {
	s := &corev1.Secret{Data: o.BinaryData, Type: o.SecretType}
	s.Namespace, s.Name, s.ResourceVersion = o.Namespace, o.Name, o.ResourceVersion
	s.Labels, s.Annotations = o.Labels, o.Annotations
	if o.Immutable {
		t := true
		s.Immutable = &t
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describe names an object for messages: "configmap ns/name".
func describe(kind Kind, namespace, name string) string {
	return fmt.Sprintf("%s %s/%s", kind.lower(), namespace, name)
}
