package sandboxenv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
)

// RunTests starts one sandbox for a test package, stores it in *sb, runs the
// package's tests and stops the sandbox. It returns the exit code for
// TestMain to hand back:
//
//	func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }
func RunTests(m *testing.M, sb **Sandbox) int {
	defer clitest.IsolateJournals()()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start sandbox: %v\n", err)
		return 1
	}
	*sb = s
	defer s.Stop()
	return m.Run()
}
