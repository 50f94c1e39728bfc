package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/bytesize"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/report"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// incidentEvidenceOptions are the options of "incident evidence".
type incidentEvidenceOptions struct {
	journalDir string
	dest       string
}

// incidentEvidenceResult is the -o json answer of "incident evidence".
type incidentEvidenceResult struct {
	Incident string              `json:"incident"`
	Bundles  []evidenceBundleRef `json:"bundles"`
	Export   string              `json:"export,omitempty"`
}

type evidenceBundleRef struct {
	Path     string            `json:"path"`
	Manifest evidence.Manifest `json:"manifest"`
}

// newIncidentEvidenceCmd returns "incident evidence ID".
func newIncidentEvidenceCmd(f *Factory) *cobra.Command {
	o := &incidentEvidenceOptions{}
	cmd := &cobra.Command{
		Use:   "evidence ID [--export DIR | --export FILE.tar.gz]",
		Short: "List or export the evidence an incident kept: the failing pods' logs, Events and status, checked by sha256",
		Long: `Every rollback collects, before its first change, the evidence the rollback
destroys: the logs of the failing pods (current and previous container), the
Events of the workload, its revisions and pods with their status, the pod
template diff against the target, the database's migration state and plan
(for a restore, the state it overwrites and the backup that replaces it),
guard's analysis rounds. It is kept beside the journal as
<journal-dir>/<id>.evidence.tar.gz, with a manifest holding the sha256 of each
file.

Without --export, lists the files of each bundle after checking every
sha256. --export DIR extracts them (with the incident's report) into
DIR/<id>/; --export FILE.tar.gz writes one archive to share, holding the
same. Nothing existing is overwritten.`,
		Example: `  rollback incident evidence inc-20261126-033122-7f3a
  rollback incident evidence inc-20261126-033122-7f3a --export ./rca
  rollback incident evidence inc-20261126-033122-7f3a --export inc-20261126-033122-7f3a.tar.gz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.Run(ctxOf(cmd), f, args[0]) },
	}
	cmd.Flags().StringVar(&o.journalDir, "journal-dir", "", "directory of incident journals (default $ROLLBACK_JOURNAL_DIR, else $XDG_STATE_HOME/rollback/incidents, else ~/.local/state/rollback/incidents)")
	cmd.Flags().StringVar(&o.dest, "export", "", "extract into this directory, or write this .tar.gz to share (default: list the files)")
	return cmd
}

// Run lists or exports the evidence of incident id.
func (o *incidentEvidenceOptions) Run(_ context.Context, f *Factory, id string) error {
	if err := journal.ValidateID(id); err != nil {
		return exitcode.AsRefused(err)
	}
	dir := o.journalDir
	if dir == "" {
		dir = journal.DefaultDir()
	}
	es, err := journal.Read(dir, id)
	if err != nil {
		return exitcode.AsRefused(err)
	}
	paths := lifecycle.EvidenceBundles(dir, id)
	if len(paths) == 0 {
		return exitcode.AsRefused(noEvidence(id, dir, es))
	}
	var archives []*evidence.Archive
	res := incidentEvidenceResult{Incident: id}
	for _, p := range paths {
		a, err := evidence.ReadFile(p)
		if err != nil {
			return err
		}
		archives = append(archives, a)
		res.Bundles = append(res.Bundles, evidenceBundleRef{Path: p, Manifest: a.Manifest})
	}
	if o.dest != "" {
		if err := o.write(id, es, archives); err != nil {
			return err
		}
		res.Export = o.dest
	}
	if f.JSON() {
		return printJSON(f, res)
	}
	if o.dest == "" {
		return writeEvidenceFiles(f, res)
	}
	files, bytes := evidence.Count(archives)
	fmt.Fprintln(termsafe.Writer(f.IO.Out), o.dest)
	fmt.Fprintf(f.IO.ErrOut, "exported the evidence of incident %s (%d bundle(s), %d files, %s, every sha256 checked) and its report\n", id, len(archives), files, bytesize.Human(bytes))
	return nil
}

// write writes the bundles and the report to --export.
func (o *incidentEvidenceOptions) write(id string, es []journal.Entry, archives []*evidence.Archive) error {
	var rep bytes.Buffer
	if err := report.Write(&rep, es); err != nil {
		return err
	}
	extra := map[string][]byte{"report.md": rep.Bytes()}
	if strings.HasSuffix(o.dest, ".tar.gz") || strings.HasSuffix(o.dest, ".tgz") {
		if _, err := os.Lstat(o.dest); err == nil {
			return exitcode.AsRefused(fmt.Errorf("--export %s exists: remove it or choose another name; nothing was written", o.dest))
		}
		return evidence.Export(o.dest, id, archives, extra)
	}
	root := filepath.Join(o.dest, id)
	if _, err := os.Lstat(root); err == nil {
		return exitcode.AsRefused(fmt.Errorf("--export: %s exists: remove it or choose another directory; nothing was written", root))
	}
	for i, a := range archives {
		if err := a.Extract(filepath.Join(o.dest, filepath.FromSlash(evidence.ExportDir(id, i)))); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(root, "report.md"), rep.Bytes(), 0o600)
}

// noEvidence says why an incident has no bundle here, and what to do.
func noEvidence(id, dir string, es []journal.Entry) error {
	for _, e := range es {
		if e.Action != journal.ActionEvidenceCollected {
			continue
		}
		if e.Result == journal.ResultSkipped {
			return fmt.Errorf("incident %s collected no evidence (%v)", id, e.Inputs["why"])
		}
		if m, ok := e.After.(map[string]any); ok {
			if b, _ := m["bundle"].(string); b != "" {
				return fmt.Errorf("the evidence of incident %s is not in %s: it was kept at %s by %s; run `rollback incident evidence %s --export FILE.tar.gz` there and share the file", id, dir, b, orDash(e.Actor), id)
			}
		}
	}
	return fmt.Errorf("incident %s has no evidence bundle in %s: the rollback recorded none (it changed nothing that evidence is collected for, or ran before rollback kept evidence)", id, dir)
}

// writeEvidenceFiles lists each bundle's files.
func writeEvidenceFiles(f *Factory, res incidentEvidenceResult) error {
	out := termsafe.Writer(f.IO.Out)
	for _, b := range res.Bundles {
		m := b.Manifest
		cut := ""
		if m.StoppedBy != "" {
			cut = fmt.Sprintf(", stopped by the %s limit", m.StoppedBy)
		}
		fmt.Fprintf(f.IO.ErrOut, "%s: %d files, %s, collected in %s%s; every sha256 checked\n", b.Path, len(m.Files), bytesize.Human(m.Size()), m.Duration().Round(1e6), cut)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE\tBYTES\tSHA256")
		for _, fi := range m.Files {
			name := fi.Name
			if fi.Truncated {
				name += " (beginning cut)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", name, fi.Size, fi.SHA256)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(m.Skipped) > 0 {
			fmt.Fprintf(out, "left out (%d):\n", len(m.Skipped))
			for _, s := range m.Skipped {
				fmt.Fprintf(out, "  %s: %s\n", s.What, s.Why)
			}
		}
		if len(m.Errors) > 0 {
			fmt.Fprintf(out, "could not read (%d):\n", len(m.Errors))
			for _, e := range m.Errors {
				fmt.Fprintf(out, "  %s: %s\n", e.Source, e.Error)
			}
		}
	}
	return nil
}

// writeEvidenceList lists, after an incident's timeline, the evidence
// bundles its journal records, and whether each is on this machine.
func writeEvidenceList(w io.Writer, es []journal.Entry) error {
	var rows []journal.Entry
	for _, e := range es {
		if e.Action == journal.ActionEvidenceCollected && e.Result != journal.ResultSkipped {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(termsafe.Writer(w), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nEVIDENCE\tSIZE\tCOLLECTED IN\tLIMIT HIT")
	for _, e := range rows {
		m, _ := e.After.(map[string]any)
		bundle, _ := m["bundle"].(string)
		switch {
		case bundle == "":
			bundle = "(not kept: " + e.Error + ")"
		default:
			if _, err := os.Stat(bundle); err != nil {
				bundle += " (not on this machine)"
			}
		}
		size := "-"
		if n, ok := m["bytes"].(float64); ok {
			size = bytesize.Human(int64(n))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", bundle, size, orDash(anyString(m["duration"])), orDash(anyString(m["stoppedBy"])))
	}
	return tw.Flush()
}

func anyString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
