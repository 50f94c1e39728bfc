// Package promenv starts a real Prometheus server (the `prometheus` binary of
// the Debian package, 2.42) on a loopback port for end-to-end tests and
// benchmarks. It scrapes the targets a function returns every second, through
// a file_sd_configs file the harness keeps up to date.
//
//	prom := promenv.Start(ctx, t, func() []promenv.Target { return []promenv.Target{{Addr: host, Labels: ...}} })
//	defer prom.Stop()
package promenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Target is one scrape target: host:port and the labels its series get.
type Target struct {
	Addr   string            `json:"-"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Server is a running Prometheus.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Dir holds prometheus.yml, targets.json, the TSDB and prometheus.log.
	Dir string

	cmd     *exec.Cmd
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	stopped bool
}

// Binary returns the path of the prometheus binary ($PROMETHEUS_BIN or PATH).
func Binary() (string, error) {
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("PROMETHEUS_BIN %s: %w", p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		return "", errors.New("prometheus is not installed: run `make deps` (scripts/ci/install-deps.sh installs the Debian package prometheus) or set PROMETHEUS_BIN")
	}
	return p, nil
}

// Start starts Prometheus for a test and stops it when the test ends. It
// skips the test when prometheus is not installed, unless CI is set, where
// that fails the test.
func Start(ctx context.Context, t testing.TB, targets func() []Target) *Server {
	t.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	s, err := StartServer(ctx, t.TempDir(), targets)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(s.Dir, "prometheus.log")); err == nil {
				t.Logf("prometheus.log (tail):\n%s", tail(string(log), 3000))
			}
		}
	})
	return s
}

// StartServer starts Prometheus with its files in dir (which must exist),
// scraping targets() every second, and waits until it is ready.
func StartServer(ctx context.Context, dir string, targets func() []Target) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir, done: make(chan struct{})}
	sdFile := filepath.Join(dir, "targets.json")
	if err := writeTargets(sdFile, targets()); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sandbox
    file_sd_configs:
      - files: [%q]
        refresh_interval: 1s
`, sdFile)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("write prometheus config: %w", err)
	}
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return nil, fmt.Errorf("create prometheus log: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.cmd = exec.CommandContext(runCtx, bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=1h",
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		cancel()
		log.Close()
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	go func() {
		_ = s.cmd.Wait()
		log.Close()
		close(s.done)
	}()
	// Keep the target file up to date until the server stops.
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
				_ = writeTargets(sdFile, targets())
			}
		}
	}()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Stop()
		logText, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
		return nil, fmt.Errorf("prometheus did not become ready: %w\n%s", err, tail(string(logText), 2000))
	}
	return s, nil
}

// Stop kills the server and waits for it to exit; it may be called more
// than once, and mid-test to simulate an outage.
func (s *Server) Stop() {
	s.mu.Lock()
	already := s.stopped
	s.stopped = true
	s.mu.Unlock()
	if already {
		<-s.done
		return
	}
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	s.cancel()
	<-s.done
}

// Host is the host:port of the server.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("prometheus exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Query runs an instant query and returns the raw JSON "result" array.
func (s *Server) Query(ctx context.Context, q string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if body.Status != "success" {
		return "", errors.New(body.Error)
	}
	return string(body.Data.Result), nil
}

// WaitData waits until q returns a non-empty result.
func (s *Server) WaitData(ctx context.Context, q string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		r, err := s.Query(ctx, q)
		if err == nil && r != "[]" && r != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no data for %s: %w (last: %v %s)", q, ctx.Err(), err, r)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// writeTargets replaces the file_sd file atomically.
func writeTargets(file string, targets []Target) error {
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels,omitempty"`
	}
	groups := []group{}
	for _, t := range targets {
		groups = append(groups, group{Targets: []string{t.Addr}, Labels: t.Labels})
	}
	data, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(file); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write targets: %w", err)
	}
	return os.Rename(tmp, file)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
