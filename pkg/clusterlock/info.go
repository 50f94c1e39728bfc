package clusterlock

import (
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Info is what a rollback lease records: who holds it, for which incident,
// since when, and when it was last renewed by the holder's clock.
type Info struct {
	// Name is what is locked: an application or KIND/NAME of a workload.
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Lease     string `json:"lease"`
	Free      bool   `json:"free"`
	// Holder is user@host (or the controller's identity); Process tells
	// apart two processes of the same holder.
	Holder   string `json:"holder,omitempty"`
	Process  string `json:"process,omitempty"`
	Host     string `json:"host,omitempty"`
	Incident string `json:"incident,omitempty"`
	// Since and Renewed are the holder's timestamps (its clock).
	Since   time.Time `json:"since,omitzero"`
	Renewed time.Time `json:"renewed,omitzero"`
	// Expires is Renewed + the lease duration, by the holder's clock.
	Expires  time.Time     `json:"expires,omitzero"`
	Duration time.Duration `json:"-"`
	// DurationSeconds is Duration in whole seconds, as the lease stores it.
	DurationSeconds int32 `json:"durationSeconds,omitempty"`
	// Expired is set by Status: by this machine's clock, the holder's last
	// renewal is older than the lease duration. Clocks differ, so this is a
	// hint; Acquire takes a lease over only after watching it unchanged.
	Expired bool `json:"expired,omitempty"`

	uid             types.UID
	resourceVersion string
}

// infoOf reads a lease.
func infoOf(name string, lease *coordinationv1.Lease) *Info {
	i := &Info{
		Name:            name,
		Namespace:       lease.Namespace,
		Lease:           lease.Name,
		Holder:          lease.Annotations[AnnotationHolder],
		Process:         lease.Annotations[AnnotationProcess],
		Host:            lease.Annotations[AnnotationHost],
		Incident:        lease.Annotations[AnnotationIncident],
		uid:             lease.UID,
		resourceVersion: lease.ResourceVersion,
	}
	if id := deref(lease.Spec.HolderIdentity); i.Holder == "" && id != "" {
		// A Lease written by another tool: its holderIdentity is all there is.
		i.Holder = id
		if h, p, ok := strings.Cut(id, "/"); ok && i.Process == "" {
			i.Holder, i.Process = h, p
		}
	} else if id == "" {
		i.Holder = ""
	}
	if lease.Spec.LeaseDurationSeconds != nil {
		i.DurationSeconds = *lease.Spec.LeaseDurationSeconds
		i.Duration = time.Duration(i.DurationSeconds) * time.Second
	}
	if lease.Spec.AcquireTime != nil {
		i.Since = lease.Spec.AcquireTime.Time
	} else {
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

// looksStaleAt reports whether, by the local clock now, the holder's last
// renewal is older than the lease duration. It only decides whether Acquire
// watches the lease (a takeover needs the lease unchanged for its whole
// duration as observed here) or refuses at once.
func (i *Info) looksStaleAt(now time.Time) bool {
	return i.Holder == "" || i.Expires.Before(now)
}
