package journal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzReadLines: any journal file (torn lines, garbage, huge numbers) reads
// without a panic, and every entry read encodes back to JSON.
func FuzzReadLines(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2026-11-26T03:31:22Z","incident":"inc-1","action":"incident.opened"}` + "\n" + `{"seq":2,"act`))
	f.Add([]byte("\n\n{}\n[]\nnull\n"))
	f.Add([]byte(`{"seq":1e99,"inputs":{"a":[1,{"b":"\u001b[2J"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "inc.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		entries, err := readFile(path)
		if err != nil {
			return
		}
		for _, e := range entries {
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("entry %+v does not encode: %v", e, err)
			}
		}
	})
}

// FuzzDecodeMirror: any mirror ConfigMap data decodes without a panic,
// ordered by sequence number.
func FuzzDecodeMirror(f *testing.F) {
	f.Add("000001.json", `{"seq":1,"action":"incident.opened"}`, "000002.json", `{"seq":2`)
	f.Add("x.json", `{"seq":-5}`, "notes", "anything")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		es := decodeMirror(&corev1.ConfigMap{Data: map[string]string{k1: v1, k2: v2}})
		for i := 1; i < len(es); i++ {
			if es[i].Seq < es[i-1].Seq {
				t.Fatalf("not ordered: %+v", es)
			}
		}
		_ = Summarize("inc-1", es)
	})
}
