package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/vibestack/rollback/bench/benchcmd"
)

const sectionTitle = "## Database"

// results are the samples of one benchmark run, in seconds.
type results struct {
	started, finished            time.Time
	rows                         int
	dbSize, dumpSize, backupSize int64
	raw, undo, undoTotal         []float64
}

// markdown renders the section of docs/benchmarks.md.
func (r results) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("%s", sectionTitle)
	w("")
	w("Measured by `make bench-db` (`go run ./bench/db -rows %d -runs %d`) on %s, %d CPUs (%s, shared with other work), %s, %s; total run time %s.",
		r.rows, len(r.raw), r.started.UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.GOARCH, runtime.Version(), toolVersion("pg_dump"), r.finished.Sub(r.started).Round(time.Second))
	w("The backup + verify phase of `rollback db undo --steps 1` against what the runbook does by hand, a plain `pg_dump -Fc > file`")
	w("of the same database, alternating the two (and which one goes first); medians.")
	w("")
	w("**Setup.** Table `events`, %s rows (bigint id, int, text kind, a 160-character hex payload, timestamptz); database size", thousands(r.rows))
	w("%.0f MB. The plain `pg_dump -Fc` file is %.0f MB (compressed at pg_dump's default level); rollback's backup, an uncompressed", float64(r.dbSize)/1e6, float64(r.dumpSize)/1e6)
	w("custom-format archive (`pg_dump -Fc -Z0`), is %.0f MB. Migrations: golang-migrate; the reverted one drops a view, so the revert", float64(r.backupSize)/1e6)
	w("itself takes well under a second.")
	w("")
	w("**How the backup is verified without doubling its cost.** The dump is streamed at the same time into the backup file,")
	w("into sha256 and into `pg_restore -f /dev/null`, which reads the whole archive back (every table's data turned into SQL)")
	w("while the dump is still running. When both exit 0, the file is fsynced and hashed again from disk, and must equal the")
	w("hash of the verified stream, so the file holds exactly the bytes that were read back. (`pg_restore --list` would be no")
	w("check: it reads only the table of contents and exits 0 on truncated and corrupted archives; the end-to-end tests show")
	w("that `pg_restore -f /dev/null` rejects both.) The archive is not compressed because compression is what bounds a dump")
	w("on a busy machine: the backup is there to be restored in the next minutes, not kept.")
	w("")
	w("| run (alternating) | plain `pg_dump -Fc` | undo backup + verify | whole `undo --steps 1` |")
	w("|---|---|---|---|")
	for i := range r.raw {
		first := "plain first"
		if i%2 == 1 {
			first = "undo first"
		}
		w("| %d (%s) | %.2f s | %.2f s | %.2f s |", i+1, first, r.raw[i], r.undo[i], r.undoTotal[i])
	}
	raw, undo := benchcmd.Median(r.raw), benchcmd.Median(r.undo)
	w("| **median** | **%.2f s** | **%.2f s** | **%.2f s** |", raw, undo, benchcmd.Median(r.undoTotal))
	w("")
	ok := "met"
	if undo > 1.25*raw {
		ok = "**not met**"
	}
	w("**Ratio backup + verify / plain pg_dump: %.2f** (goal <= 1.25: %s). The price is disk space: the backup takes %.1f", undo/raw, ok, float64(r.backupSize)/float64(max(r.dumpSize, 1)))
	w("times the space of the compressed dump; `rollback preflight` compares the backup directory's free space with the database's size.")
	w("")
	return b.String()
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// toolVersion is the first line of `bin --version`.
func toolVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return bin + " (not found)"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}
