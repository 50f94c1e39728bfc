package guardcontroller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Health serves /healthz (the process runs) and /readyz (the replica is
// either a synced leader or a standby candidate) for the probes.
type Health struct {
	leader atomic.Bool
	synced atomic.Bool
	ready  atomic.Bool
}

// SetLeader records whether this replica leads; a leader is ready once synced.
func (h *Health) SetLeader(v bool) {
	h.leader.Store(v)
	if !v {
		h.synced.Store(false)
	}
}

// SetSynced records that the leader's caches are synced.
func (h *Health) SetSynced() { h.synced.Store(true) }

// SetReady records that the replica has started campaigning.
func (h *Health) SetReady() { h.ready.Store(true) }

// Handler returns the HTTP handler of /healthz and /readyz.
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !h.ready.Load():
			http.Error(w, "starting", http.StatusServiceUnavailable)
		case h.leader.Load() && !h.synced.Load():
			http.Error(w, "leader, caches not synced yet", http.StatusServiceUnavailable)
		case h.leader.Load():
			fmt.Fprintln(w, "ok: leader")
		default:
			fmt.Fprintln(w, "ok: standby")
		}
	})
	return mux
}

// Serve serves h on addr until ctx ends. The listener is opened before
// Serve returns an error, so a taken port fails fast.
func (h *Health) Serve(ctx context.Context, addr string) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on health address %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), errc, nil
}
