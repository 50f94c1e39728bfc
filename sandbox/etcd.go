package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// startEtcd starts a single-member etcd tuned for a throw-away cluster: fast
// elections and no fsync. It returns the client URL and a close function.
// etcd binds ports it is given, so they are picked free a moment before; when
// another process takes one in between (parallel test packages), it tries
// again with new ports.
func startEtcd(dir string, logw io.Writer) (string, func(), error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var u string
		var stop func()
		u, stop, err = startEtcdOnce(dir, logw)
		if err == nil || !portTaken(err) {
			return u, stop, err
		}
		_ = os.RemoveAll(filepath.Join(dir, "etcd"))
	}
	return "", nil, err
}

// startEtcdOnce starts etcd on two ports that were free a moment ago.
func startEtcdOnce(dir string, logw io.Writer) (string, func(), error) {
	clientPort, err := freePort()
	if err != nil {
		return "", nil, fmt.Errorf("etcd client port: %w", err)
	}
	peerPort, err := freePort()
	if err != nil {
		return "", nil, fmt.Errorf("etcd peer port: %w", err)
	}
	if peerPort == clientPort {
		return "", nil, fmt.Errorf("etcd ports: the same port %d twice: %w", peerPort, syscall.EADDRINUSE)
	}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}

	cfg := embed.NewConfig()
	cfg.Name = "sandbox"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(logw),
		zapcore.WarnLevel,
	)))

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return "", nil, fmt.Errorf("start etcd: %w", err)
	case <-time.After(30 * time.Second):
		e.Close()
		return "", nil, fmt.Errorf("start etcd: not ready after 30s")
	}
	return clientURL.String(), e.Close, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portTaken reports whether err says a port was already in use (etcd does not
// always keep the syscall error in its chain).
func portTaken(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
