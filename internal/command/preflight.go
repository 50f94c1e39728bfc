package command

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/preflight"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/runbook"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// preflightOptions are the flags of "preflight".
type preflightOptions struct {
	runbook runbookFlag
	steps   []string
	timeout time.Duration
}

// newPreflightCmd returns "preflight": the runbook's pre-rollback checklist,
// checked instead of read.
func newPreflightCmd(f *Factory) *cobra.Command {
	o := &preflightOptions{}
	cmd := &cobra.Command{
		Use:   "preflight",
		Short: "Check the pre-rollback checklist: access, revisions, pods, GitOps, monitoring, database, notifications",
		Long: `Check, before touching anything, what the runbook's pre-rollback checklist
asks people to check by hand, and say GO or NO-GO:

  access         every verb and resource the rollback needs, per cluster (SelfSubjectAccessReview)
  revisions      each Deployment's current and last known good revision and their difference
  pods           pods not ready, restarts, Warning events of the last 15 minutes
  owners         operators, Argo CD, Flux and Helm releases that would revert the rollback or keep their own history
  monitoring     each Prometheus query against its threshold, each HTTP health check
  database       reachable, migration version, backup tool version, free disk for a backup
  notifications  each channel configured and reachable

✓ ok, ! warning (information: an incident is why we are here), ✗ failed,
? unknown (could not be checked). Any ✗ or ? is NO-GO: exit code 2 with the
escalation contacts. GO is exit code 0.`,
		Example: "  rollback preflight\n  rollback preflight -f deploy/rollback.yaml --steps app,config\n  rollback preflight -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(ctxOf(cmd), f)
		},
	}
	o.runbook.add(cmd)
	cmd.Flags().StringSliceVar(&o.steps, "steps", nil, "the steps that will run, e.g. app,config (default: the runbook's steps); database checks only with db")
	cmd.Flags().DurationVar(&o.timeout, "check-timeout", preflight.DefaultTimeout, "give up each check after this long (it is then unknown)")
	return cmd
}

// Run loads the runbook, builds the clients, runs the checks and prints them.
func (o *preflightOptions) Run(ctx context.Context, f *Factory) error {
	rb, path, err := o.runbook.load()
	if err != nil {
		return err
	}
	for _, s := range o.steps {
		if !slices.Contains(runbook.DefaultSteps, s) {
			return exitcode.AsRefused(fmt.Errorf("preflight: unknown step %q: use app, config or db", s))
		}
	}
	opts, err := preflightFor(f, rb, path, o.steps)
	if err != nil {
		return err
	}
	opts.Timeout = o.timeout
	n := len(rb.Workloads())
	what := fmt.Sprintf("%d %s", n, pluralWord(n, workloadWord(rb)))
	if n := len(rb.HelmReleases); n > 0 {
		what += fmt.Sprintf(", %d %s", n, pluralWord(n, "helm release"))
	}
	fmt.Fprintf(f.IO.ErrOut, "preflight: %s, %d %s, %s...\n", rb.App, len(rb.Clusters), pluralWord(len(rb.Clusters), "cluster"), what)
	rep, err := opts.Run(ctx)
	if err != nil {
		return err
	}
	if f.JSON() {
		if err := printJSON(f, rep); err != nil {
			return err
		}
	} else {
		preflight.Write(f.IO.Out, rep, colorOut(f))
	}
	return rep.Err()
}

// preflightFor builds the preflight of the runbook rb read from path for
// steps (the runbook's when empty): one client per runbook cluster (a
// missing context is reported as a failed check), the database URL from
// the environment or the file the runbook names, the Prometheus client and
// the notification channels. "run" uses it too.
func preflightFor(f *Factory, rb *runbook.Runbook, path string, steps []string) (*preflight.Options, error) {
	opts := &preflight.Options{
		Runbook:    rb,
		Steps:      steps,
		HTTPClient: safehttp.NewClient(0),
		Clock:      f.Clock,
	}
	for _, c := range rb.Clusters {
		cs, _, err := clusterClient(f, c.Context, c.Namespace)
		opts.Clusters = append(opts.Clusters, preflight.Cluster{Context: c.Context, Namespace: c.Namespace, Client: cs, Err: err})
	}
	if db := rb.Database; db != nil {
		base := filepath.Dir(path)
		opts.DatabaseURL, opts.DatabaseURLError = databaseURL(db, base)
		opts.MigrationsDir = relativeTo(base, db.MigrationsDir)
		opts.BackupDir = relativeTo(base, db.BackupDir)
	}
	if p := rb.HealthChecks.Prometheus; p != nil {
		var err error
		if opts.Prometheus, err = promquery.New(p.URL, opts.HTTPClient); err != nil {
			return nil, fmt.Errorf("preflight: prometheus client: %w", err)
		}
	}
	if len(rb.HelmReleases) > 0 {
		if x := f.releases(); x.Binary != "" {
			opts.Releases = x
		}
	}
	var secrets []string
	opts.Channels, secrets = notificationChannels(rb, opts.HTTPClient)
	f.Redact.Add(secrets...)
	f.Redact.Add(runbookURLSecrets(rb, opts.DatabaseURL)...)
	return opts, nil
}

// notificationChannels returns the runbook's channels that can be built,
// each on its own so that one with a missing environment variable does not
// hide the others (preflight reports the missing variables itself). The
// secrets are the URLs, keys and HMAC secrets to redact.
func notificationChannels(rb *runbook.Runbook, hc *http.Client) ([]notify.Channel, []string) {
	n := rb.Notifications
	var out []notify.Channel
	var secrets []string
	for _, one := range []runbook.Notifications{{Slack: n.Slack}, {Webhook: n.Webhook}, {PagerDuty: n.PagerDuty}} {
		if one.Slack == nil && one.Webhook == nil && one.PagerDuty == nil {
			continue
		}
		if chs, sec, err := notify.FromRunbook(one, os.Getenv, hc); err == nil {
			out = append(out, chs...)
			secrets = append(secrets, sec...)
		}
	}
	return out, secrets
}

// databaseURL reads the database URL from the environment variable or the
// file the runbook names (a relative file is relative to the runbook).
func databaseURL(db *runbook.Database, base string) (string, error) {
	if db.URLFromEnv != "" {
		if v := os.Getenv(db.URLFromEnv); v != "" {
			return v, nil
		}
		if db.URLFromFile == "" {
			return "", nil
		}
	}
	if db.URLFromFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(relativeTo(base, db.URLFromFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("database URL file %s does not exist", db.URLFromFile)
		}
		return "", fmt.Errorf("read database URL file %s: %w", db.URLFromFile, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// relativeTo resolves a relative path of the runbook against its directory.
func relativeTo(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// colorOut reports whether stdout is a terminal that wants colors (NO_COLOR unset).
func colorOut(f *Factory) bool {
	file, ok := f.IO.Out.(*os.File)
	return ok && os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(file.Fd()))
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// workloadWord names a runbook's workloads: "deployment" when it has
// only Deployments, else "workload".
func workloadWord(rb *runbook.Runbook) string {
	if len(rb.StatefulSets)+len(rb.DaemonSets) > 0 {
		return "workload"
	}
	return "deployment"
}
