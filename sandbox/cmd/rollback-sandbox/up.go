package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/vibestack/rollback/sandbox"
)

// outFileName holds the stdout and stderr of a background sandbox.
const outFileName = "sandbox.out"

func up(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".sandbox", "state directory")
	port := fs.Int("port", 0, "apiserver port on 127.0.0.1 (0: a free port)")
	nodes := fs.Int("nodes", 3, "number of simulated schedulable nodes (plus one tainted node)")
	readyDelay := fs.Duration("ready-delay", 200*time.Millisecond, "time a healthy container takes to become Ready")
	background := fs.Bool("background", false, "run in the background; return once READY (stop with down)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if pid, ok := runningPID(abs); ok {
		return fmt.Errorf("a sandbox already runs in %s (pid %d): use it, or stop it with rollback-sandbox down --dir %s", abs, pid, abs)
	}
	if *background {
		return upBackground(ctx, abs, []string{
			"up", "--dir", abs, "--port", strconv.Itoa(*port), "--nodes", strconv.Itoa(*nodes),
			"--ready-delay", readyDelay.String(),
		}, stdout, stderr)
	}

	start := time.Now()
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: abs, Port: *port, Nodes: *nodes, ReadyDelay: *readyDelay})
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, filepath.Join(abs, sandbox.LogFileName))
	}
	defer sb.Stop()
	pidFile := filepath.Join(abs, sandbox.PIDFileName)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	defer os.Remove(pidFile)

	fmt.Fprintf(stderr, "sandbox: API %s ready in %s\n", sb.URL, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stderr, "sandbox: restricted kubeconfig (user %s): %s\n", sandbox.RestrictedUser, sb.RestrictedKubeconfig)
	fmt.Fprintf(stderr, "sandbox: service endpoints: %s; logs: %s\n", sb.EndpointsFile, filepath.Join(abs, sandbox.LogFileName))
	fmt.Fprintf(stdout, "export KUBECONFIG=%s\n", sb.Kubeconfig)
	fmt.Fprintln(stdout, "READY")
	<-ctx.Done()
	fmt.Fprintln(stderr, "sandbox: stopping")
	sb.Stop()
	fmt.Fprintln(stderr, "sandbox: stopped")
	return nil
}

// upBackground re-executes this binary detached, its output going to
// DIR/sandbox.out, and returns once it prints READY.
func upBackground(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	outPath := filepath.Join(dir, outFileName)
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start background sandbox: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			data, _ := os.ReadFile(outPath)
			return fmt.Errorf("background sandbox exited (%v):\n%s", err, data)
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return fmt.Errorf("background sandbox not READY after 2m; see %s", outPath)
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return ctx.Err()
		case <-tick.C:
		}
		data, err := os.ReadFile(outPath)
		if err != nil || !bytes.Contains(data, []byte("\nREADY\n")) {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if len(line) > 7 && line[:7] == "export " || line == "READY" {
				fmt.Fprintln(stdout, line)
			} else {
				fmt.Fprintln(stderr, line)
			}
		}
		fmt.Fprintf(stderr, "sandbox: running in the background (pid %d); stop it with rollback-sandbox down --dir %s\n", cmd.Process.Pid, dir)
		return cmd.Process.Release()
	}
}

// runningPID returns the pid in DIR/sandbox.pid if that process is alive.
// parseDir parses the --dir flag, the only flag of the down and status
// commands, and returns the state directory as an absolute path.
func parseDir(command string, args []string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".sandbox", "state directory")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	return filepath.Abs(*dir)
}

func runningPID(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, sandbox.PIDFileName))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, false
	}
	return pid, true
}
