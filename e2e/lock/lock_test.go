//go:build e2e

package lock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/outcome"
)

func TestAcquireRefuseRelease(t *testing.T) {
	ctx := context.Background()
	ns := sb.Namespace(t)
	held, err := lockAs(ns, "alice@laptop", "INC-1", 30*time.Second).Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	lease, err := sb.Clientset.CoordinationV1().Leases(ns).Get(ctx, "rollback-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *lease.Spec.HolderIdentity != "alice@laptop/p-alice" || lease.Annotations[clusterlock.AnnotationProcess] != "p-alice" || *lease.Spec.LeaseDurationSeconds != 30 || lease.Spec.AcquireTime == nil || lease.Spec.RenewTime == nil ||
		lease.Annotations[clusterlock.AnnotationIncident] != "INC-1" || lease.Annotations[clusterlock.AnnotationHost] != "laptop" || lease.Annotations[clusterlock.AnnotationHolder] != "alice@laptop" {
		t.Errorf("lease = %+v", lease)
	}

	_, err = lockAs(ns, "bob@desk", "INC-2", 30*time.Second).Acquire(ctx)
	if exitcode.Code(err) != exitcode.Refused {
		t.Fatalf("second holder: %v (code %d), want refused", err, exitcode.Code(err))
	}
	for _, want := range []string{"alice@laptop (process p-alice)", "INC-1", "since", "rollback lock break web --yes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	t.Logf("refusal: %v", err)

	if err := held.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	if st, err := lockAs(ns, "x@y", "", 0).Status(ctx); err != nil || !st.Free {
		t.Fatalf("status after release = %+v, %v", st, err)
	}
	if _, err := lockAs(ns, "bob@desk", "INC-2", 30*time.Second).Acquire(ctx); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
}

func TestExpiryLetsSecondHolderTakeOver(t *testing.T) {
	ctx := context.Background()
	ns := sb.Namespace(t)
	alice, err := lockAs(ns, "alice@laptop", "INC-1", 2*time.Second).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Renewing keeps it: 3 s later it is still held.
	kctx, stop := context.WithCancel(ctx)
	kept := make(chan error, 1)
	go func() { kept <- alice.KeepAlive(kctx) }()
	time.Sleep(3 * time.Second)
	if _, err := lockAs(ns, "bob@desk", "INC-2", 2*time.Second).Acquire(ctx); exitcode.Code(err) != exitcode.Refused {
		t.Fatalf("acquire of a renewed lock: %v, want refused", err)
	}
	// The holder stops renewing (its process died): after 2 s bob takes over.
	stop()
	if err := <-kept; err != nil {
		t.Fatalf("keepalive: %v", err)
	}
	start := time.Now()
	var bob *clusterlock.Held
	for bob == nil {
		bob, err = lockAs(ns, "bob@desk", "INC-2", 2*time.Second).Acquire(ctx)
		if err != nil && exitcode.Code(err) != exitcode.Refused {
			t.Fatal(err)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no takeover after %s: %v", time.Since(start), err)
		}
		if bob == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("took over %s after the holder stopped renewing", time.Since(start).Round(10*time.Millisecond))
	if got := bob.Info(); got.Holder != "bob@desk" || got.Incident != "INC-2" {
		t.Errorf("after takeover: %+v", got)
	}
	// The old holder learns it lost the lock, and its release leaves bob's alone.
	if err := alice.Renew(ctx); !errors.Is(err, clusterlock.ErrLost) {
		t.Errorf("old holder renew = %v, want ErrLost", err)
	}
	if err := alice.Release(ctx); err != nil {
		t.Errorf("old holder release: %v", err)
	}
	if st, _ := lockAs(ns, "x@y", "", 0).Status(ctx); st.Holder != "bob@desk" {
		t.Errorf("old holder's release removed the new lock: %+v", st)
	}
}

func TestConcurrentAcquireOneWins(t *testing.T) {
	ctx := context.Background()
	for _, expiredFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("over expired lease %v", expiredFirst), func(t *testing.T) {
			ns := sb.Namespace(t)
			if expiredFirst {
				if _, err := lockAs(ns, "ghost@gone", "INC-0", time.Second).Acquire(ctx); err != nil {
					t.Fatal(err)
				}
				time.Sleep(1500 * time.Millisecond)
			}
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = lockAs(ns, fmt.Sprintf("op%d@host", i), fmt.Sprintf("INC-%d", i+1), 30*time.Second).Acquire(ctx)
				}()
			}
			close(start)
			wg.Wait()
			winners := 0
			for i, err := range errs {
				switch {
				case err == nil:
					winners++
				case exitcode.Code(err) != exitcode.Refused:
					t.Errorf("acquirer %d: unexpected error %v", i, err)
				}
			}
			if winners != 1 {
				t.Fatalf("%d acquirers won, want exactly 1: %v", winners, errs)
			}
		})
	}
}

