package command

import (
	"context"
	"fmt"

	"github.com/vibestack/rollback/pkg/incident"
	"github.com/vibestack/rollback/pkg/preflight"
	"github.com/vibestack/rollback/pkg/runbook"
)

// incidentInputs is everything a runbook-driven write resolves before it
// starts: the preflight inputs (runbook, clients, database URL, channels,
// Prometheus), the incident's clusters, and the secret values to redact.
type incidentInputs struct {
	rb       *runbook.Runbook
	path     string
	opts     *preflight.Options
	clusters []incident.Cluster
	secrets  []string
}

// loadIncidentInputs loads the runbook and resolves what it names with
// preflightFor. Unlike preflight, which reports it, a cluster without a
// client is an error: nothing can be rolled back there.
func loadIncidentInputs(f *Factory, rf *runbookFlag, steps []string) (*incidentInputs, error) {
	rb, path, err := rf.load()
	if err != nil {
		return nil, err
	}
	opts, err := preflightFor(f, rb, path, steps)
	if err != nil {
		return nil, err
	}
	in := &incidentInputs{rb: rb, path: path, opts: opts}
	for _, c := range opts.Clusters {
		if c.Err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Context, c.Err)
		}
		in.clusters = append(in.clusters, incident.Cluster{Context: c.Context, Namespace: c.Namespace, Client: c.Client})
	}
	_, in.secrets = notificationChannels(rb, opts.HTTPClient)
	in.secrets = append(in.secrets, runbookURLSecrets(rb, opts.DatabaseURL)...)
	f.Redact.Add(in.secrets...)
	return in, nil
}

// preflight returns the checklist the incident runs, printing its table to stderr.
func (in *incidentInputs) preflight(f *Factory) func(ctx context.Context, steps []string) (incident.Checklist, error) {
	return func(ctx context.Context, steps []string) (incident.Checklist, error) {
		o := *in.opts
		o.Steps = steps
		rep, err := o.Run(ctx)
		if err != nil {
			return incident.Checklist{}, err
		}
		preflight.Write(f.IO.ErrOut, rep, false)
		cl := incident.Checklist{Go: rep.Go, Report: rep}
		for _, c := range rep.Checks {
			if c.Status.Problem() {
				cl.Problems = append(cl.Problems, fmt.Sprintf("%s %s: %s", c.Group, c.Name, c.Detail))
			}
		}
		return cl, nil
	}
}
