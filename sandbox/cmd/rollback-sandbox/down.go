package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vibestack/rollback/sandbox"
)

func down(args []string, stdout, stderr io.Writer) error {
	abs, err := parseDir("down", args, stderr)
	if err != nil {
		return err
	}
	pid, ok := runningPID(abs)
	if !ok {
		fmt.Fprintf(stdout, "skipped: no sandbox runs in %s\n", abs)
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop sandbox pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			_ = os.Remove(filepath.Join(abs, sandbox.PIDFileName))
			fmt.Fprintf(stdout, "stopped sandbox (pid %d)\n", pid)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	_ = os.Remove(filepath.Join(abs, sandbox.PIDFileName))
	fmt.Fprintf(stdout, "killed sandbox (pid %d): it did not stop within 30s\n", pid)
	return nil
}
