package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vibestack/rollback/sandbox"
)

func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	abs, err := parseDir("status", args, stderr)
	if err != nil {
		return err
	}
	pid, ok := runningPID(abs)
	if !ok {
		fmt.Fprintf(stdout, "state      %s\nrunning    no\n", abs)
		return errors.New("no sandbox runs there: start one with rollback-sandbox up --dir " + abs)
	}
	kubeconfig := filepath.Join(abs, sandbox.AdminKubeconfigFile)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("read %s: %w", kubeconfig, err)
	}
	health := "ready"
	cfg.Timeout = 2 * time.Second
	if cs, err := kubernetes.NewForConfig(cfg); err != nil {
		health = err.Error()
	} else if _, err := cs.CoreV1().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		health = "not answering: " + err.Error()
	}
	fmt.Fprintf(stdout, "state      %s\nrunning    yes (pid %d)\napi        %s (%s)\n", abs, pid, cfg.Host, health)
	fmt.Fprintf(stdout, "kubeconfig %s\nrestricted %s (user %s)\n", kubeconfig, filepath.Join(abs, sandbox.RestrictedKubeconfigFile), sandbox.RestrictedUser)
	fmt.Fprintf(stdout, "endpoints  %s\n", filepath.Join(abs, sandbox.EndpointsFileName))
	data, err := os.ReadFile(filepath.Join(abs, sandbox.EndpointsFileName))
	if err != nil {
		return nil
	}
	var eps map[string]string
	if err := json.Unmarshal(data, &eps); err != nil {
		return fmt.Errorf("read endpoints: %w", err)
	}
	keys := make([]string, 0, len(eps))
	for k := range eps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %s %s\n", k, eps[k])
	}
	return nil
}
