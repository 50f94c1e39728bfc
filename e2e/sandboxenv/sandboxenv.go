// Package sandboxenv starts the rollback-sandbox control plane for
// end-to-end tests and gives them clients, fresh namespaces and the URLs of
// the simulated applications' HTTP endpoints.
//
// Use one sandbox per test package:
//
//	var sb *sandboxenv.Sandbox
//
//	func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }
//
// It runs the binary named by $ROLLBACK_SANDBOX_BIN (default
// <repo>/bin/rollback-sandbox, built by `make sandbox-build`) in a temporary
// directory, or reuses a running sandbox when $ROLLBACK_E2E_KUBECONFIG names
// its admin kubeconfig.
package sandboxenv

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables read by Start.
const (
	// BinEnv names the rollback-sandbox binary.
	BinEnv = "ROLLBACK_SANDBOX_BIN"
	// KubeconfigEnv names the admin kubeconfig of a running sandbox to reuse.
	KubeconfigEnv = "ROLLBACK_E2E_KUBECONFIG"
)

// Sandbox is a running rollback-sandbox.
type Sandbox struct {
	// Dir is the sandbox's state directory.
	Dir string
	// Kubeconfig is the admin kubeconfig (group system:masters).
	Kubeconfig string
	// RestrictedKubeconfig is the kubeconfig of user "sandbox-viewer", bound
	// to the ClusterRole view: may get, list and watch, not patch or update.
	RestrictedKubeconfig string
	// Config is the admin client configuration.
	Config *rest.Config
	// Clientset is an admin client.
	Clientset kubernetes.Interface

	cmd     *exec.Cmd
	exited  chan struct{}
	tempDir bool
	stop    sync.Once
}

// Start starts a sandbox (or attaches to the one named by
// $ROLLBACK_E2E_KUBECONFIG) and returns once its API answers.
func Start(ctx context.Context) (*Sandbox, error) {
	if kc := os.Getenv(KubeconfigEnv); kc != "" {
		sb := &Sandbox{Dir: filepath.Dir(kc), Kubeconfig: kc}
		sb.RestrictedKubeconfig = filepath.Join(sb.Dir, "restricted.kubeconfig")
		if err := sb.connect(); err != nil {
			return nil, fmt.Errorf("attach to sandbox %s: %w", kc, err)
		}
		return sb, nil
	}
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rollback-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sb := &Sandbox{
		Dir:                  dir,
		Kubeconfig:           filepath.Join(dir, "admin.kubeconfig"),
		RestrictedKubeconfig: filepath.Join(dir, "restricted.kubeconfig"),
		exited:               make(chan struct{}),
		tempDir:              true,
	}
	cmd := exec.Command(bin, "up", "--dir", dir, "--port", "0")
	// Stop the sandbox if the test binary dies without calling Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &lockedWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start sandbox %s: %w", bin, err)
	}
	sb.cmd = cmd
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "READY" {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(sb.exited)
	}()
	select {
	case <-ready:
	case <-sb.exited:
		sb.cleanupDir()
		return nil, fmt.Errorf("start sandbox: %s exited before READY: %s", bin, cmd.Stderr.(*lockedWriter).String())
	case <-time.After(2 * time.Minute):
		sb.Stop()
		return nil, errors.New("start sandbox: not READY after 2m")
	case <-ctx.Done():
		sb.Stop()
		return nil, fmt.Errorf("start sandbox: %w", ctx.Err())
	}
	if err := sb.connect(); err != nil {
		sb.Stop()
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	return sb, nil
}

func (sb *Sandbox) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", sb.Kubeconfig)
	if err != nil {
		return fmt.Errorf("read kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	sb.Config, sb.Clientset = cfg, cs
	return nil
}

// Stop stops a sandbox that Start started and removes its directory; it
// leaves a reused one running.
func (sb *Sandbox) Stop() {
	sb.stop.Do(func() {
		if sb.cmd == nil {
			return
		}
		_ = sb.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-sb.exited:
		case <-time.After(30 * time.Second):
			_ = sb.cmd.Process.Kill()
			<-sb.exited
		}
		sb.cleanupDir()
	})
}

func (sb *Sandbox) cleanupDir() {
	if sb.tempDir {
		_ = os.RemoveAll(sb.Dir)
	}
}

// Endpoint waits until the sandbox serves an HTTP endpoint for Service
// namespace/name and returns its URL (http://127.0.0.1:PORT).
func (sb *Sandbox) Endpoint(ctx context.Context, namespace, name string) (string, error) {
	key := namespace + "/" + name
	for {
		urls, err := sb.endpoints()
		if err == nil && urls[key] != "" {
			return urls[key], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for endpoint of service %s: %w (does the Service have a selector?)", key, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (sb *Sandbox) endpoints() (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(sb.Dir, "endpoints.json"))
	if err != nil {
		return nil, err
	}
	var urls map[string]string
	if err := json.Unmarshal(data, &urls); err != nil {
		return nil, err
	}
	return urls, nil
}

// binary finds the rollback-sandbox binary.
func binary() (string, error) {
	if bin := os.Getenv(BinEnv); bin != "" {
		return bin, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(data), "module github.com/vibestack/rollback\n") {
			bin := filepath.Join(dir, "bin", "rollback-sandbox")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("sandbox binary %s not found: build it with `make sandbox-build` or set $%s", bin, BinEnv)
			}
			return bin, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("sandbox binary not found: set $%s or run the tests inside the repository", BinEnv)
		}
		dir = parent
	}
}

// lockedWriter collects the sandbox's stderr for error messages.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
