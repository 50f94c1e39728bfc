package command

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/internal/golden"
	"github.com/vibestack/rollback/internal/iostreams"
)

func TestHelpGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"root", []string{"--help"}},
		{"app", []string{"app", "--help"}},
		{"app-undo", []string{"app", "undo", "--help"}},
		{"options", []string{"options"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, out, errOut := iostreams.Test()
			if code := Execute(context.Background(), io, tt.args); code != exitcode.OK {
				t.Fatalf("exit code %d; stderr: %s", code, errOut)
			}
			golden.Assert(t, filepath.Join("testdata", "help", tt.name+".txt"), out.Bytes())
		})
	}
}

// TestEveryHelpShowsOwnFlagsOnly walks the whole command tree: every help
// text ends with the hint to `rollback options` and none lists kubectl's
// connection flags, which `rollback options` lists.
func TestEveryHelpShowsOwnFlagsOnly(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	root := NewRoot(NewFactory(io))
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			help := helpText(t, c)
			if !strings.HasSuffix(help, globalOptionsHint+"\n") {
				t.Errorf("help does not end with the hint to rollback options:\n%s", help)
			}
			for _, flag := range []string{"kubeconfig", "context", "namespace", "as-group", "token"} {
				listed := regexp.MustCompile(`(?m)^\s+(-\w, )?--` + flag + `\b`)
				if listed.MatchString(help) && c.Name() != "options" {
					t.Errorf("help lists the connection flag --%s (it belongs to rollback options):\n%s", flag, help)
				}
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func helpText(t *testing.T, c *cobra.Command) string {
	t.Helper()
	var b strings.Builder
	c.SetOut(&b)
	defer c.SetOut(nil)
	if err := c.Help(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestConnectionFlagsAcceptedEverywhere: the flags left out of help are
// still parsed by every command.
func TestConnectionFlagsAcceptedEverywhere(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "missing")
	args := []string{"app", "history", "web", "-n", "shop", "--context", "prod", "--as", "ana", "--kubeconfig", kubeconfig, "--request-timeout", "1s"}
	io, _, _, errOut := iostreams.Test()
	Execute(context.Background(), io, args)
	if strings.Contains(errOut.String(), "unknown flag") || strings.Contains(errOut.String(), "unknown shorthand") {
		t.Errorf("connection flags refused: %s", errOut)
	}
	if !strings.Contains(errOut.String(), kubeconfig) {
		t.Errorf("--kubeconfig not used: %s", errOut)
	}
}
