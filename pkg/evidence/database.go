package evidence

import (
	"context"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// Database is the database about to be rolled back: its migration state
// and the plan of the undo (without the down SQL, which may hold
// credentials); for a restore, the state it overwrites and the backup that
// replaces it.
type Database struct {
	// Options reach the database (its URL's password is redacted by the
	// collection's Redactor, which must know it). Without a MigrationsDir
	// only the state is kept, read from the tracking table
	// (dbrollback.ReadState).
	Options dbrollback.Options
	// Request is how far back the undo goes.
	Request dbrollback.Request
	// Restore, when set, is the backup a restore is about to put in place
	// of the database: its metadata is kept (database/restore.json), no
	// plan is made, and the state comes from the tracking table of the
	// backup's migration tool unless Options.Tool names one.
	Restore *dbrollback.Backup
}

// Describe names the source.
func (Database) Describe() string { return "database" }

// databasePart is what was learned about the database.
type databasePart struct {
	status  *dbrollback.Status
	plan    *dbrollback.Plan
	restore *dbrollback.Backup
	err     string
}

func (d Database) start(ctx context.Context, col *collector) (part, []logTask) {
	p := &databasePart{restore: d.Restore}
	switch {
	case d.Restore != nil || d.Options.MigrationsDir == "":
		opts := d.Options
		if opts.Tool == "" && d.Restore != nil {
			opts.Tool = d.Restore.MigrationTool
		}
		st, err := dbrollback.ReadState(ctx, opts)
		if err != nil {
			p.err = col.red.String(err.Error())
			col.fail("database status", err)
		}
		p.status = st
	default:
		plan, err := dbrollback.MakePlan(ctx, d.Options, d.Request)
		if err == nil {
			p.plan, p.status = plan, plan.Status
			break
		}
		p.err = col.red.String(err.Error())
		col.fail("database plan", err)
		st, serr := dbrollback.GetStatus(ctx, d.Options)
		if serr != nil {
			col.fail("database status", serr)
		}
		p.status = st
	}
	if p.status != nil {
		col.addJSON("database/status.json", p.status)
	}
	if p.restore != nil {
		col.addJSON("database/restore.json", p.restore)
	}
	if p.plan != nil {
		plan := *p.plan
		plan.Status = nil
		plan.Steps = append([]dbrollback.Migration(nil), plan.Steps...)
		for i := range plan.Steps {
			plan.Steps[i].DownSQL = ""
		}
		col.addJSON("database/plan.json", plan)
	}
	return p, nil
}

func (p *databasePart) summarize(s *Summary) {
	ds := &DatabaseSummary{Error: p.err}
	if st := p.status; st != nil {
		ds.Database, ds.Tool, ds.Version, ds.Dirty = st.Database, st.Tool, st.Version, st.Dirty
	}
	if b := p.restore; b != nil {
		v := b.MigrationVersion
		ds.RestoreFrom, ds.RestoreVersion = b.ID, &v
	}
	if pl := p.plan; pl != nil {
		to := pl.To
		ds.PlanTo = &to
		for _, m := range pl.Steps {
			ds.Reverts = append(ds.Reverts, m.Version)
		}
	}
	s.Database = ds
}
