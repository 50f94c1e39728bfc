package command

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/internal/iostreams"
	"github.com/vibestack/rollback/pkg/runbook"
)

// runInit runs the init command alone (it is not yet registered in root).
func runInit(t *testing.T, output string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	f := NewFactory(io)
	f.Output = output
	cmd := newInitCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rollback.yaml")

	stdout, stderr, err := runInit(t, "text", "--file", path)
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if stdout != path+"\n" {
		t.Errorf("stdout = %q, want the path", stdout)
	}
	if !strings.Contains(stderr, "edit") {
		t.Errorf("stderr %q lacks the next step", stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, runbook.Example()) {
		t.Error("written file is not runbook.Example()")
	}
	if _, err := runbook.Load(path); err != nil {
		t.Errorf("written runbook does not load: %v", err)
	}

	// An existing file is refused (exit 2) and left alone.
	if err := os.WriteFile(path, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = runInit(t, "text", "--file", path)
	if code := exitcode.Code(err); code != exitcode.Refused || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("init over existing file: code %d, err %v; want %d and a --force hint", code, err, exitcode.Refused)
	}
	if stdout != "" {
		t.Errorf("refused init printed %q on stdout", stdout)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine\n" {
		t.Errorf("refused init changed the file: %q", got)
	}

	// --force replaces it; -o json prints one object.
	stdout, _, err = runInit(t, "json", "--file", path, "--force")
	if err != nil {
		t.Fatalf("init --force: %v", err)
	}
	if want := `{"path":"` + path + `"}` + "\n"; stdout != want {
		t.Errorf("json stdout = %q, want %q", stdout, want)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, runbook.Example()) {
		t.Error("--force did not write the example")
	}
}

func TestInitBadDirectoryIsError(t *testing.T) {
	_, _, err := runInit(t, "text", "--file", filepath.Join(t.TempDir(), "missing", "rollback.yaml"))
	if code := exitcode.Code(err); code != exitcode.Error {
		t.Fatalf("code %d (%v), want %d", code, err, exitcode.Error)
	}
}

// TestInitDefaultPath pins the output shown in pkg/runbook/README-fragment.md.
func TestInitDefaultPath(t *testing.T) {
	t.Chdir(t.TempDir())
	stdout, stderr, err := runInit(t, "text")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "rollback.yaml\n" {
		t.Errorf("stdout = %q", stdout)
	}
	if want := "wrote an example runbook: edit the clusters, names and escalation contacts in rollback.yaml\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	_, _, err = runInit(t, "text")
	if want := "write runbook rollback.yaml: runbook already exists: keep it, or pass --force to replace it with the example"; err == nil || err.Error() != want {
		t.Errorf("second init: %v, want %q", err, want)
	}
	if _, err := runbook.Discover("."); err != nil {
		t.Errorf("Discover after init: %v", err)
	}
}
