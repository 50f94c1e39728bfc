// Package clusterlock makes one rollback of an application or a workload run
// at a time: a coordination.k8s.io/v1 Lease named rollback-NAME in the
// namespace records who holds it (user@host and a per-process nonce), for
// which incident and since when.
//
// Expiry is judged the way client-go's leader election judges it: by how
// long this observer has seen the Lease unchanged (the same resourceVersion),
// never by comparing the holder's renewTime with the local clock. A taker
// whose clock runs ahead therefore never takes over a Lease that is being
// renewed, and a holder stops its work (KeepAlive returns ErrLost) a third of
// the lease duration before anyone may take over.
package clusterlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	// AnnotationHolder is the holder's name (user@host).
	AnnotationHolder = "rollback.vibestack.dev/holder"
	// AnnotationIncident is the incident id the lock was taken for.
	AnnotationIncident = "rollback.vibestack.dev/incident"
	// AnnotationHost is the host the holder runs on.
	AnnotationHost = "rollback.vibestack.dev/host"
	// AnnotationProcess is the holder process's nonce: two processes of the
	// same user for the same incident are two holders.
	AnnotationProcess = "rollback.vibestack.dev/process"
)

// DefaultDuration is how long a lease stays valid without renewal.
const DefaultDuration = 30 * time.Second

// maxAttempts bounds the create/get/update retries of one write.
const maxAttempts = 3

// pollInterval is how often Acquire reads a lease it is watching for expiry.
const pollInterval = 500 * time.Millisecond

// LeaseName returns the name of the Lease that locks rollbacks of name: an
// application ("web" -> rollback-web) or a workload given as KIND/NAME
// ("deployment/web" -> rollback-deployment-web).
func LeaseName(name string) string {
	return "rollback-" + strings.ToLower(strings.ReplaceAll(name, "/", "-"))
}

// NewProcessID returns a random nonce that identifies one process among the
// holders of the same name: call it once per process and pass it to every
// Lock of that process.
func NewProcessID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Lock describes the lock of one application's or workload's rollbacks.
// Leases must be scoped to the namespace of what is locked.
type Lock struct {
	Leases coordinationv1client.LeaseInterface
	// Clock is the local clock: it measures how long a lease stays
	// unchanged and when to renew, never compared with a lease's timestamps.
	Clock clock.Clock
	// Name is what is locked: an application or KIND/NAME of a workload.
	Name string
	// Holder is who holds it: user@host, or the controller's identity.
	Holder string
	// Process tells this process from others with the same Holder (see
	// NewProcessID); Acquire sets a fresh one when empty.
	Process  string
	Incident string
	Duration time.Duration // DefaultDuration when zero
	// OnWait, when set, is told that Acquire watches a lease whose holder
	// may be gone before taking it over, and for how long at most.
	OnWait func(info *Info, upTo time.Duration)
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
	// Renewed is true when the holder renewed the lease while Acquire watched it.
	Renewed bool
}

// Error names the holder, the incident, since when, and what to do.
func (e *HeldError) Error() string {
	i := e.Info
	alive := fmt.Sprintf("last renewed %s by the holder's clock", i.Renewed.UTC().Format(time.RFC3339))
	if e.Renewed {
		alive = "renewed while this rollback watched it: the holder is alive"
	}
	return fmt.Sprintf("rollback of %s is locked by %s (process %s) for incident %s since %s (%s; lease %s/%s, expires %s after its last renewal): "+
		"wait for that rollback to finish, or run `rollback lock break %s --yes -n %s` only if you are sure the holder is gone",
		i.Name, i.Holder, orNone(i.Process), orNone(i.Incident), i.Since.UTC().Format(time.RFC3339), alive,
		i.Namespace, i.Lease, i.Duration, i.Name, i.Namespace)
}

// ErrLost means the lock is no longer ours: it was broken, taken over, or
// could not be renewed in time.
var ErrLost = errors.New("cluster lock lost")

func (l *Lock) duration() time.Duration {
	if l.Duration <= 0 {
		return DefaultDuration
	}
	return l.Duration
}

// RenewInterval is how often KeepAlive renews: a third of the duration.
func (l *Lock) RenewInterval() time.Duration { return l.duration() / 3 }

// RenewDeadline is how long KeepAlive keeps trying to renew before it gives
// up and reports ErrLost: two thirds of the duration, so that the work stops
// before any observer may take the lease over.
func (l *Lock) RenewDeadline() time.Duration { return l.duration() * 2 / 3 }

func (l *Lock) name() string { return LeaseName(l.Name) }

// identity is the lease's holderIdentity: holder/process.
func (l *Lock) identity() string { return l.Holder + "/" + l.Process }

