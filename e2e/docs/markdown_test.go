package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const page = "# Title\n\ntext\n\n<!-- example: tour -->\n```console\n$ rollback app undo web \\\n    --yes\nweb: rolled back\n$ echo $?\n0\n```\n\n```text\nnot run\n```\n"

func TestParse(t *testing.T) {
	blocks, err := Parse("README.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{{
		File: "README.md", Scenario: "tour", Start: 6, End: 10,
		Commands: []Command{
			{Source: []string{"$ rollback app undo web \\", "    --yes"}, Output: []string{"web: rolled back"}},
			{Source: []string{"$ echo $?"}, Output: []string{"0"}},
		},
	}}
	if diff := cmp.Diff(want, blocks); diff != "" {
		t.Fatalf("blocks (-want +got):\n%s", diff)
	}
	if got := blocks[0].Commands[0].Shell(); got != "rollback app undo web \\\n    --yes" {
		t.Errorf("Shell() = %q", got)
	}
	quoted, err := Parse("f.md", []byte("````text\n<!-- example: x -->\n```console\n$ ls\n```\n````\n```sh\nmake\n```\n"))
	if err != nil || len(quoted) != 0 {
		t.Errorf("a console block quoted in another fence is no example: %v, %v", quoted, err)
	}
	loop, err := Parse("f.md", []byte("<!-- example: x -->\n```console\n$ for a in 1 2; do\n>   echo $a\n> done\n1\n2\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loop[0].Commands[0]; got.Shell() != "for a in 1 2; do\n  echo $a\ndone" || len(got.Output) != 2 {
		t.Errorf("continuation prompts: %q, output %q", got.Shell(), got.Output)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"unmarked", "```console\n$ ls\n```\n", "without an example marker"},
		{"marker without block", "<!-- example: x -->\ntext\n", "must be followed by a ```console block"},
		{"output first", "<!-- example: x -->\n```console\nout\n```\n", "starts with a command"},
		{"empty", "<!-- example: x -->\n```console\n```\n", "without commands"},
		{"unclosed", "<!-- example: x -->\n```console\n$ ls\n", "not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.md", []byte(tt.page))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	blocks, err := Parse("README.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	got := Rewrite([]byte(page), blocks, [][][]string{{{"web: rolled back to revision 1", "  healthy"}, nil}})
	want := strings.Replace(page, "web: rolled back\n", "web: rolled back to revision 1\n  healthy\n", 1)
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if same := Rewrite([]byte(page), blocks, nil); string(same) != page {
		t.Errorf("rewrite without output changed the page:\n%s", same)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name      string
		want, got []string
		match     bool
	}{
		{"same", []string{"a", "b"}, []string{"a", "b"}, true},
		{"different", []string{"a", "b"}, []string{"a", "c"}, false},
		{"longer", []string{"a"}, []string{"a", "b"}, false},
		{"ellipsis", []string{"a", "...", "d"}, []string{"a", "b", "c", "d"}, true},
		{"ellipsis of nothing", []string{"a", "...", "d"}, []string{"a", "d"}, true},
		{"ellipsis at the end", []string{"a", "..."}, []string{"a", "b"}, true},
		{"ellipsis needs its anchor", []string{"a", "...", "d"}, []string{"a", "b"}, false},
		{"ports and times", []string{"api https://127.0.0.1:39561 ready at 2026-11-26T04:00:58Z in 3.597s"}, []string{"api https://127.0.0.1:41234 ready at 2027-01-02T03:04:05Z in 12.1s"}, true},
		{"table widths", []string{"web  2.4s   healthy"}, []string{"web  12.4s  healthy"}, true},
		{"pods and replica sets", []string{"pod web-7565d9897b-c8bhj of web-7565d9897b"}, []string{"pod web-86d85f4c95-qqwzn of web-86d85f4c95"}, true},
		{"incident ids", []string{"incident inc-20261126-040058-3e4b"}, []string{"incident inc-20270101-000000-ffff"}, true},
		{"progress lines left out", []string{"web: revision 3: 1/3 updated, 3/3 ready, 3/3 available, 3 old replicas left", "web: revision 3 rolled out"}, []string{"web: revision 3 rolled out"}, true},
		{"snapshot tables", []string{"configmap/a  a.snap-20261126-021827-3d482f6c4e  219  1  3d482f6c4e  created"}, []string{"configmap/a  a.snap-20261201-201555-3d482f6c4e  468  1  3d482f6c4e  created"}, true},
		{"kubectl's progress left out", []string{`Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...`, `deployment "web" successfully rolled out`}, []string{`deployment "web" successfully rolled out`}, true},
		{"journal entry numbers", []string{"21   2026-12-01 20:32:55  root@vm  db  step.started  database  -"}, []string{"22   2026-12-01 20:35:01  root@vm  db  step.started  database  -"}, true},
		{"words still count", []string{"web: healthy"}, []string{"web: unhealthy"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.want, tt.got); got != tt.match {
				t.Errorf("Match = %v, want %v (normalised: %q vs %q)", got, tt.match, Normalise(tt.want), Normalise(tt.got))
			}
		})
	}
}

func TestUnordered(t *testing.T) {
	blocks, err := Parse("f.md", []byte("<!-- example: x unordered -->\n```console\n$ ls\na\nb\n```\n"))
	if err != nil || !blocks[0].Unordered {
		t.Fatalf("unordered marker not parsed: %v %v", blocks, err)
	}
	if !MatchUnordered([]string{"a", "b"}, []string{"b", "a"}) || MatchUnordered([]string{"a", "b"}, []string{"a", "a"}) {
		t.Error("MatchUnordered compares lines as a multiset")
	}
}

func TestElide(t *testing.T) {
	want := []string{"preflight: checking", "...", "preflight: GO", "step app"}
	got := []string{"preflight: checking", "✓ access", "✓ revisions", "preflight: GO", "step app", "done"}
	if diff := cmp.Diff([]string{"preflight: checking", "...", "preflight: GO", "step app", "done"}, Elide(want, got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	lost := []string{"something else", "preflight: GO"}
	if diff := cmp.Diff(lost, Elide(want, lost)); diff != "" {
		t.Errorf("without the anchor the output must stay whole (-want +got):\n%s", diff)
	}
}

// TestEveryConsoleBlockIsAnExample: every ```console block of README.md and
// docs/ is marked with a scenario, so TestExamples (build tag e2e) runs it.
func TestEveryConsoleBlockIsAnExample(t *testing.T) {
	files, err := MarkdownFiles(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found only %v", files)
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(repoRoot(), f))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := Parse(f, data)
		if err != nil {
			t.Error(err)
		}
		total += len(blocks)
	}
	if total == 0 {
		t.Error("no console examples found in README.md and docs/")
	}
}

func repoRoot() string { return filepath.Join("..", "..") }
