package clusterlock

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Info is what a rollback lease records: who holds it, for which incident,
// since when and until when.
type Info struct {
	App       string        `json:"app"`
	Namespace string        `json:"namespace,omitempty"`
	Lease     string        `json:"lease"`
	Free      bool          `json:"free"`
	Holder    string        `json:"holder,omitempty"`
	Host      string        `json:"host,omitempty"`
	Incident  string        `json:"incident,omitempty"`
	Since     time.Time     `json:"since,omitzero"`
	Renewed   time.Time     `json:"renewed,omitzero"`
	Expires   time.Time     `json:"expires,omitzero"`
	Duration  time.Duration `json:"-"`
	// DurationSeconds is Duration in whole seconds, as the lease stores it.
	DurationSeconds int32 `json:"durationSeconds,omitempty"`
	// Expired is set by Status: the holder stopped renewing and anyone may
	// take the lock over.
	Expired bool `json:"expired,omitempty"`

	uid             types.UID
	resourceVersion string
}

// infoOf reads a lease.
func infoOf(app string, lease *coordinationv1.Lease) *Info {
	i := &Info{
		App:             app,
		Namespace:       lease.Namespace,
		Lease:           lease.Name,
		Holder:          deref(lease.Spec.HolderIdentity),
		Host:            lease.Annotations[AnnotationHost],
		Incident:        lease.Annotations[AnnotationIncident],
		uid:             lease.UID,
		resourceVersion: lease.ResourceVersion,
	}
	if lease.Spec.LeaseDurationSeconds != nil {
		i.DurationSeconds = *lease.Spec.LeaseDurationSeconds
		i.Duration = time.Duration(i.DurationSeconds) * time.Second
	}
	if lease.Spec.AcquireTime != nil {
		i.Since = lease.Spec.AcquireTime.Time
	} else {
		// A Lease written by another tool may lack acquireTime.
		i.Since = lease.CreationTimestamp.Time
	}
	switch {
	case lease.Spec.RenewTime != nil:
		i.Renewed = lease.Spec.RenewTime.Time
	case lease.Spec.AcquireTime != nil:
		i.Renewed = lease.Spec.AcquireTime.Time
	default:
		i.Renewed = lease.CreationTimestamp.Time
	}
	i.Expires = i.Renewed.Add(i.Duration)
	return i
}

// expiredAt reports whether the lease expired before now: renewTime +
// leaseDurationSeconds < now. A lease without holder counts as expired.
func (i *Info) expiredAt(now time.Time) bool {
	return i.Holder == "" || i.Expires.Before(now)
}