func TestBreak(t *testing.T) {
	ctx := context.Background()
	ns := sb.Namespace(t)
	alice, err := lockAs(ns, "alice@laptop", "INC-1", 30*time.Second).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info, err := lockAs(ns, "bob@desk", "", 0).Break(ctx)
	if err != nil || info.Holder != "alice@laptop" || info.Incident != "INC-1" {
		t.Fatalf("break = %+v, %v", info, err)
	}
	if err := alice.Renew(ctx); !errors.Is(err, clusterlock.ErrLost) {
		t.Errorf("renew of a broken lock = %v, want ErrLost", err)
	}
	if _, err := lockAs(ns, "bob@desk", "INC-2", 30*time.Second).Acquire(ctx); err != nil {
		t.Fatalf("acquire after break: %v", err)
	}
}

// TestTakerClockAhead: a taker whose clock runs 45 s ahead sees a lease
// renewed a second ago as stale by its timestamps; it must watch it, see it
// renewed, and refuse, never take it over.
func TestTakerClockAhead(t *testing.T) {
	ctx := context.Background()
	ns := sb.Namespace(t)
	alice, err := lockAs(ns, "alice@laptop", "INC-1", 3*time.Second).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = alice.KeepAlive(kctx) }()
	time.Sleep(time.Second)
	bob := lockAs(ns, "bob@desk", "INC-2", 3*time.Second)
	bob.Clock = clusterlock.SkewedClock{WithTicker: clock.RealClock{}, Offset: 45 * time.Second}
	var watched bool
	bob.OnWait = func(*clusterlock.Info, time.Duration) { watched = true }
	_, err = bob.Acquire(ctx)
	var he *clusterlock.HeldError
	if !errors.As(err, &he) || !he.Renewed || !watched {
		t.Fatalf("taker 45s ahead: err %v (watched %v), want a refusal after seeing the lease renewed", err, watched)
	}
	t.Logf("refusal: %v", err)
	// Once the holder stops renewing, the same taker takes it over after
	// watching it unchanged for its duration, its clock notwithstanding.
	stop()
	start := time.Now()
	if _, err := bob.Acquire(ctx); err != nil {
		t.Fatalf("takeover after the holder stopped: %v", err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("took over after %s, want at least the lease duration of watching", waited)
	}
}

// TestSameHolderOtherProcess: two processes of the same user for the same
// incident (rollback run --resume while the first run still runs) are two
// holders: the second is refused while the first renews.
func TestSameHolderOtherProcess(t *testing.T) {
	ctx := context.Background()
	ns := sb.Namespace(t)
	first, err := lockAs(ns, "alice@laptop", "INC-1", 3*time.Second).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = first.KeepAlive(kctx) }()
	second := lockAs(ns, "alice@laptop", "INC-1", 3*time.Second)
	second.Process = "p-alice-2"
	if _, err := second.Acquire(ctx); outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "process p-alice") {
		t.Fatalf("second process of the same holder and incident: %v, want refused naming the first process", err)
	}
	// The same process takes its own lease back at once.
	again := lockAs(ns, "alice@laptop", "INC-1", 3*time.Second)
	if _, err := again.Acquire(ctx); err != nil {
		t.Fatalf("same process: %v", err)
	}
}
