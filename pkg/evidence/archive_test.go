package evidence

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFileRefusesATamperedBundle(t *testing.T) {
	b := newBundle(1 << 20)
	b.add("a.txt", []byte("alpha\n"), false)
	b.add("dir/b.log", []byte("beta\n"), true)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar.gz")
	if _, err := b.WriteFile(good); err != nil {
		t.Fatal(err)
	}
	a, err := ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := a.Extract(out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "dir", "b.log")); string(got) != "beta\n" {
		t.Errorf("extracted %q", got)
	}
	if st, _ := os.Stat(filepath.Join(out, "a.txt")); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("extracted file mode %v, want 0600", st)
	}
	if err := a.Extract(out); err == nil {
		t.Error("a second extract overwrote the files")
	}

	tests := []struct {
		name  string
		files map[string]string
	}{
		{"changed", map[string]string{"a.txt": "ALPHA\n", "dir/b.log": "beta\n"}},
		{"missing", map[string]string{"a.txt": "alpha\n"}},
		{"extra", map[string]string{"a.txt": "alpha\n", "dir/b.log": "beta\n", "c.txt": "x"}},
		{"escaping", map[string]string{"a.txt": "alpha\n", "dir/b.log": "beta\n", "../evil": "x"}},
	}
	manifest := func() []byte {
		m, _ := marshalIndent(a.Manifest)
		return m
	}()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".tar.gz")
			writeTar(t, p, manifest, tt.files)
			_, err := ReadFile(p)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("ReadFile: %v, want ErrCorrupt", err)
			}
		})
	}
}

func writeTar(t *testing.T, p string, manifest []byte, files map[string]string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	put := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(data)
	}
	put(ManifestName, manifest)
	for name, data := range files {
		put(name, []byte(data))
	}
	_ = tw.Close()
	_ = zw.Close()
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a\\b", "..", "a//b"} {
		if checkName(bad) == nil {
			t.Errorf("checkName(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"manifest.json", "workloads/shop/deployment-web/logs/p/app.log"} {
		if err := checkName(ok); err != nil {
			t.Errorf("checkName(%q): %v", ok, err)
		}
	}
}

func TestFirstErrors(t *testing.T) {
	log := strings.Join([]string{
		`2026-11-26T01:00:00.5Z level=info msg="starting"`,
		`2026-11-26T01:00:01Z level=error msg="request failed" status=500`,
		`not a timestamp: ERROR something`,
		`2026-11-26T01:00:02Z panic: boom`,
		`2026-11-26T01:00:03Z fatal error: never reached (limit 3)`,
	}, "\n")
	got := firstErrors(log, 3)
	if len(got) != 3 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Text != `level=error msg="request failed" status=500` || got[0].Time.Second() != 1 {
		t.Errorf("first %+v", got[0])
	}
	if !got[1].Time.IsZero() || got[1].Text != "not a timestamp: ERROR something" || got[2].Text != "panic: boom" {
		t.Errorf("got %+v", got)
	}
	long := firstErrors("error "+strings.Repeat("x", 500), 1)
	if len(long) != 1 || len(long[0].Text) != maxErrorLineLen+3 {
		t.Errorf("a long line is kept at %d bytes", len(long[0].Text))
	}
}

func TestLimitsValidate(t *testing.T) {
	ok := DefaultLimits()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	off := ok
	off.Budget = 0
	if err := off.Validate(); err != nil {
		t.Errorf("budget 0 (off): %v", err)
	}
	for name, mut := range map[string]func(*Limits){
		"negative budget": func(l *Limits) { l.Budget = -1 },
		"huge budget":     func(l *Limits) { l.Budget = 1 << 62 },
		"tiny size":       func(l *Limits) { l.MaxSize = 1000 },
		"no lines":        func(l *Limits) { l.LogLines = 0 },
		"negative pods":   func(l *Limits) { l.Pods = -1 },
	} {
		l := ok
		mut(&l)
		if l.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
