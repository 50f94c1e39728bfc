package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// receive runs a webhook receiver on a free loopback port until ctx ends:
// it writes its URL to urlFile and one line per event to logFile.
func receive(ctx context.Context, urlFile, logFile string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			var ev struct{ Kind, Summary string }
			_ = json.Unmarshal(body, &ev)
			fmt.Fprintf(log, "%s  %-9s %s (signed: %t)\n", time.Now().UTC().Format("15:04:05"), ev.Kind, ev.Summary, r.Header.Get("X-Rollback-Signature") != "")
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	if err := os.WriteFile(urlFile, []byte("http://"+l.Addr().String()+"/hooks/rollback"), 0o600); err != nil {
		return err
	}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}
