// Package sandbox runs a local Kubernetes control plane in one process: an
// embedded etcd, the real kube-apiserver and kube-controller-manager, and a
// small node and pod simulator that stands in for kubelets, so that pods go
// Pending -> Running -> Ready without containers.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Options configures a sandbox.
type Options struct {
	// Dir holds all state: etcd data, certificates, kubeconfigs, logs.
	Dir string
	// Port is the apiserver's TLS port on 127.0.0.1; 0 picks a free port.
	Port int
	// Nodes is the number of simulated schedulable nodes (default 3); one
	// more, TaintedNodeName, is tainted NoSchedule.
	Nodes int
	// ReadyDelay is how long a healthy container takes to become Ready
	// (default 200ms).
	ReadyDelay time.Duration
	// LogWriter receives the control plane's logs; nil writes them to
	// Dir/sandbox.log.
	LogWriter io.Writer
}

// Sandbox is a running control plane.
type Sandbox struct {
	// Dir is the state directory.
	Dir string
	// URL is the apiserver's address, https://127.0.0.1:PORT.
	URL string
	// Kubeconfig is the path of the admin kubeconfig (group system:masters).
	Kubeconfig string
	// RestrictedKubeconfig is the path of the kubeconfig of the user
	// "sandbox-viewer", bound to the built-in ClusterRole "view".
	RestrictedKubeconfig string
	// EndpointsFile is the path of endpoints.json, mapping
	// "namespace/service" to the URL of its local HTTP endpoint.
	EndpointsFile string
	// Config is the admin client configuration.
	Config *rest.Config
	// Clientset is an admin client.
	Clientset kubernetes.Interface

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stop    sync.Once
	cleanup []func()
	logFile *os.File
}

// File names under Options.Dir.
const (
	AdminKubeconfigFile      = "admin.kubeconfig"
	RestrictedKubeconfigFile = "restricted.kubeconfig"
	EndpointsFileName        = "endpoints.json"
	LogFileName              = "sandbox.log"
	PIDFileName              = "sandbox.pid"
)

// RestrictedUser is the name of the read-only user.
const RestrictedUser = "sandbox-viewer"

// Start starts a sandbox and returns once the API answers, the controllers
// run and the simulated nodes are Ready. Cancelling ctx or calling Stop shuts
// it down. The apiserver and controller-manager use process-wide state
// (feature gates, metrics, klog), so a process runs at most one sandbox.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	if opts.Dir == "" {
		return nil, errors.New("start sandbox: a state directory is required")
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.ReadyDelay <= 0 {
		opts.ReadyDelay = 200 * time.Millisecond
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start sandbox: create state directory: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	sb := &Sandbox{
		Dir:                  dir,
		Kubeconfig:           filepath.Join(dir, AdminKubeconfigFile),
		RestrictedKubeconfig: filepath.Join(dir, RestrictedKubeconfigFile),
		EndpointsFile:        filepath.Join(dir, EndpointsFileName),
		cancel:               cancel,
	}
	defer func() {
		if err != nil {
			sb.Stop()
		}
	}()

	logw := opts.LogWriter
	if logw == nil {
		f, err := os.OpenFile(filepath.Join(dir, LogFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("start sandbox: open log file: %w", err)
		}
		sb.logFile = f
		logw = f
	}
	setupLogging(logw)

	creds, err := newCredentials(dir)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	nodes := nodeNames(opts.Nodes)
	kubeletCerts, err := newKubeletPKI(dir, nodes)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}

	etcdURL, closeEtcd, err := startEtcd(dir, logw)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sb.cleanup = append(sb.cleanup, closeEtcd)

	api, err := startAPIServer(ctx, &sb.wg, apiServerOptions{
		dir:     dir,
		port:    opts.Port,
		etcdURL: etcdURL,
		creds:   creds,
		kubelet: kubeletCerts,
	})
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sb.URL = api.url

	if err := writeKubeconfig(sb.Kubeconfig, api.url, api.caData, "sandbox-admin", creds.adminToken); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	if err := writeKubeconfig(sb.RestrictedKubeconfig, api.url, api.caData, RestrictedUser, creds.viewerToken); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sb.Config = &rest.Config{
		Host:            api.url,
		BearerToken:     creds.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: api.caData},
		QPS:             500,
		Burst:           1000,
	}
	cs, err := kubernetes.NewForConfig(sb.Config)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: admin client: %w", err)
	}
	sb.Clientset = cs

	if err := waitReady(ctx, cs, api.errc); err != nil {
		return nil, fmt.Errorf("start sandbox: wait for apiserver: %w", err)
	}
	if err := bindRestrictedUser(ctx, cs); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	if err := ensureStorageClass(ctx, cs); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	if err := startControllers(ctx, &sb.wg, sb.Kubeconfig); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	if err := waitViewRole(ctx, cs); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sim, err := startSimulator(ctx, &sb.wg, cs, nodes, opts.ReadyDelay, kubeletCerts)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	ep := newEndpointServer(sb.EndpointsFile, func() ([]*corev1.Service, error) { return sim.services.List(labels.Everything()) }, sim)
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		ep.run(ctx)
	}()
	return sb, nil
}

// Stop shuts the sandbox down and waits for its components to return. The
// state directory is kept.
func (sb *Sandbox) Stop() {
	sb.stop.Do(func() {
		sb.cancel()
		done := make(chan struct{})
		go func() {
			sb.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			klog.Warning("sandbox: components did not stop within 20s")
		}
		for i := len(sb.cleanup) - 1; i >= 0; i-- {
			sb.cleanup[i]()
		}
		klog.Flush()
		if sb.logFile != nil {
			_ = sb.logFile.Close()
		}
	})
}
