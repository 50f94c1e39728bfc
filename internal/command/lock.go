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
		Short: "Show or break the cluster lock that lets one rollback of an application run at a time",
		Long: `Every rollback of an application holds a coordination.k8s.io Lease named
rollback-APP in the application's namespace. It records who holds it, for
which incident and since when, and expires when the holder stops renewing it
(for example because its process died).`,
	}
	cmd.AddCommand(newLockStatusCmd(f), newLockBreakCmd(f))
	return cmd
}

// newLockStatusCmd returns "lock status APP".
func newLockStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "status APP",
		Short:   "Show who holds the rollback lock of an application, or that it is free",
		Example: "  rollback lock status vibestack-app -n shop\n  rollback lock status vibestack-app -n shop -o json",
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
		Use:   "break APP",
		Short: "Delete the rollback lock of an application whoever holds it",
		Long: `Delete the rollback lock of an application whoever holds it. Do this only if
you are sure the holder is gone: a running rollback whose lock is broken
stops at its next renewal, but steps it already started are not undone.
A free lock is skipped (exit code 0).`,
		Example: "  rollback lock break vibestack-app --yes -n shop",
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
				ok, err := f.IO.Confirm(fmt.Sprintf("break the lock of %s held by %s?", info.App, info.Holder))
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

// lockFor returns the lock of app in the namespace the flags select.
func lockFor(f *Factory, app string) (*clusterlock.Lock, error) {
	cs, ns, err := appClients(f)
	if err != nil {
		return nil, err
	}
	return &clusterlock.Lock{
		Leases: cs.CoordinationV1().Leases(ns),
		Clock:  f.Clock,
		App:    app,
		Holder: clusterlock.DefaultHolder(),
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
		state = "expired (the holder stopped renewing; the next rollback takes it over)"
	}
	fmt.Fprintf(w, "lock %s/%s: %s\n", info.Namespace, info.Lease, state)
	fmt.Fprintf(w, "  holder:    %s\n", info.Holder)
	fmt.Fprintf(w, "  incident:  %s\n", orDash(info.Incident))
	fmt.Fprintf(w, "  since:     %s (%s ago)\n", info.Since.UTC().Format(time.RFC3339), now.Sub(info.Since).Round(time.Second))
	fmt.Fprintf(w, "  renewed:   %s\n", info.Renewed.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  expires:   %s (lease %s)\n", info.Expires.UTC().Format(time.RFC3339), info.Duration)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
