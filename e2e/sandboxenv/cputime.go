package sandboxenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times; it is 100
// on every Linux architecture Go supports.
const clockTicks = 100

// CPUTime returns the CPU time (user + system) the sandbox process has used
// so far: etcd, the apiserver, the controllers and the pod simulator share
// that one process. Benchmarks subtract two readings to tell how much of a
// run's CPU the control plane spent.
func (sb *Sandbox) CPUTime() (time.Duration, error) {
	if sb.cmd == nil || sb.cmd.Process == nil {
		return 0, fmt.Errorf("sandbox process not running")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", sb.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read sandbox cpu time: %w", err)
	}
	// Fields after the parenthesized command name; utime and stime are
	// fields 14 and 15 of the whole line.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("read sandbox cpu time: short /proc stat line")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read sandbox cpu time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
