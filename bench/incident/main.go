// Command incident benchmarks the time to verified recovery of the demo
// incident (scripts/demo.sh: vibestack-app 1.5.0 ships a crashing image, a
// new configuration and migration 3) on a real sandbox control plane and a
// real PostgreSQL server, in the same run:
//
//   - A, by hand: the seed runbook's three procedures in sequence, with a
//     pg_dump before the migration: kubectl rollout undo + rollout status;
//     kubectl apply of the previous ConfigMap manifest + rollout restart +
//     rollout status; pg_dump -Fc; golang-migrate's CLI `migrate down 1`;
//   - B: `rollback run --yes` with the default safety settings (10 s settle
//     window, the runbook's HTTP health check, a verified backup);
//   - C (for reading B's phases, not part of the goal): `rollback run --yes
//     --settle 0s`;
//   - B0 (with -before BIN): B with another build of rollback, for example
//     one built from main, to compare two versions of the tool in one run;
//
// each at two database sizes (the demo's own few rows, and about 500 MB),
// alternating the arms, and writes the section "Incident time to recovery"
// of docs/benchmarks.md with medians and ratios.
//
//	make bench-incident [BENCH_ARGS='-runs 5 -before BIN']
//	go run ./bench/incident [-runs 5] [-large-users N] [-sizes small,large] [-before BIN -before-label TEXT]
//
// The time of an arm runs from the start of its first command to the exit
// of its last one; the bad release is in place and detected before (not
// timed), and the result is checked after (not timed): image 1.4.0 on 3
// Ready pods that run configuration v1, ConfigMap data v1, the Service
// answering 200, the schema at version 2.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

const sectionTitle = "## Incident time to recovery"

// Arms.
const (
	armManual   = "manual"
	armRollback = "rollback"
	armNoSettle = "rollback-settle0"
	armBefore   = "rollback-before"
)

type options struct {
	runs       int
	largeUsers int
	sizes      []string
	noSettle   bool
	verbose    bool
	// before is another rollback binary (arm B0), beforeLabel what it is.
	before, beforeLabel string
	out                 string
	rollback            string
	migrate             string
	kubectl             string
	pipeline            string
	work                string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/incident:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench/incident", flag.ContinueOnError)
	o := options{}
	var sizes string
	fs.IntVar(&o.runs, "runs", 5, "alternating runs per arm and size")
	fs.IntVar(&o.largeUsers, "large-users", 1_340_000, "users of the large database (twice as many orders): about 500 MB at the bad release")
	fs.StringVar(&sizes, "sizes", "small,large", "database sizes to run (small, large)")
	fs.BoolVar(&o.noSettle, "settle0", true, "also run `rollback run --settle 0s` (arm C, to read the phases)")
	fs.BoolVar(&o.verbose, "v", false, "print rollback's progress")
	fs.StringVar(&o.before, "before", "", "another rollback binary to run as arm B0 (`rollback run --yes`, defaults), e.g. one built from main")
	fs.StringVar(&o.beforeLabel, "before-label", "", "what the -before binary is (for the report)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose \""+strings.TrimPrefix(sectionTitle, "## ")+"\" section is appended or replaced (empty: print only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.sizes = strings.Split(sizes, ",")
	for _, s := range o.sizes {
		if s != "small" && s != "large" {
			return fmt.Errorf("-sizes: unknown size %q: use small and large", s)
		}
	}
	o.rollback = benchcmd.EnvOr("ROLLBACK_BIN", "bin/rollback")
	o.migrate = benchcmd.EnvOr("MIGRATE_BIN", "bin/migrate")
	for _, p := range []string{o.rollback, o.migrate} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w (run `make bench-incident`, which builds it)", p, err)
		}
	}
	var err error
	if o.rollback, err = filepath.Abs(o.rollback); err != nil {
		return err
	}
	if o.migrate, err = filepath.Abs(o.migrate); err != nil {
		return err
	}
	for _, tool := range []string{"kubectl", "pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH: %w", tool, err)
		}
	}
	o.kubectl, _ = exec.LookPath("kubectl")
	if o.before != "" {
		if o.before, err = filepath.Abs(o.before); err != nil {
			return err
		}
		if _, err := os.Stat(o.before); err != nil {
			return fmt.Errorf("-before: %w", err)
		}
		if o.beforeLabel == "" {
			o.beforeLabel = o.before
		}
	}
	if o.work, err = os.MkdirTemp("", "bench-incident-"); err != nil {
		return err
	}
	defer os.RemoveAll(o.work)
	o.pipeline = filepath.Join(o.work, "pipeline")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", o.pipeline, "./scripts/demo-pipeline").CombinedOutput(); err != nil {
		return fmt.Errorf("build scripts/demo-pipeline: %w\n%s", err, out)
	}

	started := time.Now()
	sb, err := sandboxenv.Start(ctx)
	if err != nil {
		return err
	}
	defer sb.Stop()
	hooks, err := o.startReceiver(ctx)
	if err != nil {
		return err
	}
	defer hooks.close()

	rep := &report{opts: o, started: started, results: map[string]map[string][]sample{}}
	arms := o.arms()
	for _, size := range o.sizes {
		db, err := prepareDatabase(ctx, o, size)
		if err != nil {
			return err
		}
		rep.dbs = append(rep.dbs, db)
		rep.results[size] = map[string][]sample{}
		for i := range o.runs {
			// Rotate which arm goes first, so that none always runs on a
			// warmer cache or a quieter machine.
			for k := range arms {
				arm := arms[(i+k)%len(arms)]
				s, err := o.once(ctx, sb, hooks, db, arm, i)
				if err != nil {
					return fmt.Errorf("%s run %d %s: %w", size, i+1, arm, err)
				}
				fmt.Fprintf(os.Stderr, "%s run %d %-16s %6.2fs  (load %.2f)  %s\n", size, i+1, arm, s.total.Seconds(), s.load, s.phaseText())
				rep.results[size][arm] = append(rep.results[size][arm], s)
			}
		}
	}
	rep.total = time.Since(started)
	text := rep.markdown()
	fmt.Print(text)
	if o.out == "" {
		return nil
	}
	return rep.write(text)
}

// arms are the arms of the run, in their first run's order.
func (o options) arms() []string {
	arms := []string{armManual, armRollback}
	if o.noSettle {
		arms = append(arms, armNoSettle)
	}
	if o.before != "" {
		arms = append(arms, armBefore)
	}
	return arms
}

// database is one of the benchmark's databases.
type database struct {
	size string // small or large
	name string
	url  string
	// bytes is pg_database_size at the bad release (migration 3 applied);
	// rows the rows of users and orders.
	bytes int64
	rows  int64
}

// serverURL is the PostgreSQL test server of make deps.
func serverURL() string { return pgtest.ServerURL() }
