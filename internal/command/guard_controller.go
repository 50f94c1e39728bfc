package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// guardControllerFlags are the flags of `rollback guard --controller`.
type guardControllerFlags struct {
	leaseNamespace string
	leaseDuration  time.Duration
	renewDeadline  time.Duration
	retryPeriod    time.Duration
	healthAddr     string
	maxConcurrent  int
	identity       string
	allowURLs      []string
	kinds          []string
	// evidence are guard's --evidence-* flags, which apply to both modes.
	evidence *evidenceFlags
}

// guardControllerFlagNames are the flags that apply only to --controller.
var guardControllerFlagNames = map[string]bool{
	"controller": true, "lease-namespace": true, "lease-duration": true, "renew-deadline": true,
	"retry-period": true, "health-addr": true, "max-concurrent": true, "identity": true, "allow-url": true, "kinds": true,
	"journal-dir": true, // guard's own flag: where the local copies of incident journals go
	"file":        true, // guard's own flag: the runbook whose notifications every incident uses
	// guard's own flags: the evidence collected before each rollback.
	"evidence-budget": true, "evidence-max-size": true, "evidence-log-lines": true, "evidence-pods": true,
}

// add binds the controller's flags to the guard command.
func (g *guardControllerFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&g.leaseNamespace, "lease-namespace", "", "with --controller: namespace of the leader-election Lease "+guardcontroller.LeaseName+" (default $POD_NAMESPACE, else "+guardcontroller.DefaultLeaseNamespace+")")
	fl.DurationVar(&g.leaseDuration, "lease-duration", guardcontroller.DefaultLeaseDuration, "with --controller: how long a standby waits before taking over a Lease that is not renewed")
	fl.DurationVar(&g.renewDeadline, "renew-deadline", guardcontroller.DefaultRenewDeadline, "with --controller: how long the leader keeps trying to renew before it stops guarding")
	fl.DurationVar(&g.retryPeriod, "retry-period", guardcontroller.DefaultRetryPeriod, "with --controller: time between two attempts to acquire or renew the Lease")
	fl.StringVar(&g.healthAddr, "health-addr", ":8081", "with --controller: address of the /healthz and /readyz endpoints (empty: none)")
	fl.IntVar(&g.maxConcurrent, "max-concurrent", guardcontroller.DefaultMaxConcurrent, "with --controller: how many workloads are guarded at once")
	fl.StringSliceVar(&g.kinds, "kinds", nil, "with --controller: the workload kinds watched and guarded, comma-separated: deployment, statefulset, daemonset (default all three; the ServiceAccount needs list and watch on each)")
	fl.StringVar(&g.identity, "identity", "", "with --controller: this replica's name in the Lease, states and Events (default hostname_pid)")
	fl.StringArrayVar(&g.allowURLs, "allow-url", nil, "with --controller: URL pattern scheme://host[:port][/path-prefix] (*.name for subdomains, :* for any port) that check and Prometheus URLs in annotations may match (repeatable; also the key "+guardcontroller.SettingsKeyAllowURLs+" of ConfigMap "+guardcontroller.SettingsConfigMap+" in the lease namespace; default: cluster Service names *.svc and *.svc.cluster.local only)")
}

