package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/incident"
	"github.com/vibestack/rollback/pkg/journal"
)

// phase is one timed part of an arm.
type phase struct {
	name string
	d    time.Duration
}

// sample is one run of one arm.
type sample struct {
	total time.Duration
	// load is the 1-minute load average when the arm started.
	load   float64
	phases []phase
	// backup is the dump: the manual pg_dump -Fc, or rollback's verified
	// backup (its own duration, from the journal); backupBytes its size.
	backup      time.Duration
	backupBytes int64
	// dumpCPU is the CPU time (user + system) of A's pg_dump process:
	// its compression runs in that one process, so on an idle machine
	// the dump takes at least this long.
	dumpCPU time.Duration
	// backupLate: the db step started before rollback's backup was done.
	backupLate bool
	// plain is an extra, untimed-by-the-arm `pg_dump -Fp` after the
	// manual arm (large database only).
	plain time.Duration
}

func (s sample) phaseText() string {
	var parts []string
	for _, p := range s.phases {
		parts = append(parts, fmt.Sprintf("%s %.2f", p.name, p.d.Seconds()))
	}
	if s.backup > 0 {
		parts = append(parts, fmt.Sprintf("[dump %.2fs, %.1f MB]", s.backup.Seconds(), float64(s.backupBytes)/1e6))
	}
	if s.dumpCPU > 0 {
		parts = append(parts, fmt.Sprintf("[pg_dump cpu %.2fs]", s.dumpCPU.Seconds()))
	}
	if s.plain > 0 {
		parts = append(parts, fmt.Sprintf("[pg_dump -Fp %.2fs]", s.plain.Seconds()))
	}
	return strings.Join(parts, ", ")
}

// once sets up a fresh copy of the incident, runs one arm on it, checks
// the recovery and cleans up.
func (o options) once(ctx context.Context, sb *sandboxenv.Sandbox, hooks *receiver, db *database, arm string, i int) (sample, error) {
	f, err := o.release(ctx, sb, hooks, db, arm, i)
	if err != nil {
		return sample{}, fmt.Errorf("set up the incident: %w", err)
	}
	defer f.cleanup(sb)
	s := sample{load: loadAverage()}
	t0 := time.Now()
	switch arm {
	case armManual:
		err = o.manual(ctx, f, db, &s)
	case armRollback:
		err = o.tool(ctx, f, t0, &s)
	case armNoSettle:
		err = o.tool(ctx, f, t0, &s, "--settle", "0s")
	case armBefore:
		b := o
		b.rollback = o.before
		err = b.tool(ctx, f, t0, &s)
	}
	s.total = time.Since(t0)
	if err != nil {
		return s, err
	}
	if err := f.check(ctx, sb, db, t0); err != nil {
		return s, fmt.Errorf("after the recovery: %w", err)
	}
	if arm == armManual && db.size == "large" {
		start := time.Now()
		if _, err := o.pgDump(ctx, f, db, "-Fp", filepath.Join(f.dir, "manual.sql")); err != nil {
			return s, err
		}
		s.plain = time.Since(start)
	}
	return s, nil
}

// manual is arm A: the seed runbook's procedures by hand, in sequence.
func (o options) manual(ctx context.Context, f *fixture, db *database, s *sample) error {
	deploy := "deployment/" + app
	dump := filepath.Join(f.dir, "manual-backup.dump")
	migrateURL := db.url + "?sslmode=disable"
	groups := []struct {
		name string
		run  func() error
	}{
		{"app (undo + status)", func() error {
			if err := o.timed(ctx, f, o.kubectl, "rollout", "undo", deploy, "-n", f.ns); err != nil {
				return err
			}
			return o.timed(ctx, f, o.kubectl, "rollout", "status", deploy, "-n", f.ns)
		}},
		{"config (apply + restart + status)", func() error {
			if err := o.timed(ctx, f, o.kubectl, "apply", "-f", filepath.Join(f.dir, "configmap-v1.yaml"), "-n", f.ns); err != nil {
				return err
			}
			if err := o.timed(ctx, f, o.kubectl, "rollout", "restart", deploy, "-n", f.ns); err != nil {
				return err
			}
			return o.timed(ctx, f, o.kubectl, "rollout", "status", deploy, "-n", f.ns)
		}},
		{"pg_dump -Fc", func() (err error) {
			s.dumpCPU, err = o.pgDump(ctx, f, db, "-Fc", dump)
			return err
		}},
		{"migrate down 1", func() error {
			return o.timed(ctx, f, o.migrate, "-path", filepath.Join(f.dir, "db", "migrations"), "-database", migrateURL, "down", "1")
		}},
	}
	for _, g := range groups {
		start := time.Now()
		if err := g.run(); err != nil {
			return err
		}
		d := time.Since(start)
		s.phases = append(s.phases, phase{g.name, d})
		if strings.HasPrefix(g.name, "pg_dump") {
			s.backup = d
			st, err := os.Stat(dump)
			if err != nil {
				return err
			}
			s.backupBytes = st.Size()
		}
	}
	return nil
}

