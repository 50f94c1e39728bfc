package evidence

import (
	"context"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// Database is the database about to be rolled back: its migration state
// and the plan of the undo (without the down SQL, which may hold
// credentials).
type Database struct {
	// Options reach the database (its URL's password is redacted by the
	// collection's Redactor, which must know it).
	Options dbrollback.Options
	// Request is how far back the undo goes.
	Request dbrollback.Request
}

// Describe names the source.
func (Database) Describe() string { return "database" }

// databasePart is what was learned about the database.
type databasePart struct {
	status *dbrollback.Status
	plan   *dbrollback.Plan
	err    string
}

func (d Database) start(ctx context.Context, col *collector) (part, []logTask) {
	p := &databasePart{}
	plan, err := dbrollback.MakePlan(ctx, d.Options, d.Request)
	if err == nil {
		p.plan, p.status = plan, plan.Status
	} else {
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
	if pl := p.plan; pl != nil {
		to := pl.To
		ds.PlanTo = &to
		for _, m := range pl.Steps {
			ds.Reverts = append(ds.Reverts, m.Version)
		}
	}
	s.Database = ds
}
