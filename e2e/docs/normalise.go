package docs

import (
	"regexp"
	"strings"
)

// rule replaces what changes from run to run with a placeholder.
type rule struct {
	re   *regexp.Regexp
	repl string
}

// rules are applied in order to every line of the recorded and the new
// output before they are compared. Each one names what it stands for.
var rules = []rule{
	// the preflight's pods line reports the pods of a crash loop as it
	// finds them, between two restarts or during one
	{regexp.MustCompile(`^([!✓] pods\s+\S+\s+).*$`), "${1}POD HEALTH"},
	// entry numbers of a journal timeline, which notifications sent in the
	// background interleave
	{regexp.MustCompile(`^\d+(\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})`), "SEQ$1"},
	// incident ids: inc-20261126-040058-3e4b
	{regexp.MustCompile(`\binc-\d{8}-\d{6}-[0-9a-f]{4}\b`), "inc-ID"},
	// backup ids: 20261126T020432Z-postgres-shop-f0ce96
	{regexp.MustCompile(`\b\d{8}T\d{6}Z-([a-z]+)-([A-Za-z0-9_]+)-[0-9a-f]{6}\b`), "BACKUP-$1-$2"},
	// the resourceVersion column after a snapshot's name (and time) in tables
	{regexp.MustCompile(`(\.snap-\d{8}-\d{6}-[0-9a-f]{10}\s+(\d{4}-\d{2}-\d{2}T\S+\s+)?)\d+\b`), "${1}RV"},
	// snapshot names: app-settings.snap-20261126-021827-3d482f6c4e
	{regexp.MustCompile(`\.snap-\d{8}-\d{6}-[0-9a-f]{10}\b`), ".snap-TIME-HASH"},
	// timestamps: 2026-11-26T02:05:17.53Z, 2026-11-26 02:05:17Z, 2026-11-26 04:02
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?`), "TIME"},
	{regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}\b`), "TIME"},
	// loopback addresses: 127.0.0.1:39561
	{regexp.MustCompile(`\b127\.0\.0\.1:\d+\b`), "127.0.0.1:PORT"},
	// pods: web-7565d9897b-c8bhj (ReplicaSet hash and random suffix)
	{regexp.MustCompile(`\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b`), "$1-POD"},
	// ReplicaSets and pod-template hashes: web-54f4fc9648, hash 594b79fd97
	{regexp.MustCompile(`\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)-[bcdfghjklmnpqrstvwxz2456789]{8,10}\b`), "$1-RSHASH"},
	{regexp.MustCompile(`(pod-template-hash|known-good-hash:|rollbackTo"?:?) "?[bcdfghjklmnpqrstvwxz2456789]{8,10}\b`), "$1 RSHASH"},
	// content hashes: sha256 f914c08670d2, sha256:a9d27f06
	{regexp.MustCompile(`\bsha256[ :=][0-9a-f]{8,64}\b`), "sha256 HASH"},
	// server and tool versions: PostgreSQL 15.18 (Debian 15.18-0+deb12u1)
	{regexp.MustCompile(`\b(PostgreSQL|MariaDB|mysqldump) \d+(\.\d+)+( \([^)]*\))?`), "$1 VERSION"},
	// who: root@vm, as the lock and the journal record the operator
	{regexp.MustCompile(`\b[a-z_][a-z0-9_.-]*@[A-Za-z0-9][A-Za-z0-9.-]*\b`), "USER@HOST"},
	// process ids: (pid 5524), hostname_pid
	{regexp.MustCompile(`\bpid \d+\b`), "pid PID"},
	// resource versions: resourceVersion 219, "resourceVersion": "430"
	{regexp.MustCompile(`([Rr]esource[Vv]ersion"?:? "?)\d+`), "${1}RV"},
	// sizes: 27.0 KiB, 67.0 GiB, 314 MB
	{regexp.MustCompile(`\b\d+(\.\d+)? ?(B|KiB|MiB|GiB|TiB|kB|MB|GB)\b`), "SIZE"},
	// restart counts: (restarts 5), 2 restarts, 4 (0s ago)
	{regexp.MustCompile(`\brestarts \d+\b`), "restarts N"},
	{regexp.MustCompile(`\b\d+ restarts?\b`), "N restarts"},
	// passing analysis rounds, whose number a slow machine can change:
	// rounds: 4 passed
	{regexp.MustCompile(`\brounds: \d+ passed\b`), "rounds: N passed"},
	// durations: 369ms, 3.2s, 1m0s, 2h3m, 1.5µs (after the rules above,
	// which contain numbers of their own)
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m|h)(\d+(\.\d+)?(ms|s|m))*\b`), "DUR"},
	// seconds in JSON results: "rollout": 0.155, "duration": 5.235
	{regexp.MustCompile(`("(rollout|settle|checks|total|plan|write|duration|detection|recovery|bake)"): \d+(\.\d+)?`), "$1: SECONDS"},
}

// progress matches the progress lines of a rollout watch (rollback's and
// `kubectl rollout status`'s), whose number and replica counts depend on
// timing: they are left out of the comparison.
var progress = regexp.MustCompile(`^((\S+ )?\S+: revision \d+: \d+/\d+ updated, |Waiting for deployment (spec update to be observed|"[^"]+" rollout to finish))`)

// spaces are runs of blanks, which aligned tables widen and narrow with the
// values in them.
var spaces = regexp.MustCompile(`[ \t]+`)

// Normalise returns output with the volatile parts replaced by placeholders,
// progress lines left out and runs of blanks collapsed.
func Normalise(output []string) []string {
	var out []string
	for _, line := range output {
		if progress.MatchString(line) {
			continue
		}
		out = append(out, normaliseLine(line))
	}
	return out
}

func normaliseLine(line string) string {
	for _, r := range rules {
		line = r.re.ReplaceAllString(line, r.repl)
	}
	return strings.TrimRight(spaces.ReplaceAllString(line, " "), " ")
}
