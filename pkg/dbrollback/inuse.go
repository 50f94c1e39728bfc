package dbrollback

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// opener is a process that has a file open.
type opener struct {
	PID     int
	Command string
}

func (o opener) String() string { return fmt.Sprintf("pid %d (%s)", o.PID, o.Command) }

// openersOf returns the other processes that have one of paths open, read
// from /proc (Linux); where /proc cannot be read it finds none. Only the
// processes this user may inspect are seen: run as the file's owner or root.
func openersOf(paths ...string) []opener {
	want := map[string]bool{}
	for _, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			want[abs] = true
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				want[real] = true
			}
		}
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []opener
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err == nil && want[strings.TrimSuffix(target, " (deleted)")] {
				out = append(out, opener{PID: pid, Command: commandOf(pid)})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// commandOf returns the command line of pid (its name when that is empty).
func commandOf(pid int) string {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(b) > 0 {
		cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if len(cmd) > 80 {
			cmd = cmd[:77] + "..."
		}
		return cmd
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "?"
}
