//go:build e2e

package docs

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var update = flag.Bool("update", false, "write the new output of the console examples into README.md and docs/")

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

// blockTimeout bounds one console block; examples wait for rollouts and
// settle windows, never for this long.
const blockTimeout = 10 * time.Minute

// TestExamples runs every console block of README.md and docs/ and compares
// its output with what the Markdown shows. Subtests are FILE/SCENARIO.
func TestExamples(t *testing.T) {
	root := clitest.RepoRoot()
	files, err := MarkdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	bin := clitest.Binary(t)
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := Parse(file, data)
		if err != nil {
			t.Fatal(err)
		}
		if len(blocks) == 0 {
			continue
		}
		t.Run(pageName(file), func(t *testing.T) {
			got := make([][][]string, len(blocks))
			for _, name := range scenarioOrder(blocks) {
				t.Run(name, func(t *testing.T) {
					setup, ok := scenarios[name]
					if !ok {
						t.Fatalf("%s: unknown example scenario %q; known: %s (add it in e2e/docs/scenarios_test.go)", file, name, strings.Join(scenarioNames(), ", "))
					}
					s := newSession(t, bin)
					setup(t, s)
					// When one output changed, the whole scenario is
					// rewritten, so that its ids and times come from one run.
					outputs, changed := map[int][][]string{}, false
					for i, b := range blocks {
						if b.Scenario == name {
							var c bool
							outputs[i], c = s.check(t, b)
							changed = changed || c
						}
					}
					if changed {
						for i, o := range outputs {
							got[i] = o
						}
					}
				})
			}
			if *update {
				updated := Rewrite(data, blocks, got)
				if !bytes.Equal(updated, data) {
					if err := os.WriteFile(filepath.Join(root, file), updated, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("updated %s", file)
				}
			}
		})
	}
}

// pageName names the subtest of a Markdown file: README, application,
// ci-github-actions (no slashes, which -run would split on).
func pageName(file string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(file, "docs/"), ".md")
	return strings.ReplaceAll(name, "/", "-")
}

// scenarioOrder returns the scenarios of blocks in the order they first appear.
func scenarioOrder(blocks []Block) []string {
	var names []string
	seen := map[string]bool{}
	for _, b := range blocks {
		if !seen[b.Scenario] {
			seen[b.Scenario] = true
			names = append(names, b.Scenario)
		}
	}
	return names
}

func scenarioNames() []string {
	var names []string
	for n := range scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// session is the shell environment the blocks of one scenario share.
type session struct {
	// Work is the working directory the first block starts in.
	Work string
	// Vars are the environment variables of the shell (on top of PATH,
	// HOME, LANG and TERM).
	Vars map[string]string
	// shown maps machine-specific strings of the output (temporary
	// directories, user@host) to what the Markdown shows instead.
	shown map[string]string
	state string
	bin   string
}

func newSession(t *testing.T, rollback string) *session {
	t.Helper()
	tmp := t.TempDir()
	s := &session{
		Work:  filepath.Join(tmp, "work"),
		Vars:  map[string]string{},
		shown: map[string]string{},
		state: filepath.Join(tmp, "state"),
		bin:   filepath.Join(tmp, "bin"),
	}
	for _, dir := range []string{s.Work, s.state, s.bin, filepath.Join(tmp, "home")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.Vars["HOME"] = filepath.Join(tmp, "home")
	for _, name := range []string{"rollback", "kubectl-rollback"} {
		if err := os.Symlink(rollback, filepath.Join(s.bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	s.Show(s.Vars["HOME"], "/home/oncall")
	s.buildPipeline(t)
	s.Show(s.Work, "/home/oncall/work")
	if err := os.WriteFile(filepath.Join(s.state, "cwd"), []byte(s.Work), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// Show makes the output show shown wherever actual appears.
func (s *session) Show(actual, shown string) {
	if actual != "" {
		s.shown[actual] = shown
	}
}

// display replaces the machine-specific strings of line, longest first.
func (s *session) display(lines []string) []string {
	keys := make([]string, 0, len(s.shown))
	for k := range s.shown {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	out := make([]string, len(lines))
	for i, l := range lines {
		for _, k := range keys {
			l = strings.ReplaceAll(l, k, s.shown[k])
		}
		out[i] = l
	}
	return out
}

// saveVariables prints the shell's variables, exported or not, as
// declarations for the next block, leaving out bash's own.
const saveVariables = `for __v in $(compgen -v); do case $__v in
BASH*|EUID|UID|PPID|SHELLOPTS|FUNCNAME|GROUPS|PIPESTATUS|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCH*|COMP*|DIRSTACK|OPTIND|OPTERR|IFS|PS[0-9]|PWD|OLDPWD|SHLVL|_|__*) ;;
*) declare -p "$__v" 2>/dev/null ;; esac; done`

var mark = regexp.MustCompile("\n?\x1eexample-command (\\d+|end)\x1e\n")

// run runs the commands of b in bash, in the state the earlier blocks of
// the session left, and returns the output of each command (stdout and
// stderr as a terminal shows them, interleaved).
func (s *session) run(t *testing.T, b Block) [][]string {
	t.Helper()
	var script strings.Builder
	fmt.Fprintf(&script, "if [ -f %[1]q/env ]; then . %[1]q/env 2>/dev/null; fi\ncd \"$(cat %[1]q/cwd)\"\n(exit 0)\n", s.state)
	for i, c := range b.Commands {
		fmt.Fprintf(&script, "__status=$?; printf '\\n\\036example-command %d\\036\\n'; (exit $__status)\n%s\n", i, c.Shell())
	}
	fmt.Fprintf(&script, "printf '\\n\\036example-command end\\036\\n'\n%s > %q/env; pwd > %q/cwd\n", saveVariables, s.state, s.state)
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = s.environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("%s:%d: the block's shell failed: %v\n%s", b.File, b.Start, err, out.String())
	}
	parts := mark.Split(out.String(), -1)
	ids := mark.FindAllStringSubmatch(out.String(), -1)
	outputs := make([][]string, len(b.Commands))
	for i, id := range ids {
		n, err := strconv.Atoi(id[1])
		if err != nil || n >= len(outputs) {
			continue
		}
		outputs[n] = Lines([]byte(parts[i+1]))
	}
	if pre := strings.TrimSpace(parts[0]); pre != "" {
		t.Errorf("%s:%d: output before the first command: %s", b.File, b.Start, pre)
	}
	return outputs
}

func (s *session) environ() []string {
	env := []string{
		"PATH=" + s.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"TERM=dumb",
	}
	for k, v := range s.Vars {
		env = append(env, k+"="+v)
	}
	return env
}

// check runs b and compares each command's output with the recorded one.
// It returns the new output of every command as the Markdown should show
// it, and whether any differs from the recorded one.
func (s *session) check(t *testing.T, b Block) ([][]string, bool) {
	t.Helper()
	outputs := s.run(t, b)
	shown := make([][]string, len(b.Commands))
	changed := false
	for i, c := range b.Commands {
		got := s.display(outputs[i])
		shown[i] = Elide(c.Output, got)
		match := Match
		if b.Unordered {
			match = MatchUnordered
		}
		if match(c.Output, got) {
			continue
		}
		changed = true
		if *update {
			continue
		}
		t.Errorf("%s:%d: the output of\n  $ %s\nis not what the Markdown shows (-shown +now, normalised); "+
			"if the change is intended, run `make docs-examples RUN=%s` and commit the Markdown:\n%s",
			b.File, b.Start+1, c.Shell(), pageName(b.File), cmp.Diff(Normalise(c.Output), Normalise(got)))
	}
	return shown, changed
}
