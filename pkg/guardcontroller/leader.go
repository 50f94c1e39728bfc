package guardcontroller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Leader election defaults.
const (
	// LeaseName is the name of the Lease the replicas compete for.
	LeaseName = "rollback-guard-controller"
	// DefaultLeaseNamespace is used when POD_NAMESPACE is not set.
	DefaultLeaseNamespace = "rollback-system"
	// DefaultLeaseDuration, DefaultRenewDeadline and DefaultRetryPeriod are client-go's usual values.
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// ErrLostLeadership is returned when this replica lost the Lease: it stopped
// guarding at once and should exit so that it restarts as a candidate.
var ErrLostLeadership = errors.New("lost the leadership of the guard controller")

// LeaderElection configures the Lease of the controller's replicas.
type LeaderElection struct {
	// Client reaches the Lease's namespace.
	Client kubernetes.Interface
	// Namespace holds the Lease.
	Namespace string
	// Identity is this replica's name in the Lease (hostname_pid).
	Identity      string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// OnLeader is called when this replica becomes (true) or stops being (false) the leader.
	OnLeader func(bool)
}

// DefaultIdentity returns hostname_pid.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s_%d", host, os.Getpid())
}

// LeaseNamespace returns POD_NAMESPACE from getenv, else DefaultLeaseNamespace.
func LeaseNamespace(getenv func(string) string) string {
	if ns := getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return DefaultLeaseNamespace
}

// Run campaigns for the Lease and runs lead while this replica is the leader.
// lead's context ends the moment the leadership is lost. Run returns nil when
// ctx ends (the Lease is released), ErrLostLeadership when the Lease was lost,
// or lead's error.
func (le LeaderElection) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metaOf(le.Namespace),
		Client:     le.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
	}
	var leadErr error
	leadDone := make(chan struct{})
	leading := make(chan struct{})
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(le.LeaseDuration, DefaultLeaseDuration),
		RenewDeadline:   orDefault(le.RenewDeadline, DefaultRenewDeadline),
		RetryPeriod:     orDefault(le.RetryPeriod, DefaultRetryPeriod),
		ReleaseOnCancel: true,
		Name:            LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				close(leading)
				defer close(leadDone)
				if le.OnLeader != nil {
					le.OnLeader(true)
				}
				leadErr = lead(lctx)
			},
			OnStoppedLeading: func() {
				if le.OnLeader != nil {
					le.OnLeader(false)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	elector.Run(ctx) // returns when ctx ends or the leadership is lost
	led := false
	select {
	case <-leading:
		led = true
		<-leadDone // lead's context is cancelled; wait until it stopped guarding
	default:
	}
	switch {
	case leadErr != nil && !errors.Is(leadErr, context.Canceled):
		return leadErr
	case ctx.Err() != nil:
		return nil
	case led:
		return ErrLostLeadership
	}
	return fmt.Errorf("leader election in namespace %s ended without leading", le.Namespace)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// metaOf returns the ObjectMeta of the controller's Lease in namespace.
func metaOf(namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: LeaseName, Namespace: namespace}
}