// run runs the guard controller until the command's context ends. Without
// -n it watches every namespace; with -n only those named (comma-separated).
func (g *guardControllerFlags) run(cmd *cobra.Command, f *Factory, rf *runbookFlag) error {
	if args := cmd.Flags().Args(); len(args) > 0 {
		return exitcode.AsRefused(fmt.Errorf("guard --controller takes no workload (got %q): it guards every Deployment, StatefulSet and DaemonSet annotated %s=%s", args[0], guardcontroller.AnnotationGuard, guardcontroller.EnabledValue))
	}
	var stray []string
	inherited := cmd.InheritedFlags()
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if inherited.Lookup(fl.Name) == nil && !guardControllerFlagNames[fl.Name] {
			stray = append(stray, "--"+fl.Name)
		}
	})
	if len(stray) > 0 {
		return exitcode.AsRefused(fmt.Errorf("%v do not apply to guard --controller: put each workload's settings in its annotations (%s-bake, %s-interval, ...) or in the ConfigMap named by %s", stray, guardcontroller.AnnotationPrefix, guardcontroller.AnnotationPrefix, guardcontroller.AnnotationConfig))
	}
	if g.renewDeadline >= g.leaseDuration || g.retryPeriod >= g.renewDeadline || g.retryPeriod <= 0 {
		return exitcode.AsRefused(fmt.Errorf("need --retry-period (%s) < --renew-deadline (%s) < --lease-duration (%s)", g.retryPeriod, g.renewDeadline, g.leaseDuration))
	}
	if g.maxConcurrent < 1 {
		return exitcode.AsRefused(fmt.Errorf("--max-concurrent %d: must be at least 1", g.maxConcurrent))
	}
	var kinds []rollout.Kind
	for _, k := range g.kinds {
		kind, err := rollout.ParseKind(k)
		if err != nil {
			return fmt.Errorf("--kinds: %w", err)
		}
		kinds = append(kinds, kind)
	}
	lim, err := g.evidence.limits()
	if err != nil {
		return err
	}
	cfg, err := f.Kube.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	// The Lease gets its own client, so that guard traffic never delays a renewal.
	leaseClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create kubernetes client: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create kubernetes client: %w", err)
	}
	namespaces := []string{""}
	if fl := cmd.Flags().Lookup("namespace"); fl != nil && fl.Changed {
		namespaces = strings.Split(fl.Value.String(), ",")
	}
	leaseNS := g.leaseNamespace
	if leaseNS == "" {
		leaseNS = guardcontroller.LeaseNamespace(os.Getenv)
	}
	allow, err := guardcontroller.LoadURLPolicy(ctxOf(cmd), leaseClient.CoreV1().ConfigMaps(leaseNS), g.allowURLs)
	if err != nil {
		return exitcode.AsRefused(err)
	}
	identity := g.identity
	if identity == "" {
		identity = guardcontroller.DefaultIdentity()
	}
	journalDir := ""
	if fl := cmd.Flags().Lookup("journal-dir"); fl != nil {
		journalDir = fl.Value.String()
	}
	// Notification receivers are outside the cluster; check and Prometheus
	// URLs go through the allowlist, also on redirects and after name
	// resolution.
	hc := safehttp.NewClient(10 * time.Second)
	checks := safehttp.NewGuardedClient(5*time.Second, allow.CheckURL)
	var chans []notify.Channel
	var secrets []string
	if rf.path != "" {
		rb, _, err := rf.load()
		if err != nil {
			return err
		}
		if chans, secrets, err = notify.FromRunbook(rb.Notifications, f.Getenv, hc); err != nil {
			return err
		}
		f.Redact.Add(secrets...)
	}

	// The controller logs JSON records (log/slog) on stderr.
	logger := slog.New(slog.NewJSONHandler(f.IO.ErrOut, nil)).With("controller", identity)
	// client-go's leader election logs through klog: the same JSON records.
	klog.SetSlogLogger(logger)
	ctx, cancel := context.WithCancel(ctxOf(cmd))
	defer cancel()
	health := &guardcontroller.Health{}
	if g.healthAddr != "" {
		addr, errc, err := health.Serve(ctx, g.healthAddr)
		if err != nil {
			return exitcode.AsRefused(err)
		}
		logger.Info(fmt.Sprintf("health endpoints on http://%s/healthz and /readyz", addr))
		go func() {
			if err := <-errc; err != nil {
				logger.Error(fmt.Sprintf("health endpoint stopped: %v", err))
			}
		}()
	}
	logger.Info(fmt.Sprintf("check and Prometheus URLs allowed: %s", allow))
	// Deployments a Helm release manages are rolled back through their
	// release, in the rollback-helm program (one process per operation).
	releases := f.releases()
	if releases.Binary == "" {
		logger.Warn(fmt.Sprintf("workloads managed by Helm cannot be rolled back: %v", releases.Missing))
	} else {
		logger.Info(fmt.Sprintf("Helm releases are rolled back with %s", releases.Binary))
	}
	logger.Info(fmt.Sprintf("%s: campaigning for lease %s/%s", identity, leaseNS, guardcontroller.LeaseName))
	health.SetReady()
	le := guardcontroller.LeaderElection{
		Client: leaseClient, Namespace: leaseNS, Identity: identity,
		LeaseDuration: g.leaseDuration, RenewDeadline: g.renewDeadline, RetryPeriod: g.retryPeriod,
		OnLeader: func(leading bool) {
			health.SetLeader(leading)
			if leading {
				logger.Info(fmt.Sprintf("%s: became the leader", identity))
			} else {
				logger.Warn(fmt.Sprintf("%s: not the leader any more; stopped guarding", identity))
			}
		},
	}
	err = le.Run(ctx, func(lctx context.Context) error {
		// One controller per watched namespace (one for all namespaces
		// without -n), all under the same leadership.
		errc := make(chan error, len(namespaces))
		synced := make(chan struct{}, len(namespaces))
		for _, ns := range namespaces {
			c := &guardcontroller.Controller{
				Client: cs, Namespace: strings.TrimSpace(ns), Clock: f.Clock, Logger: logger, Identity: identity,
				MaxConcurrent: g.maxConcurrent, HTTPClient: checks, AllowURLs: allow,
				OnSynced: func() { synced <- struct{}{} }, JournalDir: journalDir, Channels: chans, Secrets: secrets, LockDuration: g.leaseDuration,
				Evidence: lim,
				Releases: releases,
				Kinds:    kinds,
			}
			go func() { errc <- c.Run(lctx) }()
		}
		go func() {
			for range namespaces {
				select {
				case <-synced:
				case <-lctx.Done():
					return
				}
			}
			health.SetSynced()
		}()
		var first error
		for range namespaces {
			if err := <-errc; err != nil && first == nil {
				first = err
			}
		}
		return first
	})
	if errors.Is(err, guardcontroller.ErrLostLeadership) {
		return fmt.Errorf("guard controller %s: %w; exiting so that it restarts as a candidate", identity, err)
	}
	if err != nil {
		return fmt.Errorf("guard controller: %w", err)
	}
	return nil
}
