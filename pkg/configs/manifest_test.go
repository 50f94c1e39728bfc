package configs

import (
	"strings"
	"testing"
)

const testManifest = `apiVersion: v1
kind: Service
metadata:
  name: web
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-settings
  namespace: shop
data:
  SANDBOX_MODE: ok
  LOG_LEVEL: info
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: api-credentials
  data:
    token: c2VjcmV0LXZhbHVl
  stringData:
    extra: plain-secret
`

func TestObjectFromManifest(t *testing.T) {
	cm, err := ObjectFromManifest([]byte(testManifest), KindConfigMap, "app-settings", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["SANDBOX_MODE"] != "ok" || cm.Data["LOG_LEVEL"] != "info" || len(cm.Values()) != 2 {
		t.Errorf("configmap data = %v", cm.Data)
	}
	s, err := ObjectFromManifest([]byte(testManifest), KindSecret, "api-credentials", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if string(s.BinaryData["token"]) != "secret-value" || string(s.BinaryData["extra"]) != "plain-secret" {
		t.Errorf("secret keys = %v", s.Keys())
	}
}

func TestObjectFromManifestErrors(t *testing.T) {
	tests := []struct {
		name, manifest, objName, ns, want string
		kind                              Kind
	}{
		{"absent", testManifest, "other", "shop", "no ConfigMap named other", KindConfigMap},
		{"wrong namespace", testManifest, "app-settings", "prod", "is for namespace shop", KindConfigMap},
		{"bad base64 hides the value", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: not!base64-TOPSECRET\n", "s", "", "not valid", KindSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ObjectFromManifest([]byte(tt.manifest), tt.kind, tt.objName, tt.ns)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("error quotes a secret value: %v", err)
			}
		})
	}
}
