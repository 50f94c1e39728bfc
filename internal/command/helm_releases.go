package command

import (
	"github.com/vibestack/rollback/pkg/helmtarget"
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
