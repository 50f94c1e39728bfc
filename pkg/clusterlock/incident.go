package clusterlock

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"
)

// HeldFor returns the rollback leases of leases' namespace held for
// incident, by any process, as Status describes them (Expired by clk), by
// lease name. Info.Name is the lease's name without "rollback-": the caller
// knows what it locks better.
func HeldFor(ctx context.Context, leases coordinationv1client.LeaseInterface, clk clock.PassiveClock, incident string) ([]*Info, error) {
	list, err := leases.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=rollback"})
	if err != nil {
		return nil, fmt.Errorf("list cluster locks: %w", err)
	}
	var out []*Info
	for i := range list.Items {
		lease := &list.Items[i]
		if lease.Annotations[AnnotationIncident] != incident || incident == "" {
			continue
		}
		info := infoOf(strings.TrimPrefix(lease.Name, "rollback-"), lease)
		if info.Holder == "" {
			continue
		}
		info.Expired = info.looksStaleAt(clk.Now())
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Lease < out[j].Lease })
	return out, nil
}
