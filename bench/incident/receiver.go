package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// receiver is the demo's webhook receiver (`demo-pipeline receive`), the
// endpoint of the runbook's notifications.
type receiver struct {
	url string
	cmd *exec.Cmd
}

// startReceiver starts the receiver and waits for its URL.
func (o options) startReceiver(ctx context.Context) (*receiver, error) {
	urlFile := filepath.Join(o.work, "webhook-url")
	cmd := exec.CommandContext(ctx, o.pipeline, "receive", urlFile, filepath.Join(o.work, "webhook.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the webhook receiver: %w", err)
	}
	r := &receiver{cmd: cmd}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
			r.url = strings.TrimSpace(string(b))
			return r, nil
		}
	}
	r.close()
	return nil, fmt.Errorf("the webhook receiver wrote no URL to %s within 30s", urlFile)
}

func (r *receiver) close() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}
