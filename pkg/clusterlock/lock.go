// Package clusterlock makes one rollback of an application run at a time: a
// coordination.k8s.io/v1 Lease named rollback-APP in the application's
// namespace records who holds it, for which incident, since when, and
// expires when its holder stops renewing it.
package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
)

// The annotations a rollback lease carries besides its spec.
const (
	// AnnotationHolder is the holder identity (user@host).
	AnnotationHolder = "rollback.vibestack.dev/holder"
	// AnnotationIncident is the incident id the lock was taken for.
	AnnotationIncident = "rollback.vibestack.dev/incident"
	// AnnotationHost is the host the holder runs on.
	AnnotationHost = "rollback.vibestack.dev/host"
)

// DefaultDuration is how long a lease stays valid without renewal.
const DefaultDuration = 30 * time.Second

// maxAttempts bounds the create/get/update retries of one Acquire.
const maxAttempts = 3

// LeaseName returns the name of the Lease that locks rollbacks of app.
func LeaseName(app string) string { return "rollback-" + app }

// Lock describes the lock of one application's rollbacks. Leases must be
// scoped to the application's namespace.
type Lock struct {
	Leases   coordinationv1client.LeaseInterface
	Clock    clock.Clock
	App      string
	Holder   string // user@host
	Incident string
	Duration time.Duration // DefaultDuration when zero
}

// Held is an acquired lock. Renew it (or run KeepAlive) more often than its
// duration, and Release it when the rollback is over.
type Held struct {
	lock  *Lock
	lease *coordinationv1.Lease
}

// HeldError is the refusal Acquire returns when another holder has the lock.
type HeldError struct {
	Info *Info
}

// Error names the holder, the incident, since when and until when, and what to do.
func (e *HeldError) Error() string {
	i := e.Info
	return fmt.Sprintf("rollback of %s is locked by %s for incident %s since %s (expires %s unless renewed; lease %s/%s): "+
		"wait for that rollback to finish, or run `rollback lock break %s --yes -n %s` only if you are sure the holder is gone",
		i.App, i.Holder, orNone(i.Incident), i.Since.UTC().Format(time.RFC3339), i.Expires.UTC().Format(time.RFC3339),
		i.Namespace, i.Lease, i.App, i.Namespace)
}

// ErrLost means the lock is no longer ours: it was broken or taken over after
// it expired.
var ErrLost = errors.New("cluster lock lost")

func (l *Lock) duration() time.Duration {
	if l.Duration <= 0 {
		return DefaultDuration
	}
	return l.Duration
}

func (l *Lock) name() string { return LeaseName(l.App) }

// host returns the part of the holder identity after the last "@".
func (l *Lock) host() string {
	if i := strings.LastIndex(l.Holder, "@"); i >= 0 {
		return l.Holder[i+1:]
	}
	return ""
}

// fill sets lease's spec and annotations to a fresh hold by l at now.
func (l *Lock) fill(lease *coordinationv1.Lease, now time.Time) {
	lease.Name = l.name()
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[AnnotationHolder] = l.Holder
	lease.Annotations[AnnotationIncident] = l.Incident
	lease.Annotations[AnnotationHost] = l.host()
	if lease.Labels == nil {
		lease.Labels = map[string]string{}
	}
	lease.Labels["app.kubernetes.io/managed-by"] = "rollback"
	holder := l.Holder
	secs := durationSeconds(l.duration())
	t := metav1.NewMicroTime(now)
	transitions := int32(0)
	if lease.Spec.LeaseTransitions != nil {
		transitions = *lease.Spec.LeaseTransitions + 1
	}
	lease.Spec = coordinationv1.LeaseSpec{
		HolderIdentity:       &holder,
		LeaseDurationSeconds: &secs,
		AcquireTime:          &t,
		RenewTime:            &t,
		LeaseTransitions:     &transitions,
	}
}

