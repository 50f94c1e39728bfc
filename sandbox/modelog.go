package sandbox

import (
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// What a simulated container writes to its log, by mode. Healthy
// containers log their start, readiness and the requests their Service
// endpoint routes to them; a crashing one panics with a stack trace on
// stderr; an http500 one logs each 500 as an error. Containers that never
// start (pull errors, missing configuration) write nothing.

// openRun starts the log of the container's current run and writes its
// start lines; it forgets the log of the run before the previous one, as a
// kubelet keeps only the last terminated container.
func (ps *podSim) openRun(cs *containerSim, c corev1.Container, at time.Time) {
	if cs.restarts >= 2 {
		delete(ps.logs, cs.containerID(cs.restarts-2))
	}
	cs.log = newContainerLog()
	ps.logs[cs.containerID(cs.restarts)] = cs.log
	cs.readyLogged = false
	version := ImageTag(c.Image)
	lines := []string{
		fmt.Sprintf(`level=info msg="starting" container=%s image=%s version=%s attempt=%d`, c.Name, c.Image, version, cs.restarts),
	}
	switch cs.mode.Kind {
	case KindCrash:
		lines = append(lines, `level=info msg="loading configuration"`)
	case KindOOM:
		lines = append(lines, `level=info msg="loading cache into memory"`, `level=warn msg="memory usage above 90% of the limit"`)
	case KindUnready:
		lines = append(lines, `level=info msg="listening" addr=:8080`,
			`level=warn msg="readiness check failing" err="dependency unavailable (sandbox mode unready)"`)
	case KindSlow:
		lines = append(lines, `level=info msg="listening" addr=:8080`,
			fmt.Sprintf(`level=info msg="warming up" expected=%s`, cs.mode.Delay))
	default:
		lines = append(lines, `level=info msg="listening" addr=:8080`)
	}
	cs.log.write(at, false, lines...)
}

// logReady writes the line of a container becoming ready, once per run.
func (cs *containerSim) logReady(at time.Time) {
	if cs.log == nil || cs.readyLogged {
		return
	}
	cs.readyLogged = true
	cs.log.write(at, false, `level=info msg="ready to serve requests"`)
}

// endRun writes the last lines of a run that crashes (an OOM kill writes
// nothing: the kernel kills the process) and closes its log.
func (cs *containerSim) endRun(c corev1.Container, at time.Time) {
	if cs.log == nil {
		return
	}
	if cs.mode.Kind == KindCrash {
		cs.log.write(at, true,
			`level=error msg="cannot start" err="sandbox mode crash: exiting with code 1"`,
			fmt.Sprintf("panic: sandbox mode crash: %s cannot start (image %s)", c.Name, c.Image),
			"",
			"goroutine 1 [running]:",
			"main.mustStart(...)",
			"\t/src/app/main.go:42 +0x1c5",
			"main.main()",
			"\t/src/app/main.go:17 +0x65",
		)
	}
	cs.log.close()
}

// logRequest writes the access-log line of one request an endpoint routed
// to this container.
func (l *containerLog) logRequest(at time.Time, method, path string, code int) {
	if code >= http.StatusInternalServerError {
		l.write(at, true, fmt.Sprintf(`level=error msg="request failed" method=%s path=%s status=%d err="internal server error (sandbox mode http500)"`, method, path, code))
		return
	}
	l.write(at, false, fmt.Sprintf(`level=info msg="request" method=%s path=%s status=%d`, method, path, code))
}

// initLog is the log of an init container, which the sandbox runs to
// completion at once.
func initLog(c corev1.Container, at time.Time) *containerLog {
	l := newContainerLog()
	l.write(at, false,
		fmt.Sprintf(`level=info msg="init starting" container=%s image=%s`, c.Name, c.Image),
		`level=info msg="init complete"`)
	l.close()
	return l
}
