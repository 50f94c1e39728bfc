package helmcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/kubeflags"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/helmrelease"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/outcome"
)

// maxRequest bounds the request read from stdin.
const maxRequest = 1 << 20

// newAgentCmd serves one operation of another rollback process (rollback
// run, preflight, guard, the controller), which keeps Helm's library out of
// its own memory: a helmtarget.Request on stdin, helmtarget.Messages on
// stdout.
func newAgentCmd(f *command.Factory) *cobra.Command {
	return &cobra.Command{
		Use:    "agent",
		Short:  "Serve one Helm release operation of another rollback process (a JSON request on stdin, JSON lines on stdout)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ans := helmtarget.NewAnswer(f.IO.Out)
			res, err := serve(command.ContextOf(cmd), f, ans)
			return ans.Finish(res, err)
		},
	}
}

// serve reads the request and runs it, reporting to ans.
func serve(ctx context.Context, f *command.Factory, ans *helmtarget.Answer) (any, error) {
	raw, err := io.ReadAll(io.LimitReader(f.IO.In, maxRequest))
	if err != nil {
		return nil, fmt.Errorf("read the request: %w", err)
	}
	var req helmtarget.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, outcome.AsRefused(fmt.Errorf("decode the request: %w", err))
	}
	if req.Ref.Name == "" {
		return nil, outcome.AsRefused(errors.New("the request names no release"))
	}
	kf := kubeflags.NewConfigFlags()
	fs := pflag.NewFlagSet("cluster flags", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kf.AddFlags(fs)
	if err := fs.Parse(req.Flags); err != nil {
		return nil, outcome.AsRefused(fmt.Errorf("cluster flags of the request: %w", err))
	}
	if req.Ref.Context != "" {
		*kf.Context = req.Ref.Context
	}
	if req.Ref.Namespace != "" {
		// Helm's kube client puts the manifest's objects that name no
		// namespace in the flags' namespace: the release's.
		*kf.Namespace = req.Ref.Namespace
	}
	cfg, err := configOf(kf, f)
	if err != nil {
		return nil, err
	}
	o := req.Options
	u := &helmrelease.Undo{Config: cfg, ToRevision: o.ToRevision, RecoverPending: o.RecoverPending, Force: o.Force,
		Verification: o.Verification, MaxHistory: o.MaxHistory, By: o.By, Observer: ans, Journal: ans,
		Snapshots: configs.SnapshotFinder{Client: cfg.Clientset}}
	switch req.Op {
	case helmtarget.OpPlan:
		u.DryRun = true
		return u.Run(ctx, req.Ref.Name)
	case helmtarget.OpUndo:
		return u.Run(ctx, req.Ref.Name)
	case helmtarget.OpMarkGood:
		return u.MarkGood(ctx, req.Ref.Name)
	case helmtarget.OpMarkFailed:
		return u.MarkFailed(ctx, req.Ref.Name, req.Revision, req.Reason)
	}
	return nil, outcome.AsRefused(fmt.Errorf("unknown operation %q: use %s, %s, %s or %s", req.Op, helmtarget.OpPlan, helmtarget.OpUndo, helmtarget.OpMarkGood, helmtarget.OpMarkFailed))
}