// host returns the part of the holder after the last "@".
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
	lease.Annotations[AnnotationProcess] = l.Process
	if lease.Labels == nil {
		lease.Labels = map[string]string{}
	}
	lease.Labels["app.kubernetes.io/managed-by"] = "rollback"
	id := l.identity()
	secs := durationSeconds(l.duration())
	t := metav1.NewMicroTime(now)
	transitions := int32(0)
	if lease.Spec.LeaseTransitions != nil {
		transitions = *lease.Spec.LeaseTransitions + 1
	}
	lease.Spec = coordinationv1.LeaseSpec{
		HolderIdentity:       &id,
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

// ours reports whether lease is held by this very process for l's incident.
func (l *Lock) ours(lease *coordinationv1.Lease) bool {
	return lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity == l.identity() &&
		lease.Annotations[AnnotationIncident] == l.Incident
}

// sameIncident reports whether lease is held for the same incident by
// another process: most likely an interrupted run being resumed, or a
// controller replica that died while its successor continues its incident.
func (l *Lock) sameIncident(info *Info) bool {
	return info.Incident == l.Incident && l.Incident != ""
}

// observation is what Acquire saw of a lease held by someone else.
type observation struct {
	resourceVersion string
	since           time.Time // local time of the first sight of that version
}

// Acquire takes the lock: it creates the Lease, takes back one this process
// holds, or takes over one whose holder is gone. A lease held by someone
// else is refused (exit code 2) with a *HeldError naming the holder, unless
// it stays unchanged (not renewed) for its whole duration while Acquire
// watches it: then it is taken over. Acquire watches only a lease that
// looks stale by its own timestamps, or one held by the same holder for the
// same incident (a resumed run whose first process died); a lease that is
// renewed while it watches is refused at once. Every write carries the
// resourceVersion that was read, so of two racing acquirers only one wins.
func (l *Lock) Acquire(ctx context.Context) (*Held, error) {
	if l.Name == "" || l.Holder == "" {
		return nil, outcome.AsRefused(errors.New("acquire cluster lock: the name of what is locked and the holder are required"))
	}
	if l.Process == "" {
		l.Process = NewProcessID()
	}
	var obs *observation
	maxWait := 2 * l.duration()
	for attempt := 0; attempt < 4*maxAttempts; {
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
			attempt++
			continue // released between our create and get: try again
		}
		if err != nil {
			return nil, fmt.Errorf("acquire cluster lock %s: get lease: %w", l.name(), err)
		}
		info := infoOf(l.Name, cur)
		if !l.ours(cur) && info.Holder != "" {
			if obs != nil && obs.resourceVersion != cur.ResourceVersion {
				return nil, outcome.AsRefused(&HeldError{Info: info, Renewed: true})
			}
			if obs == nil {
				if !info.looksStaleAt(now) && !l.sameIncident(info) {
					return nil, outcome.AsRefused(&HeldError{Info: info})
				}
				if info.Duration > maxWait {
					return nil, outcome.AsRefused(&HeldError{Info: info})
				}
				obs = &observation{resourceVersion: cur.ResourceVersion, since: now}
				if l.OnWait != nil {
					l.OnWait(info, info.Duration)
				}
			}
			if waited := now.Sub(obs.since); waited <= info.Duration {
				select {
				case <-ctx.Done():
					return nil, fmt.Errorf("acquire cluster lock %s: %w", l.name(), ctx.Err())
				case <-l.Clock.After(min(pollInterval, info.Duration-waited+time.Millisecond)):
				}
				continue
			}
			// Unchanged for its whole duration as seen here: the holder is gone.
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
		attempt++
		obs = nil // someone else wrote first: read again and decide again
	}
	return nil, outcome.AsRefused(fmt.Errorf("acquire cluster lock %s: the lease kept changing while acquiring it; another operator is racing for it: run `rollback lock status %s` and try again", l.name(), l.Name))
}

// Info returns what the held lease records.
func (h *Held) Info() *Info { return infoOf(h.lock.Name, h.lease) }

// Lock returns the lock that was acquired.
func (h *Held) Lock() *Lock { return h.lock }

// Renew extends the lease. It returns an error wrapping ErrLost when the
// lease was broken or taken over.
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
			info := infoOf(l.Name, cur)
			return fmt.Errorf("renew cluster lock %s: now held by %s (process %s) for incident %s: %w",
				l.name(), info.Holder, orNone(info.Process), orNone(info.Incident), ErrLost)
		}
		h.lease = cur
	}
	return fmt.Errorf("renew cluster lock %s: lease kept changing under us", l.name())
}

// KeepAlive renews the lease every RenewInterval until ctx is done (then it
// returns nil). A failed renewal is retried at the next tick. It returns an
// error wrapping ErrLost when the lease is no longer ours, or when no
// renewal succeeded for RenewDeadline: the caller must stop its work then,
// before another process may take the lease over.
func (h *Held) KeepAlive(ctx context.Context) error {
	l := h.lock
	lastOK := l.Clock.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.Clock.After(l.RenewInterval()):
		}
		left := l.RenewDeadline() - l.Clock.Since(lastOK)
		rctx, cancel := context.WithTimeout(ctx, max(left, time.Millisecond))
		err := h.Renew(rctx)
		cancel()
		switch {
		case err == nil:
			lastOK = l.Clock.Now()
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrLost):
			return err
		case l.Clock.Since(lastOK) >= l.RenewDeadline():
			return fmt.Errorf("keep cluster lock %s: not renewed for %s (%v); stopping before another process may take it over: %w",
				l.name(), l.RenewDeadline(), err, ErrLost)
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
		return &Info{Name: l.Name, Lease: l.name(), Free: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get cluster lock %s: %w", l.name(), err)
	}
	info := infoOf(l.Name, lease)
	info.Expired = info.looksStaleAt(l.Clock.Now())
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
		return &Info{Name: l.Name, Lease: l.name(), Free: true}, nil
	case apierrors.IsConflict(err):
		return nil, outcome.AsRefused(fmt.Errorf("break cluster lock %s: the lease changed while breaking it (renewed or taken over): run `rollback lock status %s` and decide again", l.name(), l.Name))
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