// pgDump runs pg_dump FORMAT -f path, the password in PGPASSWORD, and
// returns the CPU time of the pg_dump process.
func (o options) pgDump(ctx context.Context, f *fixture, db *database, format, path string) (time.Duration, error) {
	u, err := url.Parse(db.url)
	if err != nil {
		return 0, err
	}
	pw, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	c := exec.CommandContext(ctx, "pg_dump", format, "-f", path, "--dbname="+u.String())
	c.Env = append(os.Environ(), "PGPASSWORD="+pw)
	if out, err := c.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pg_dump %s: %w\n%s", format, err, out)
	}
	return c.ProcessState.UserTime() + c.ProcessState.SystemTime(), nil
}

// timed runs one command of an arm in the fixture's directory.
func (o options) timed(ctx context.Context, f *fixture, bin string, args ...string) error {
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = append(os.Environ(), f.env...)
	c.Dir = f.dir
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return nil
}

// tool is arm B (and C with --settle 0s): `rollback run --yes`; its
// phases come from the journal's timestamps.
func (o options) tool(ctx context.Context, f *fixture, t0 time.Time, s *sample, extra ...string) error {
	args := append([]string{"run", "--yes", "--reason", "1.5.0 crash-loops on start", "-o", "json", "--progress", "text"}, extra...)
	c := exec.CommandContext(ctx, o.rollback, args...)
	c.Env = append(os.Environ(), f.env...)
	c.Dir = f.dir
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	end := time.Now()
	if err != nil {
		return fmt.Errorf("rollback %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if o.verbose {
		os.Stderr.Write(stderr.Bytes())
	}
	var res incident.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return fmt.Errorf("rollback run -o json: %w\n%s", err, stdout.String())
	}
	if res.Verdict != incident.VerdictRolledBack {
		return fmt.Errorf("rollback run: verdict %s, want %s\n%s", res.Verdict, incident.VerdictRolledBack, stderr.String())
	}
	entries, err := journal.Read(filepath.Join(f.dir, "incidents"), res.Incident)
	if err != nil {
		return err
	}
	at := map[string]time.Time{}
	for _, e := range entries {
		key := string(e.Action)
		if e.Step != "" && e.Target == "" {
			key = e.Step + " " + key
		}
		if _, seen := at[key]; !seen {
			at[key] = e.Time
		}
		if e.Action == journal.ActionBackupTaken {
			if after, ok := e.After.(map[string]any); ok {
				sec, _ := after["seconds"].(float64)
				size, _ := after["size"].(float64)
				s.backup, s.backupBytes = time.Duration(sec*float64(time.Second)), int64(size)
			}
		}
	}
	need := []string{"incident.opened", "preflight preflight.completed", "app step.started", "app step.completed",
		"config step.started", "db step.started", "db step.completed", "health health.checked"}
	for _, k := range need {
		if at[k].IsZero() {
			return fmt.Errorf("journal %s has no %q entry", res.Journal, k)
		}
	}
	s.backupLate = at["backup.taken"].After(at["db step.started"])
	span := func(name string, from, to time.Time) { s.phases = append(s.phases, phase{name, to.Sub(from)}) }
	span("start", t0, at["incident.opened"])
	span("lock+preflight", at["incident.opened"], at["preflight preflight.completed"])
	span("app+config", at["app step.started"], at["config step.started"])
	span("db", at["db step.started"], at["db step.completed"])
	span("health", at["db step.completed"], at["health health.checked"])
	span("close", at["health health.checked"], end)
	return nil
}

// loadAverage returns the 1-minute load average (0 when unreadable).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
