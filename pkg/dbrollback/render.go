package dbrollback

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vibestack/rollback/pkg/bytesize"
)

// WriteStatus writes st for humans.
func WriteStatus(w io.Writer, st *Status) {
	fmt.Fprintf(w, "database: %s (%s)\n", st.Database, st.ServerVersion)
	fmt.Fprintf(w, "tool:     %s\n", st.ToolVersion)
	fmt.Fprintf(w, "version:  %d\n", st.Version)
	fmt.Fprintf(w, "dirty:    %t\n", st.Dirty)
	fmt.Fprintf(w, "applied:  %d\n", len(st.Applied))
	for _, m := range st.Applied {
		down := "down: yes"
		if !m.HasDown {
			down = "down: MISSING OR EMPTY"
		}
		fmt.Fprintf(w, "  %-6d %-30s %s\n", m.Version, m.Name, down)
	}
	fmt.Fprintf(w, "pending:  %d\n", len(st.Pending))
	for _, m := range st.Pending {
		fmt.Fprintf(w, "  %-6d %s\n", m.Version, m.Name)
	}
}

// WritePlan writes p for humans: the migrations in revert order with their
// down SQL, then the data-loss report.
func WritePlan(w io.Writer, p *Plan) {
	if p.NoOp() {
		fmt.Fprintf(w, "nothing to revert: %s is at version %d\n", p.Status.Database, p.From)
		return
	}
	fmt.Fprintf(w, "plan: revert %d migration(s) of %s with %s: version %d -> %d\n", len(p.Steps), p.Status.Database, p.Status.ToolVersion, p.From, p.To)
	for i, m := range p.Steps {
		fmt.Fprintf(w, "\n%d. %d_%s  (%s:%d)\n", i+1, m.Version, m.Name, m.DownFile, m.DownLine)
		for _, l := range strings.Split(strings.TrimRight(m.DownSQL, "\n"), "\n") {
			fmt.Fprintf(w, "   | %s\n", l)
		}
	}
	fmt.Fprintln(w)
	if len(p.DataLoss) == 0 {
		fmt.Fprintln(w, "data loss: none found")
		return
	}
	fmt.Fprintf(w, "data loss: %d statement(s) destroy data; undo needs --accept-data-loss\n", len(p.DataLoss))
	for _, d := range p.DataLoss {
		fmt.Fprintf(w, "  %s:%d  %s  -- %s\n", d.File, d.Line, d.Statement, d.Reason)
	}
}

// WriteUndo writes the result of an undo for humans.
func WriteUndo(w io.Writer, res *UndoResult, backupDir string) {
	switch {
	case res.Skipped:
		fmt.Fprintf(w, "skipped: nothing to revert, %s is at version %d\n", res.Plan.Status.Database, res.Version)
	case res.Failure != nil:
		fmt.Fprintf(w, "FAILED: %s is at version %d (dirty=%t)\n", res.Plan.Status.Database, res.Failure.Version, res.Failure.Dirty)
		for _, c := range res.Failure.SchemaChanges {
			fmt.Fprintf(w, "  schema: %s\n", c)
		}
		fmt.Fprintf(w, "restore: %s\n", res.Failure.RestoreCommand)
	default:
		fmt.Fprintf(w, "undone: %s version %d -> %d, verified (not dirty)\n", res.Plan.Status.Database, res.Plan.From, res.Version)
		fmt.Fprintf(w, "backup: %s (%s)\n", res.Backup.ID, res.Backup.Verification)
		fmt.Fprintf(w, "restore with: rollback db restore %s --database %s --backup-dir %s\n", res.Backup.ID, res.Plan.Status.Database, backupDir)
	}
}

// WriteBackups writes the list of backups as a table.
func WriteBackups(w io.Writer, dir string, list []Backup) error {
	if len(list) == 0 {
		fmt.Fprintf(w, "no backups in %s\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tDATABASE\tTOOL\tVERSION\tSIZE\tVERIFIED\tDURATION")
	for _, b := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%t\t%.1fs\n", b.ID, b.Created.Format("2006-01-02 15:04:05Z"), b.Database, b.MigrationTool, b.MigrationVersion, bytesize.Human(b.Size), b.Verified, b.DurationSeconds)
	}
	return tw.Flush()
}
