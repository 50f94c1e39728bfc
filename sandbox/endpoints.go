package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
)

// backendSource lists the ready pods behind a selector.
type backendSource interface {
	backends(namespace string, selector labels.Selector) ([]backend, error)
}

// endpointServer serves one local HTTP endpoint per Service with a selector
// and keeps endpoints.json ("namespace/name" -> URL) up to date.
type endpointServer struct {
	file     string
	services func() ([]*corev1.Service, error)
	pods     backendSource

	mu      sync.Mutex
	running map[string]*serviceEndpoint
}

// serviceEndpoint answers like the Service's ready pods would.
type serviceEndpoint struct {
	namespace string
	selector  labels.Selector
	pods      backendSource
	url       string
	server    *http.Server
	next      atomic.Uint64

	mu       sync.Mutex
	requests map[[2]string]uint64 // {code, version} -> count
}

func newEndpointServer(file string, services func() ([]*corev1.Service, error), pods backendSource) *endpointServer {
	return &endpointServer{file: file, services: services, pods: pods, running: map[string]*serviceEndpoint{}}
}

// run reconciles endpoints with the Services every 100ms until ctx ends.
func (e *endpointServer) run(ctx context.Context) {
	if err := e.writeFile(); err != nil {
		klog.ErrorS(err, "endpoints")
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := e.reconcile(); err != nil {
			klog.ErrorS(err, "endpoints")
		}
	}, 100*time.Millisecond)
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, ep := range e.running {
		_ = ep.server.Close()
		delete(e.running, key)
	}
}

func (e *endpointServer) reconcile() error {
	services, err := e.services()
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	want := map[string]bool{}
	for _, svc := range services {
		if len(svc.Spec.Selector) == 0 || svc.DeletionTimestamp != nil {
			continue
		}
		key := svc.Namespace + "/" + svc.Name
		want[key] = true
		selector := labels.SelectorFromSet(svc.Spec.Selector)
		if ep, ok := e.running[key]; ok {
			ep.mu.Lock()
			ep.selector = selector
			ep.mu.Unlock()
			continue
		}
		ep, err := startServiceEndpoint(svc.Namespace, selector, e.pods)
		if err != nil {
			return fmt.Errorf("serve service %s: %w", key, err)
		}
		e.running[key] = ep
		changed = true
	}
	for key, ep := range e.running {
		if !want[key] {
			_ = ep.server.Close()
			delete(e.running, key)
			changed = true
		}
	}
	if changed {
		return e.writeFile()
	}
	return nil
}

// writeFile replaces endpoints.json atomically.
func (e *endpointServer) writeFile() error {
	urls := map[string]string{}
	for key, ep := range e.running {
		urls[key] = ep.url
	}
	data, err := json.MarshalIndent(urls, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(e.file), ".endpoints-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", e.file, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", e.file, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", e.file, err)
	}
	if err := os.Rename(tmp.Name(), e.file); err != nil {
		return fmt.Errorf("write %s: %w", e.file, err)
	}
	return nil
}

func startServiceEndpoint(namespace string, selector labels.Selector, pods backendSource) (*serviceEndpoint, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ep := &serviceEndpoint{
		namespace: namespace,
		selector:  selector,
		pods:      pods,
		url:       "http://" + l.Addr().String(),
		requests:  map[[2]string]uint64{},
	}
	ep.server = &http.Server{Handler: ep, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ep.server.Serve(l) }()
	return ep, nil
}

// ServeHTTP answers /metrics with the request counters and every other path
// like a ready pod picked round-robin would: 200, or 500 for http500 pods,
// or 503 when no pod is ready.
func (ep *serviceEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		ep.serveMetrics(w)
		return
	}
	ep.mu.Lock()
	selector := ep.selector
	ep.mu.Unlock()
	backends, err := ep.pods.backends(ep.namespace, selector)
	if err == nil && len(backends) == 0 {
		err = errNoBackends
	}
	if err != nil {
		ep.count(http.StatusServiceUnavailable, "")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	sort.Slice(backends, func(i, j int) bool { return backends[i].pod < backends[j].pod })
	b := backends[ep.next.Add(1)%uint64(len(backends))]
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Sandbox-Pod", b.pod)
	w.Header().Set("X-Sandbox-Version", b.version)
	if b.log != nil {
		code := http.StatusOK
		if b.http500 {
			code = http.StatusInternalServerError
		}
		b.log.logRequest(time.Now(), r.Method, r.URL.Path, code)
	}
	if b.http500 {
		ep.count(http.StatusInternalServerError, b.version)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "error: internal server error (sandbox mode http500) pod=%s image=%s version=%s\n", b.pod, b.image, b.version)
		return
	}
	ep.count(http.StatusOK, b.version)
	fmt.Fprintf(w, "ok pod=%s image=%s version=%s\n", b.pod, b.image, b.version)
}

func (ep *serviceEndpoint) count(code int, version string) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.requests[[2]string{fmt.Sprint(code), version}]++
}

// serveMetrics writes the counters in the Prometheus text format.
func (ep *serviceEndpoint) serveMetrics(w http.ResponseWriter) {
	ep.mu.Lock()
	keys := make([][2]string, 0, len(ep.requests))
	for k := range ep.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	var b strings.Builder
	b.WriteString("# HELP http_requests_total HTTP requests served, by status code and version (image tag).\n")
	b.WriteString("# TYPE http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "http_requests_total{code=%q,version=%q} %d\n", k[0], k[1], ep.requests[k])
	}
	ep.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
