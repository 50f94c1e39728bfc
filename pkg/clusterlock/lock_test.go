package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

var t0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// newClientset returns a fake clientset whose leases get a new
// resourceVersion on every write and whose updates must carry the current
// one, as the API server does.
func newClientset() *fake.Clientset {
	cs := fake.NewClientset()
	var rv atomic.Int64
	bump := func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(interface{ GetObject() runtime.Object }).GetObject()
		if a.GetVerb() == "update" {
			l := obj.(*coordinationv1.Lease)
			cur, err := cs.Tracker().Get(a.GetResource(), a.GetNamespace(), l.Name)
			if err != nil {
				return true, nil, err
			}
			if cur.(*coordinationv1.Lease).ResourceVersion != l.ResourceVersion {
				return true, nil, apierrors.NewConflict(a.GetResource().GroupResource(), l.Name, errors.New("resourceVersion changed"))
			}
		}
		if l, ok := obj.(*coordinationv1.Lease); ok {
			l.ResourceVersion = fmt.Sprint(rv.Add(1))
		}
		return false, nil, nil
	}
	cs.PrependReactor("create", "leases", bump)
	cs.PrependReactor("update", "leases", bump)
	return cs
}

func newLock(cs *fake.Clientset, clk *clocktesting.FakeClock, holder, process, incident string) *Lock {
	return &Lock{
		Leases: cs.CoordinationV1().Leases("shop"), Clock: clk,
		Name: "web", Holder: holder, Process: process, Incident: incident, Duration: 30 * time.Second,
	}
}

// acquireAsync runs l.Acquire in the background.
func acquireAsync(l *Lock) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := l.Acquire(context.Background())
		done <- err
	}()
	return done
}

// waitFor returns true once clk has a waiter, false if done fired first.
func waitFor(t *testing.T, clk *clocktesting.FakeClock, done <-chan error) (error, bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !clk.HasWaiters() {
		select {
		case err := <-done:
			return err, false
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("acquire neither waited nor returned")
		}
		time.Sleep(time.Millisecond)
	}
	return nil, true
}

