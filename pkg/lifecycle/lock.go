package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/progress"
)

// LockTarget is one thing an incident locks: the application, or a workload
// (KIND/NAME) it changes, in one namespace. `rollback run` locks its
// application and every workload of the runbook; guard and the controller
// lock the workload they guard; so no two paths change the same workload at
// once.
type LockTarget struct {
	// Leases are the Leases of the namespace of what is locked.
	Leases coordinationv1client.LeaseInterface
	// Namespace names that namespace in messages.
	Namespace string
	// Name is the application, or KIND/NAME of a workload.
	Name string
}

// Workload returns the lock target of the workload kind/name in namespace.
func Workload(leases coordinationv1client.LeaseInterface, namespace, kind, name string) LockTarget {
	return LockTarget{Leases: leases, Namespace: namespace, Name: kind + "/" + name}
}

// Lock takes every target's lock, in order, all or nothing: when one is
// refused the ones taken are released. It keeps them renewed until Close
// and returns a context that is cancelled, with the cause, when one of
// them is lost (broken, taken over, or not renewed in time), before anyone
// else may take it over: work must run under that context.
func (in *Incident) Lock(ctx context.Context, targets ...LockTarget) (context.Context, error) {
	held, err := acquire(ctx, in.o, in.id, targets)
	for i, h := range held {
		in.logAcquired(ctx, h, targets[i].Namespace)
	}
	if err != nil {
		in.Log(ctx, journal.Entry{Action: journal.ActionLockRefused, Target: "lease/" + clusterlock.LeaseName(targets[len(held)].Name), Result: journal.ResultFailed, Error: err.Error()})
		in.release(held)
		return ctx, err
	}
	return in.keep(ctx, held), nil
}

// acquire takes every target's lock for incident id, in order, and stops
// at the first refusal: it returns the locks taken before it (the caller
// releases them) and the refusal.
func acquire(ctx context.Context, o Options, id string, targets []LockTarget) ([]*clusterlock.Held, error) {
	var held []*clusterlock.Held
	for _, t := range targets {
		l := &clusterlock.Lock{Leases: t.Leases, Clock: o.Clock, Name: t.Name, Holder: o.Actor,
			Process: o.Process, Incident: id, Duration: o.LockDuration,
			OnWait: func(info *clusterlock.Info, upTo time.Duration) {
				emit(o, progress.Info, "lease/"+info.Lease, fmt.Sprintf("cluster lock %s/%s is held by %s (process %s) for incident %s; watching it for up to %s: it is taken over only if it stays unchanged that long (its holder gone)",
					t.Namespace, info.Lease, info.Holder, info.Process, info.Incident, upTo))
			}}
		h, err := l.Acquire(ctx)
		if err != nil {
			if apierrors.IsForbidden(err) {
				err = fmt.Errorf("%w: this identity may not take the cluster lock; run `rollback preflight` to see every permission the rollback needs", err)
			}
			return held, err
		}
		held = append(held, h)
	}
	return held, nil
}

// logAcquired journals a lock taken in namespace.
func (in *Incident) logAcquired(ctx context.Context, h *clusterlock.Held, namespace string) {
	info := h.Info()
	in.Log(ctx, journal.Entry{Action: journal.ActionLockAcquired, Target: "lease/" + info.Lease, Result: journal.ResultOK,
		Inputs: map[string]any{"namespace": namespace, "process": in.o.Process}})
	in.info("lease/"+info.Lease, "cluster lock %s/%s held by %s", namespace, info.Lease, in.o.Actor)
}

// keep renews held until Close and returns the context that ends when one
// of them is lost.
func (in *Incident) keep(ctx context.Context, held []*clusterlock.Held) context.Context {
	lctx, cancel := context.WithCancelCause(ctx)
	kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	in.mu.Lock()
	in.held = append(in.held, held...)
	prevStop := in.stopKeep
	in.stopKeep = func() {
		stop()
		cancel(nil)
		if prevStop != nil {
			prevStop()
		}
	}
	in.mu.Unlock()
	for _, h := range held {
		go func() {
			err := h.KeepAlive(kctx)
			if errors.Is(err, clusterlock.ErrLost) {
				in.Log(context.Background(), journal.Entry{Action: journal.ActionLockLost, Target: "lease/" + clusterlock.LeaseName(h.Lock().Name), Result: journal.ResultFailed, Error: err.Error()})
				cancel(fmt.Errorf("cluster lock lost while rolling back: another operator broke or took it, or it could not be renewed; nothing more is changed: run `rollback lock status %s` and then resume: %w", h.Lock().Name, err))
			}
		}()
	}
	return lctx
}

// unlock stops renewing and releases every lock taken.
func (in *Incident) unlock() {
	in.mu.Lock()
	held, stop := in.held, in.stopKeep
	in.held, in.stopKeep = nil, nil
	in.mu.Unlock()
	if stop != nil {
		stop()
	}
	in.release(held)
}

// release releases locks with a fresh context (the incident's may be cancelled).
func (in *Incident) release(held []*clusterlock.Held) {
	for i := len(held) - 1; i >= 0; i-- {
		h := held[i]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		target := "lease/" + clusterlock.LeaseName(h.Lock().Name)
		if err := h.Release(ctx); err != nil {
			in.Log(ctx, journal.Entry{Action: journal.ActionLockReleased, Target: target, Result: journal.ResultFailed, Error: err.Error()})
		} else {
			in.Log(ctx, journal.Entry{Action: journal.ActionLockReleased, Target: target, Result: journal.ResultOK})
		}
		cancel()
	}
}
