package helmtarget

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the program when this process dies
// (a crash, SIGKILL): no Helm operation goes on that nobody reads.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