// durationSeconds rounds d up to whole seconds, at least one.
func durationSeconds(d time.Duration) int32 {
	s := int32((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// ours reports whether lease is held by l's holder for l's incident.
func (l *Lock) ours(lease *coordinationv1.Lease) bool {
	return lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity == l.Holder &&
		lease.Annotations[AnnotationIncident] == l.Incident
}

// Acquire takes the lock: it creates the Lease, takes over an expired one, or
// takes back one this holder already holds for the same incident (a resumed
// rollback). A Lease held by someone else that has not expired is refused
// (exit code 2) with a *HeldError naming the holder. Every write carries the
// resourceVersion that was read, so of two racing acquirers only one wins.
func (l *Lock) Acquire(ctx context.Context) (*Held, error) {
	if l.App == "" || l.Holder == "" {
		return nil, outcome.AsRefused(errors.New("acquire cluster lock: application and holder are required"))
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		now := l.Clock.Now()
		fresh := &coordinationv1.Lease{}
		l.fill(fresh, now)
		created, err := l.Leases.Create(ctx, fresh, metav1.CreateOptions{})
		if err == nil {
			return &Held{lock: l, lease: created}, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("acquire cluster lock %s: create lease: %w", l.name(), err)
		}
		cur, err := l.Leases.Get(ctx, l.name(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // released between our create and get: try again
		}
		if err != nil {
			return nil, fmt.Errorf("acquire cluster lock %s: get lease: %w", l.name(), err)
		}
		info := infoOf(l.App, cur)
		if !l.ours(cur) && !info.expiredAt(now) {
			return nil, outcome.AsRefused(&HeldError{Info: info})
		}
		take := cur.DeepCopy()
		l.fill(take, now)
		updated, err := l.Leases.Update(ctx, take, metav1.UpdateOptions{})
		if err == nil {
			return &Held{lock: l, lease: updated}, nil
		}
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("acquire cluster lock %s: take over lease: %w", l.name(), err)
		}
		// Someone else wrote first: read again and decide again.
	}
	return nil, outcome.AsRefused(fmt.Errorf("acquire cluster lock %s: lease changed %d times while acquiring; another operator is racing for it: run `rollback lock status %s` and try again", l.name(), maxAttempts, l.App))
}

// Info returns what the held lease records.
func (h *Held) Info() *Info { return infoOf(h.lock.App, h.lease) }

// Renew extends the lease from now. It returns an error wrapping ErrLost
// when the lease was broken or taken over.
func (h *Held) Renew(ctx context.Context) error {
	l := h.lock
	for attempt := 0; attempt < maxAttempts; attempt++ {
		next := h.lease.DeepCopy()
		t := metav1.NewMicroTime(l.Clock.Now())
		next.Spec.RenewTime = &t
		updated, err := l.Leases.Update(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			h.lease = updated
			return nil
		}
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("renew cluster lock %s: lease was deleted (broken): %w", l.name(), ErrLost)
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("renew cluster lock %s: %w", l.name(), err)
		}
		cur, err := l.Leases.Get(ctx, l.name(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("renew cluster lock %s: lease was deleted (broken): %w", l.name(), ErrLost)
		}
		if err != nil {
			return fmt.Errorf("renew cluster lock %s: get lease: %w", l.name(), err)
		}
		if !l.ours(cur) || cur.UID != h.lease.UID {
			return fmt.Errorf("renew cluster lock %s: now held by %s for incident %s: %w",
				l.name(), deref(cur.Spec.HolderIdentity), orNone(cur.Annotations[AnnotationIncident]), ErrLost)
		}
		h.lease = cur
	}
	return fmt.Errorf("renew cluster lock %s: lease kept changing under us", l.name())
}

// KeepAlive renews the lease every third of its duration until ctx is done
// (then it returns nil). A failed renewal is retried at the next tick; it
// returns an error wrapping ErrLost when the lease is no longer ours or was
// not renewed within its duration.
func (h *Held) KeepAlive(ctx context.Context) error {
	l := h.lock
	every := l.duration() / 3
	lastOK := l.Clock.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.Clock.After(every):
		}
		err := h.Renew(ctx)
		switch {
		case err == nil:
			lastOK = l.Clock.Now()
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrLost):
			return err
		case l.Clock.Since(lastOK) >= l.duration():
			return fmt.Errorf("keep cluster lock %s: not renewed for %s (%v): %w", l.name(), l.duration(), err, ErrLost)
		}
	}
}

// Release deletes the lease if it is still ours; a lease that was broken or
// taken over is left alone. It is safe to call more than once.
func (h *Held) Release(ctx context.Context) error {
	l := h.lock
	lease := h.lease
	for attempt := 0; attempt < maxAttempts; attempt++ {
		uid, rv := lease.UID, lease.ResourceVersion
		err := l.Leases.Delete(ctx, l.name(), metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
		})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("release cluster lock %s: %w", l.name(), err)
		}
		cur, err := l.Leases.Get(ctx, l.name(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("release cluster lock %s: get lease: %w", l.name(), err)
		}
		if cur.UID != h.lease.UID || !l.ours(cur) {
			return nil // not ours any more: leave the new holder's lock alone
		}
		lease = cur
	}
	return fmt.Errorf("release cluster lock %s: lease kept changing under us", l.name())
}

// Status returns the lock's state; Info.Free is true when no lease exists.
func (l *Lock) Status(ctx context.Context) (*Info, error) {
	lease, err := l.Leases.Get(ctx, l.name(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &Info{App: l.App, Lease: l.name(), Free: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get cluster lock %s: %w", l.name(), err)
	}
	info := infoOf(l.App, lease)
	info.Expired = info.expiredAt(l.Clock.Now())
	return info, nil
}

// Break deletes the lease whoever holds it and returns what it recorded;
// Info.Free is true (nothing was done) when there was no lease. The delete
// carries the UID and resourceVersion that were read, so a lease renewed or
// taken over in between is not deleted unseen.
func (l *Lock) Break(ctx context.Context) (*Info, error) {
	info, err := l.Status(ctx)
	if err != nil || info.Free {
		return info, err
	}
	uid, rv := info.uid, info.resourceVersion
	err = l.Leases.Delete(ctx, l.name(), metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
	})
	switch {
	case err == nil:
		return info, nil
	case apierrors.IsNotFound(err):
		return &Info{App: l.App, Lease: l.name(), Free: true}, nil
	case apierrors.IsConflict(err):
		return nil, outcome.AsRefused(fmt.Errorf("break cluster lock %s: the lease changed while breaking it (renewed or taken over): run `rollback lock status %s` and decide again", l.name(), l.App))
	}
	return nil, fmt.Errorf("break cluster lock %s: %w", l.name(), err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
