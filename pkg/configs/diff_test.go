package configs

import (
	"bytes"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name     string
		from, to *Object
	}{
		{
			name: "configmap",
			from: &Object{Kind: KindConfigMap, Data: map[string]string{"SANDBOX_MODE": "crash", "LOG_LEVEL": "debug", "OLD": "gone", "SAME": "same", "LONG": "short"}},
			to:   &Object{Kind: KindConfigMap, Data: map[string]string{"SANDBOX_MODE": "ok", "LOG_LEVEL": "debug", "NEW": "here", "SAME": "same", "LONG": long}, BinaryData: map[string][]byte{"blob": {0xff, 0x00}}},
		},
		{
			name: "secret",
			from: &Object{Kind: KindSecret, BinaryData: map[string][]byte{"password": []byte("hunter2-bad"), "user": []byte("admin"), "old-token": []byte("tok-123")}},
			to:   &Object{Kind: KindSecret, BinaryData: map[string][]byte{"password": []byte("hunter2-good"), "user": []byte("admin"), "api-key": []byte("key-456")}},
		},
		{
			name: "identical",
			from: &Object{Kind: KindConfigMap, Data: map[string]string{"a": "1"}},
			to:   &Object{Kind: KindConfigMap, Data: map[string]string{"a": "1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			WriteDiff(&buf, Diff(tt.from, tt.to))
			golden(t, "diff-"+tt.name, buf.String())
		})
	}
}

func TestDiffNeverShowsSecretValues(t *testing.T) {
	secrets := []string{"hunter2-bad", "hunter2-good", "tok-123", "key-456"}
	from := &Object{Kind: KindSecret, BinaryData: map[string][]byte{"password": []byte(secrets[0]), "old": []byte(secrets[2])}}
	to := &Object{Kind: KindSecret, BinaryData: map[string][]byte{"password": []byte(secrets[1]), "new": []byte(secrets[3])}}
	changes := Diff(from, to)
	var buf bytes.Buffer
	WriteDiff(&buf, changes)
	WritePlan(&buf, &Plan{Kind: KindSecret, Name: "s", Strategy: StrategySnapshot, Changes: changes})
	for _, c := range changes {
		if c.Old != nil || c.New != nil {
			t.Errorf("change of secret key %s carries a value", c.Key)
		}
	}
	for _, s := range secrets {
		if strings.Contains(buf.String(), s) {
			t.Errorf("output contains the secret value %q:\n%s", s, buf.String())
		}
	}
}

func TestObjectHash(t *testing.T) {
	a := &Object{Data: map[string]string{"k": "v"}}
	b := &Object{BinaryData: map[string][]byte{"k": []byte("v")}}
	c := &Object{Data: map[string]string{"k": "v"}}
	d := &Object{Data: map[string]string{"k": "v", "": ""}}
	if a.Hash() == b.Hash() {
		t.Error("a key in data and the same key in binaryData hash alike")
	}
	if a.Hash() != c.Hash() {
		t.Error("equal contents hash differently")
	}
	if a.Hash() == d.Hash() {
		t.Error("an extra empty key does not change the hash")
	}
}