func TestAcquire(t *testing.T) {
	tests := []struct {
		name      string
		holder    string
		process   string
		incident  string
		skew      time.Duration // the taker's clock ahead of the holder's
		elapsed   time.Duration // holder's clock since its last renewal
		renew     bool          // the holder renews while the taker watches
		wantWatch bool
		wantWin   bool
	}{
		{"fresh lease of another holder refused at once", "bob@b", "p2", "INC-2", 0, 10 * time.Second, false, false, false},
		{"taker 45s ahead watches, the holder renews: refused", "bob@b", "p2", "INC-2", 45 * time.Second, time.Second, true, true, false},
		{"taker 45s ahead, holder gone: taken over after watching", "bob@b", "p2", "INC-2", 45 * time.Second, time.Second, false, true, true},
		{"stale lease, holder gone: taken over after watching", "bob@b", "p2", "INC-2", 0, 40 * time.Second, false, true, true},
		{"same process takes it back", "alice@a", "p1", "INC-1", 0, 10 * time.Second, false, false, true},
		{"same holder and incident, other process alive: refused", "alice@a", "p3", "INC-1", 0, time.Second, true, true, false},
		{"same holder and incident, other process gone: taken over", "alice@a", "p3", "INC-1", 0, time.Second, false, true, true},
		{"other holder, same incident, first gone: taken over", "bob@b", "p2", "INC-1", 0, time.Second, false, true, true},
		{"same holder, other incident refused", "alice@a", "p3", "INC-9", 0, 10 * time.Second, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cs := newClientset()
			aliceClk := clocktesting.NewFakeClock(t0)
			alice, err := newLock(cs, aliceClk, "alice@a", "p1", "INC-1").Acquire(ctx)
			if err != nil {
				t.Fatalf("first acquire: %v", err)
			}
			aliceClk.Step(tt.elapsed)
			takerClk := clocktesting.NewFakeClock(aliceClk.Now().Add(tt.skew))
			taker := newLock(cs, takerClk, tt.holder, tt.process, tt.incident)
			done := acquireAsync(taker)
			err, watching := waitFor(t, takerClk, done)
			if watching != tt.wantWatch {
				t.Fatalf("watching = %v (err %v), want %v", watching, err, tt.wantWatch)
			}
			for watching {
				if tt.renew {
					aliceClk.Step(5 * time.Second)
					if err := alice.Renew(ctx); err != nil {
						t.Fatalf("renew: %v", err)
					}
				}
				takerClk.Step(pollInterval)
				err, watching = waitFor(t, takerClk, done)
				if takerClk.Since(t0.Add(tt.skew+tt.elapsed)) > time.Minute {
					t.Fatal("still watching after a minute")
				}
			}
			if tt.wantWin {
				if err != nil {
					t.Fatalf("acquire: %v", err)
				}
				st, _ := taker.Status(ctx)
				if st.Holder != tt.holder || st.Process != tt.process || st.Incident != tt.incident {
					t.Errorf("status = %+v", st)
				}
				if tt.wantWatch && takerClk.Since(t0.Add(tt.skew+tt.elapsed)) < 30*time.Second {
					t.Errorf("taken over after %s of watching, want the whole lease duration", takerClk.Since(t0.Add(tt.skew+tt.elapsed)))
				}
				if tt.process != "p1" {
					if err := alice.Renew(ctx); !errors.Is(err, ErrLost) {
						t.Errorf("old holder's renewal = %v, want ErrLost", err)
					}
				}
				return
			}
			var he *HeldError
			if !errors.As(err, &he) || outcome.KindOf(err) != outcome.Refused {
				t.Fatalf("err = %v (kind %s), want a refused *HeldError", err, outcome.KindOf(err))
			}
			if he.Renewed != tt.renew {
				t.Errorf("Renewed = %v, want %v", he.Renewed, tt.renew)
			}
			for _, want := range []string{"alice@a", "process p1", "INC-1", t0.Format(time.RFC3339), "rollback lock break web --yes"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestReleaseAndBreak(t *testing.T) {
	ctx := context.Background()
	cs := newClientset()
	clk := clocktesting.NewFakeClock(t0)
	alice := newLock(cs, clk, "alice@a", "p1", "INC-1")
	held, err := alice.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if st, _ := alice.Status(ctx); !st.Free {
		t.Fatalf("status after release = %+v, want free", st)
	}
	if _, err := alice.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	bob := newLock(cs, clk, "bob@b", "p2", "INC-2")
	info, err := bob.Break(ctx)
	if err != nil || info.Free || info.Holder != "alice@a" || info.Process != "p1" || info.Incident != "INC-1" || info.Host != "a" {
		t.Fatalf("break = %+v, %v", info, err)
	}
	if info, err := bob.Break(ctx); err != nil || !info.Free {
		t.Fatalf("break of a free lock = %+v, %v; want free", info, err)
	}
}

func TestKeepAlive(t *testing.T) {
	t.Run("renews every third of the duration until the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cs := newClientset()
		clk := clocktesting.NewFakeClock(t0)
		held, err := newLock(cs, clk, "alice@a", "p1", "INC-1").Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- held.KeepAlive(ctx) }()
		for i := 0; i < 3; i++ {
			for !clk.HasWaiters() {
				time.Sleep(time.Millisecond)
			}
			clk.Step(10 * time.Second)
		}
		for !clk.HasWaiters() { // the third renewal happened
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("keepalive: %v", err)
		}
		st, _ := newLock(cs, clk, "x@y", "", "").Status(context.Background())
		if !st.Renewed.Equal(t0.Add(30 * time.Second)) {
			t.Errorf("renewed = %v, want %v", st.Renewed, t0.Add(30*time.Second))
		}
	})
	t.Run("gives up before the lease expires when renewals fail", func(t *testing.T) {
		cs := newClientset()
		clk := clocktesting.NewFakeClock(t0)
		held, err := newLock(cs, clk, "alice@a", "p1", "INC-1").Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("connection refused")
		})
		done := make(chan error)
		go func() { done <- held.KeepAlive(context.Background()) }()
		var err2 error
		for stepped := time.Duration(0); ; stepped += 10 * time.Second {
			if e, waiting := waitFor(t, clk, done); !waiting {
				err2 = e
				break
			}
			if stepped > time.Minute {
				t.Fatal("keepalive did not give up")
			}
			clk.Step(10 * time.Second)
		}
		if !errors.Is(err2, ErrLost) || !strings.Contains(err2.Error(), "not renewed for 20s") {
			t.Fatalf("keepalive = %v, want ErrLost after 20s", err2)
		}
		if since := clk.Since(t0); since >= 30*time.Second {
			t.Errorf("gave up %s after the last renewal, want before the 30s duration", since)
		}
	})
}

func TestLeaseName(t *testing.T) {
	for in, want := range map[string]string{"web": "rollback-web", "deployment/web": "rollback-deployment-web", "StatefulSet/db": "rollback-statefulset-db"} {
		if got := LeaseName(in); got != want {
			t.Errorf("LeaseName(%q) = %q, want %q", in, got, want)
		}
	}
}
