package journal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 11, 26, 3, 31, 22, 0, time.UTC)

func open(t *testing.T, dir string, o Options) *Journal {
	t.Helper()
	o.Dir = dir
	if o.Incident == "" {
		o.Incident = "inc-20261126-033122-7f3a"
	}
	if o.Clock == nil {
		o.Clock = clocktesting.NewFakeClock(t0)
	}
	j, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestAppendReopenContinuesSeq(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "incidents")
	j := open(t, dir, Options{Actor: "ana@laptop"})
	for _, a := range []Action{ActionIncidentOpened, ActionStepStarted} {
		if _, err := j.Append(context.Background(), Entry{Action: a, Inputs: map[string]any{"app": "shop"}}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	st, err := os.Stat(filepath.Join(dir, "inc-20261126-033122-7f3a.jsonl"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("journal file: %v, mode %v; want 0600", err, st.Mode())
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", dst.Mode().Perm())
	}
	j2 := open(t, dir, Options{})
	e, err := j2.Append(context.Background(), Entry{Action: "step.completed", Actor: "bo@desk"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 3 || e.Incident != j2.ID() || !e.Time.Equal(t0) || e.Time.Location() != time.UTC || e.Actor != "bo@desk" {
		t.Errorf("resumed entry = %+v, want seq 3 at %v", e, t0)
	}
	got := j2.Entries()
	if len(got) != 3 || got[0].Actor != "ana@laptop" || got[0].Inputs["app"] != "shop" {
		t.Errorf("Entries = %+v", got)
	}
}

func TestTornLastLineIgnored(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, Options{})
	j.Append(context.Background(), Entry{Action: ActionIncidentOpened})
	j.Close()
	f, _ := os.OpenFile(filepath.Join(dir, j.ID()+".jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":2,"action":"step.sta`) // crash mid-write
	f.Close()

	got, err := Read(dir, j.ID())
	if err != nil || len(got) != 1 {
		t.Fatalf("Read = %v, %v; want the one whole entry", got, err)
	}
	j2 := open(t, dir, Options{})
	e, err := j2.Append(context.Background(), Entry{Action: "incident.resumed"})
	if err != nil || e.Seq != 2 {
		t.Fatalf("append after torn line: %+v, %v", e, err)
	}
	got, err = Read(dir, j.ID())
	if err != nil || len(got) != 2 || got[1].Action != "incident.resumed" {
		t.Fatalf("after resume Read = %+v, %v", got, err)
	}
}

func TestRedaction(t *testing.T) {
	dir := t.TempDir()
	secret := "https://hooks.slack.com/services/T0/B0/s3cr3t&x=<1>"
	j := open(t, dir, Options{Redact: []string{"", secret, "hunter2"}})
	e, err := j.Append(context.Background(), Entry{
		Action: "notify.failed", Error: "post " + secret + ": refused",
		Inputs: map[string]any{"url": secret, "list": []any{"pw=hunter2"}, "hunter2": 1},
		Before: struct{ DSN string }{"postgres://u:hunter2@db/x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, j.ID()+".jsonl"))
	for _, s := range []string{"s3cr3t", "hunter2"} {
		if strings.Contains(string(data), s) {
			t.Errorf("journal file holds %q:\n%s", s, data)
		}
	}
	if !strings.Contains(e.Error, Redacted) || e.Inputs["url"] != Redacted {
		t.Errorf("returned entry not redacted: %+v", e)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	clk := clocktesting.NewFakeClock(t0)
	a := open(t, dir, Options{Incident: "inc-a", Clock: clk, Actor: "ana"})
	a.Append(context.Background(), Entry{Action: ActionIncidentOpened, Inputs: map[string]any{"app": "shop"}})
	a.Append(context.Background(), Entry{Action: ActionIncidentClosed, Result: ResultOK})
	clk.Step(time.Hour)
	b := open(t, dir, Options{Incident: "inc-b", Clock: clk, Actor: "bo"})
	b.Append(context.Background(), Entry{Action: ActionIncidentOpened, Inputs: map[string]any{"app": "cart"}})
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)

	got, err := List(dir)
	if err != nil || len(got) != 2 {
		t.Fatalf("List = %+v, %v", got, err)
	}
	want := []Summary{
		{Incident: "inc-b", App: "cart", Actor: "bo", Status: "open", Opened: t0.Add(time.Hour), Entries: 1},
		{Incident: "inc-a", App: "shop", Actor: "ana", Status: "ok", Opened: t0, Closed: t0, Entries: 2},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("List[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if l, err := List(filepath.Join(dir, "missing")); err != nil || l != nil {
		t.Errorf("List(missing dir) = %v, %v; want empty", l, err)
	}
	if _, err := Read(dir, "inc-zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read(unknown) = %v, want ErrNotFound", err)
	}
}

func TestIDs(t *testing.T) {
	id := NewID(time.Date(2026, 11, 26, 3, 31, 22, 0, time.FixedZone("x", 3600)))
	if !regexp.MustCompile(`^inc-20261126-023122-[0-9a-f]{4}$`).MatchString(id) || ValidateID(id) != nil {
		t.Errorf("NewID = %q", id)
	}
	for _, bad := range []string{"", "../etc/passwd", "INC-1", "inc_1", strings.Repeat("a", 55)} {
		if ValidateID(bad) == nil {
			t.Errorf("ValidateID(%q) = nil, want error", bad)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	home := func() (string, error) { return "/home/ana", nil }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ROLLBACK_JOURNAL_DIR": "/j", "XDG_STATE_HOME": "/x"}, "/j"},
		{map[string]string{"XDG_STATE_HOME": "/x"}, "/x/rollback/incidents"},
		{nil, "/home/ana/.local/state/rollback/incidents"},
	}
	for _, tt := range tests {
		if got := dirFrom(func(k string) string { return tt.env[k] }, home); got != tt.want {
			t.Errorf("dir(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// BenchmarkAppend measures one local append: encode, redact, write, fsync.
func BenchmarkAppend(b *testing.B) {
	j, err := Open(Options{Dir: b.TempDir(), Incident: "inc-bench", Redact: []string{"hunter2"}})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	e := Entry{Step: "app", Action: "step.completed", Target: "deployment/web", Result: ResultOK,
		Before: map[string]any{"revision": 5, "images": []string{"vibestack/web:v2"}}, After: map[string]any{"revision": 6}}
	for b.Loop() {
		if _, err := j.Append(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
}
