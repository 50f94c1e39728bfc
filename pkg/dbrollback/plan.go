package dbrollback

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Request says how far back to go: Steps migrations, or down To a version
// (To is used when HasTo is set; 0 reverts everything).
type Request struct {
	Steps int
	To    int64
	HasTo bool
}

// Plan is what an undo would do: the migrations to revert, newest first,
// with their down SQL, and the statements among them that destroy data.
type Plan struct {
	Status *Status     `json:"status"`
	From   int64       `json:"from"`
	To     int64       `json:"to"`
	Steps  []Migration `json:"steps"`
	// Remaining are the versions that stay applied, oldest first.
	Remaining []int64   `json:"remaining"`
	DataLoss  []Finding `json:"dataLoss"`
}

// NoOp reports whether there is nothing to revert.
func (p *Plan) NoOp() bool { return len(p.Steps) == 0 }

// MakePlan computes the plan for req against the database. It refuses (exit
// code 2, with the reason and what to do) when fewer migrations are applied
// than asked, a down is missing or empty, or the database is dirty.
func MakePlan(ctx context.Context, opts Options, req Request) (*Plan, error) {
	s, err := openSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer s.close()
	st, err := s.status(ctx)
	if err != nil {
		return nil, s.t.redactErr(err)
	}
	p, err := s.plan(st, req)
	return p, s.t.redactErr(err)
}

func (s *session) plan(st *Status, req Request) (*Plan, error) {
	if st.Dirty {
		return nil, refuse(fmt.Errorf("%s", dirtyExplanation(s, st)))
	}
	applied := make([]int64, 0, len(st.Applied))
	for _, a := range st.Applied {
		applied = append(applied, a.Version)
	}
	var n int
	switch {
	case req.HasTo && req.Steps != 0:
		return nil, refusef("pass either --steps or --to, not both")
	case req.HasTo:
		if req.To > st.Version {
			return nil, refusef("--to %d is above the current version %d: undo only goes down (use the migration tool to go up)", req.To, st.Version)
		}
		if req.To != 0 && !slices.Contains(applied, req.To) {
			return nil, refusef("--to %d is not an applied version: choose one of %s, or 0 to revert everything", req.To, versionList(applied))
		}
		for _, a := range applied {
			if a > req.To {
				n++
			}
		}
	case req.Steps > 0:
		n = req.Steps
		if n > len(applied) {
			return nil, refusef("cannot undo %d migrations: only %d applied (%s); nothing was changed", n, len(applied), versionList(applied))
		}
	default:
		return nil, refusef("say how far back: --steps N (N >= 1) or --to VERSION")
	}
	p := &Plan{Status: st, From: st.Version, Steps: []Migration{}, DataLoss: []Finding{}}
	bySource := map[int64]Migration{}
	for _, m := range s.source {
		bySource[m.Version] = m
	}
	var problems []string
	for i := len(applied) - 1; i >= len(applied)-n; i-- {
		m, ok := bySource[applied[i]]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("version %d is applied but not in %s", applied[i], s.opts.MigrationsDir))
		case m.DownFile == "":
			problems = append(problems, fmt.Sprintf("migration %d_%s has no down (%s would silently record the version as reverted without running any SQL)", m.Version, m.Name, s.tool))
		case !m.HasDown:
			problems = append(problems, fmt.Sprintf("migration %d_%s has an empty down in %s", m.Version, m.Name, m.DownFile))
		}
		p.Steps = append(p.Steps, m)
		p.DataLoss = append(p.DataLoss, scanDataLoss(m.DownFile, m.DownLine, m.DownSQL)...)
	}
	if len(problems) > 0 {
		return nil, refusef("refusing to undo: %s; write the missing down SQL (or restore from a backup instead); nothing was changed", strings.Join(problems, "; "))
	}
	p.Remaining = append([]int64{}, applied[:len(applied)-n]...)
	if len(p.Remaining) > 0 {
		p.To = p.Remaining[len(p.Remaining)-1]
	}
	return p, nil
}

func versionList(vs []int64) string {
	if len(vs) == 0 {
		return "none"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// dirtyExplanation says why a dirty database is refused and which version
// to force.
func dirtyExplanation(s *session, st *Status) string {
	next := int64(0)
	prev := int64(0)
	for _, m := range s.source {
		if m.Version > st.Version && next == 0 {
			next = m.Version
		}
		if m.Version < st.Version {
			prev = m.Version
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the database is dirty at version %d: a migration failed part-way and %s will not run until the state is fixed by hand. ", st.Version, s.tool)
	if next != 0 {
		fmt.Fprintf(&b, "If a down of %d failed, golang-migrate recorded %d dirty although ", next, st.Version)
		if s.t.Engine == Postgres {
			fmt.Fprintf(&b, "PostgreSQL rolled that down back as a whole: the schema is still version %d, so the correct fix is `migrate -path %s -database %s force %d`. ", next, s.opts.MigrationsDir, s.t, next)
		} else {
			fmt.Fprintf(&b, "%s commits DDL statement by statement: the schema is partly reverted; finish or undo the failed down by hand (compare with `rollback db plan`), then force the version whose schema you have (%d if you completed the down, %d if you re-applied it). ", s.t.Engine.Display(), st.Version, next)
		}
	}
	fmt.Fprintf(&b, "If the up of %d failed, undo what it did and `force %d`. Or restore the backup taken before the change: `rollback db backups` then `rollback db restore ID`", st.Version, prev)
	return b.String()
}
