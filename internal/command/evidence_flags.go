package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
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

func (s *sizeValue) String() string { return formatSize(int64(*s)) }
func (s *sizeValue) Type() string   { return "size" }
func (s *sizeValue) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeValue(n)
	return nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"gi", 1 << 30}, {"mi", 1 << 20}, {"ki", 1 << 10},
	{"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}}

// parseSize reads a size such as 8MiB, 512KiB, 2M or 1048576.
func parseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size: use a number of bytes with an optional unit, such as 8MiB or 512KiB", v)
	}
	return n * mult, nil
}

// formatSize prints n bytes with the largest binary unit that divides it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}
