package command

import (
	"fmt"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/runbook"
)

// releases returns how this process rolls Helm releases back: in the
// rollback-helm program (Helm's library stays out of this process's
// memory), reaching the cluster with this command's cluster flags. Without
// the program every operation fails with how to install it.
func (f *Factory) releases() *helmtarget.Exec {
	bin, err := findHelmBinary()
	x := &helmtarget.Exec{Binary: bin, Missing: err}
	if f.Kube != nil {
		x.Flags = f.Kube.Args()
	}
	return x
}

// releasesFor returns the releases of a runbook that lists Helm releases
// (nil for one that lists none), refusing when rollback-helm is missing.
func (f *Factory) releasesFor(rb *runbook.Runbook) (helmtarget.Releases, error) {
	if len(rb.HelmReleases) == 0 {
		return nil, nil
	}
	x := f.releases()
	if x.Binary == "" {
		return nil, exitcode.AsRefused(fmt.Errorf("the runbook lists Helm releases: %w; nothing was changed", x.Missing))
	}
	return x, nil
}
