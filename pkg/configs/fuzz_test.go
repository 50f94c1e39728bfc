package configs

import (
	"strings"
	"testing"
)

// FuzzObjectFromManifest: any manifest (YAML or JSON, several documents,
// Lists) is read without a panic, and errors never quote its values.
func FuzzObjectFromManifest(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  K: s3cr3t-value\n"), "app")
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"data":{"k":"!!"}}]}`), "x")
	f.Add([]byte("---\n- a\n---\nkind: [\n"), "a")
	f.Fuzz(func(t *testing.T, manifest []byte, name string) {
		for _, kind := range []Kind{KindConfigMap, KindSecret} {
			_, err := ObjectFromManifest(manifest, kind, name, "shop")
			if err != nil && strings.Contains(string(manifest), "s3cr3t-value") && strings.Contains(err.Error(), "s3cr3t-value") {
				t.Fatalf("error quotes a value: %v", err)
			}
		}
	})
}
