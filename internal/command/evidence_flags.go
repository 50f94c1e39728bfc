package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/bytesize"
	"github.com/vibestack/rollback/pkg/evidence"
)

// evidenceFlags bound the evidence a rollback collects before its first
// write: --evidence-budget, --evidence-max-size, --evidence-log-lines,
// --evidence-pods.
type evidenceFlags struct {
	lim     evidence.Limits
	maxSize sizeValue
	bound   bool
}

// add binds the evidence flags to cmd.
func (e *evidenceFlags) add(cmd *cobra.Command) {
	d := evidence.DefaultLimits()
	e.lim, e.bound = d, true
	e.maxSize = sizeValue(d.MaxSize)
	fs := cmd.Flags()
	fs.DurationVar(&e.lim.Budget, "evidence-budget", d.Budget, "longest the evidence collection before the first change may take (logs, Events, pods of the failing workload); 0 collects none")
	fs.Var(&e.maxSize, "evidence-max-size", "largest evidence bundle before compression (e.g. 8MiB, 512KiB)")
	fs.Int64Var(&e.lim.LogLines, "evidence-log-lines", d.LogLines, "last lines kept of each container log in the evidence")
	fs.IntVar(&e.lim.Pods, "evidence-pods", d.Pods, "pods of the bad revision whose logs the evidence keeps, failing ones first (0: every pod)")
}

// limits returns the limits the flags say, refusing bad ones (exit 2); nil
// when the command has no evidence flags.
func (e *evidenceFlags) limits() (*evidence.Limits, error) {
	if !e.bound {
		return nil, nil
	}
	lim := e.lim
	lim.MaxSize = int64(e.maxSize)
	if err := lim.Validate(); err != nil {
		return nil, exitcode.AsRefused(err)
	}
	return &lim, nil
}

// sizeValue is a size in bytes given as 8MiB, 512KiB, 1GiB or a plain number.
type sizeValue int64

func (s *sizeValue) String() string { return bytesize.Exact(int64(*s)) }
func (s *sizeValue) Type() string   { return "size" }
func (s *sizeValue) Set(v string) error {
	n, err := bytesize.Parse(v)
	if err != nil {
		return err
	}
	*s = sizeValue(n)
	return nil
}
