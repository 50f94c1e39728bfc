package command

import (
	"os"
	"strings"

	"github.com/vibestack/rollback/pkg/journal"
)

// FaultEnv names the fault injection of the resume tests:
// ROLLBACK_FAULT=ACTION[@STEP[@TARGET]] kills the process (SIGKILL, as a
// crash would) right after the first journal entry with that action (and
// step, and target) is on disk, e.g. step.written@config: after the
// configuration's data was restored, before the restart;
// step.started@app@helmrelease/web: after the plan of the release's
// rollback was journaled, before Helm's rollback. It is for tests; never
// set it in production.
const FaultEnv = "ROLLBACK_FAULT"

// faultHook returns the journal hook of $ROLLBACK_FAULT, nil when unset.
func (f *Factory) faultHook() func(journal.Entry) {
	spec := f.Getenv(FaultEnv)
	if spec == "" {
		return nil
	}
	action, step, _ := strings.Cut(spec, "@")
	step, target, _ := strings.Cut(step, "@")
	return func(e journal.Entry) {
		if string(e.Action) != action || (step != "" && e.Step != step) || (target != "" && e.Target != target) {
			return
		}
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Kill()
		}
		select {} // the kill is asynchronous: nothing more happens here
	}
}
