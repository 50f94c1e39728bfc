package command

import (
	"context"
	"strings"
	"testing"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/internal/iostreams"
)

func TestExecuteBadInputIsRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"app", "history", "--no-such-flag"}, "unknown flag"},
		{"missing argument", []string{"app", "history"}, "see rollback app history --help"},
		{"bad output format", []string{"app", "history", "web", "-o", "yaml"}, "unknown output format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, _, errOut := iostreams.Test()
			if code := Execute(context.Background(), io, tt.args); code != exitcode.Refused {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, exitcode.Refused, errOut)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	io, _, out, _ := iostreams.Test()
	if code := Execute(context.Background(), io, []string{"--version"}); code != exitcode.OK {
		t.Fatalf("exit code %d", code)
	}
	if !strings.HasPrefix(out.String(), "rollback version ") {
		t.Errorf("unexpected version output %q", out)
	}
}

func TestUnknownCommandIsRefused(t *testing.T) {
	io, _, _, errOut := iostreams.Test()
	if code := Execute(context.Background(), io, []string{"no-such-command"}); code != exitcode.Refused {
		t.Fatalf("exit %d, want %d (%s)", code, exitcode.Refused, errOut)
	}
	if !strings.Contains(errOut.String(), `unknown command "no-such-command"`) {
		t.Errorf("stderr = %q", errOut)
	}
}
