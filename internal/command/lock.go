package command

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// newLockCmd returns "lock": inspect and break the per-application cluster
// lock that makes one rollback run at a time.
func newLockCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Show or break the cluster locks that let one rollback of an application or workload run at a time",
		Long: `Every rollback holds coordination.k8s.io Leases in the namespace of what it
changes: "rollback run" the application's (rollback-APP) and one per
workload (rollback-deployment-NAME); guard and the guard controller the
workload's. So no two rollbacks change the same workload at once. A Lease
records who holds it (user@host and the holder's process), for which
incident and since when; its holder renews it. Another rollback takes it
over only after watching it unchanged for its whole duration (the holder
died), whatever the clocks of the two machines say.

NAME is an application (web) or a workload (deployment/web).`,
	}
	cmd.AddCommand(newLockStatusCmd(f), newLockBreakCmd(f))
	return cmd
}

// newLockStatusCmd returns "lock status APP".
func newLockStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "status NAME",
		Short:   "Show who holds the rollback lock of an application or a workload, or that it is free",
		Example: "  rollback lock status vibestack -n shop\n  rollback lock status deployment/vibestack-app -n shop -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lockFor(f, args[0])
			if err != nil {
				return err
			}
			info, err := l.Status(ctxOf(cmd))
			if err != nil {
				return err
			}
			if f.JSON() {
				return printJSON(f, info)
			}
			writeLockInfo(f.IO.Out, info, f.Clock.Now())
			return nil
		},
	}
}

// newLockBreakCmd returns "lock break APP --yes".
func newLockBreakCmd(f *Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "break NAME",
		Short: "Delete the rollback lock of an application or a workload whoever holds it",
		Long: `Delete the rollback lock of an application whoever holds it. Do this only if
you are sure the holder is gone: a running rollback whose lock is broken
stops at its next renewal, but steps it already started are not undone.
A free lock is skipped (exit code 0).`,
		Example: "  rollback lock break vibestack --yes -n shop\n  rollback lock break deployment/vibestack-app --yes -n shop",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lockFor(f, args[0])
			if err != nil {
				return err
			}
			ctx := ctxOf(cmd)
			info, err := l.Status(ctx)
			if err != nil {
				return err
			}
			if !info.Free && !yes {
				writeLockInfo(f.IO.ErrOut, info, f.Clock.Now())
				if !f.IO.InTTY {
					return exitcode.AsRefused(errors.New("no terminal to confirm on; nothing was changed: run again with --yes only if you are sure the holder is gone"))
				}
				ok, err := f.IO.Confirm(fmt.Sprintf("break the lock of %s held by %s?", info.Name, info.Holder))
				if err != nil {
					return err
				}
				if !ok {
					return exitcode.AsRefused(errors.New("cancelled; nothing was changed"))
				}
			}
			if !info.Free {
				if info, err = l.Break(ctx); err != nil {
					return err
				}
			}
			if f.JSON() {
				return printJSON(f, lockBreakResult{Broken: !info.Free, Info: info})
			}
			if info.Free {
				fmt.Fprintf(f.IO.Out, "skipped: lock %s is free, nothing to break\n", info.Lease)
				return nil
			}
			fmt.Fprintf(termsafe.Writer(f.IO.Out), "broke lock %s/%s held by %s for incident %s since %s\n",
				info.Namespace, info.Lease, info.Holder, orDash(info.Incident), info.Since.UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	return cmd
}

// lockBreakResult is the -o json answer of "lock break".
type lockBreakResult struct {
	Broken bool              `json:"broken"`
	Info   *clusterlock.Info `json:"lock"`
}

// lockFor returns the lock of name (an application or KIND/NAME) in the
// namespace the flags select.
func lockFor(f *Factory, name string) (*clusterlock.Lock, error) {
	cs, ns, err := appClients(f)
	if err != nil {
		return nil, err
	}
	return &clusterlock.Lock{
		Leases:  cs.CoordinationV1().Leases(ns),
		Clock:   f.Clock,
		Name:    name,
		Holder:  clusterlock.DefaultHolder(),
		Process: f.Process,
	}, nil
}

// writeLockInfo prints a lock's state for people.
func writeLockInfo(w io.Writer, info *clusterlock.Info, now time.Time) {
	w = termsafe.Writer(w) // the holder and incident come from the Lease
	if info.Free {
		fmt.Fprintf(w, "lock %s: free\n", info.Lease)
		return
	}
	state := "held"
	if info.Expired {
		state = "held, not renewed for longer than its duration by this machine's clock (the holder may be gone: the next rollback watches it and takes it over if nobody renews it)"
	}
	fmt.Fprintf(w, "lock %s/%s: %s\n", info.Namespace, info.Lease, state)
	fmt.Fprintf(w, "  holder:    %s (process %s)\n", info.Holder, orDash(info.Process))
	fmt.Fprintf(w, "  incident:  %s\n", orDash(info.Incident))
	fmt.Fprintf(w, "  since:     %s (%s ago)\n", info.Since.UTC().Format(time.RFC3339), now.Sub(info.Since).Round(time.Second))
	fmt.Fprintf(w, "  renewed:   %s (the holder's clock)\n", info.Renewed.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  expires:   %s unless renewed (lease %s)\n", info.Expires.UTC().Format(time.RFC3339), info.Duration)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
