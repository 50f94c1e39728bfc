package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

type apiServerOptions struct {
	dir     string
	port    int
	etcdURL string
	creds   credentials
	kubelet *kubeletPKI
}

type apiServer struct {
	url    string
	caData []byte
	errc   <-chan error // receives Run's error, closed when it returns
}

// startAPIServer starts the real kube-apiserver in-process, serving TLS on
// 127.0.0.1 with token authentication and RBAC. It returns without waiting
// for the API to answer.
func startAPIServer(ctx context.Context, wg *sync.WaitGroup, o apiServerOptions) (*apiServer, error) {
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.port))
	if err != nil {
		return nil, fmt.Errorf("listen for the apiserver on port %d: %w (choose another --port, or 0 for a free one)", o.port, err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	certDir := filepath.Join(o.dir, "pki", "apiserver")

	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	args := []string{
		"--etcd-servers=" + o.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--cert-dir=" + certDir,
		"--token-auth-file=" + o.creds.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + o.creds.saKeyFile,
		"--service-account-signing-key-file=" + o.creds.saKeyFile,
		"--service-cluster-ip-range=10.0.0.0/16",
		"--endpoint-reconciler-type=none",
		// pods/log, exec and port-forward reach the simulated kubelets on
		// the nodes' InternalIP (127.0.0.1) and their status port, over TLS
		// verified both ways.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority=" + o.kubelet.caFile,
		"--kubelet-client-certificate=" + o.kubelet.clientCertFile,
		"--kubelet-client-key=" + o.kubelet.clientKeyFile,
		// Pods need no ServiceAccount: without it, a pod created right after
		// its namespace is not rejected while the default account is made.
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}
	if os.Getenv("ROLLBACK_SANDBOX_PROFILING") != "" {
		// /debug/pprof for admins: one profile covers etcd, the apiserver,
		// the controllers and the simulator, which share this process.
		args[len(args)-1] = "--profiling=true"
	}
	if err := fs.Parse(args); err != nil {
		listener.Close()
		return nil, fmt.Errorf("apiserver flags: %w", err)
	}
	s.SecureServing.Listener = listener
	s.SecureServing.BindPort = port
	informerName, err := cache.NewInformerName("kube-apiserver")
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("apiserver informer name: %w", err)
	}
	s.InformerName = informerName
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		listener.Close()
		return nil, fmt.Errorf("apiserver feature gates: %w", err)
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{})

	completedOptions, err := s.Complete(ctx)
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("complete apiserver options: %w", err)
	}
	if errs := completedOptions.Validate(); len(errs) != 0 {
		listener.Close()
		return nil, fmt.Errorf("validate apiserver options: %w", utilerrors.NewAggregate(errs))
	}
	config, err := app.NewConfig(completedOptions)
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("apiserver config: %w", err)
	}
	completed, err := config.Complete()
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("complete apiserver config: %w", err)
	}
	server, err := app.CreateServerChain(completed)
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("create apiserver: %w", err)
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("prepare apiserver: %w", err)
	}
	caData, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("read apiserver certificate: %w", err)
	}
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(errc)
		if err := prepared.Run(ctx); err != nil {
			errc <- err
		}
	}()
	return &apiServer{url: fmt.Sprintf("https://127.0.0.1:%d", port), caData: caData, errc: errc}, nil
}

// waitReady waits until /readyz answers ok, which includes the RBAC
// bootstrap roles.
func waitReady(ctx context.Context, cs kubernetes.Interface, errc <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err, ok := <-errc:
			if !ok {
				return false, errors.New("apiserver stopped")
			}
			return false, fmt.Errorf("apiserver stopped: %w", err)
		default:
		}
		body, err := cs.CoreV1().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			last = fmt.Errorf("%w: %s", err, body)
			return false, nil
		}
		return true, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last answer: %v)", err, last)
	}
	return err
}
