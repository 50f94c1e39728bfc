// Package reference generates rollback's command reference from its cobra
// commands: a Markdown page and a man page for every command, so the
// reference can never say something the commands do not do.
package reference

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/iostreams"
	"github.com/vibestack/rollback/internal/kubeflags"
)

// manDate stands in for the man pages' date, which is then left empty: a
// date would change the pages every day without a change of the commands.
var manDate = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generate returns the reference: file name (relative, "man/" for man
// pages) to contents.
func Generate() (map[string][]byte, error) {
	root := tree()
	files := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if !c.IsAvailableCommand() && c != root {
			return nil
		}
		base := strings.ReplaceAll(c.CommandPath(), " ", "_")
		var md bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &md, func(s string) string { return s }); err != nil {
			return fmt.Errorf("markdown page of %s: %w", c.CommandPath(), err)
		}
		files[base+".md"] = md.Bytes()
		var man bytes.Buffer
		header := &doc.GenManHeader{Title: strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-")), Section: "1", Date: &manDate, Source: "rollback", Manual: "rollback manual"}
		if err := doc.GenMan(c, header, &man); err != nil {
			return fmt.Errorf("man page of %s: %w", c.CommandPath(), err)
		}
		page := strings.Replace(man.String(), `"`+manDate.Format("Jan 2006")+`"`, `""`, 1)
		files["man/"+strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = []byte(page)
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return files, nil
}

// tree returns the command tree as users get it (with cobra's completion
// and help commands), the connection flags hidden as in the help: they are
// listed on the page of `rollback options`.
func tree() *cobra.Command {
	io, _, _, _ := iostreams.Test()
	root := command.NewRoot(command.NewFactory(io))
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultVersionFlag()
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if kubeflags.IsConfigFlag(f) {
			f.Hidden = true
		}
	})
	var noTag func(c *cobra.Command)
	noTag = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			noTag(sub)
		}
	}
	noTag(root)
	return root
}

// Write replaces the reference in dir (Markdown pages) and dir/man (man
// pages) with what Generate returns, removing pages of commands that are gone.
func Write(dir string) error {
	files, err := Generate()
	if err != nil {
		return err
	}
	for _, sub := range []string{dir, filepath.Join(dir, "man")} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("write reference: %w", err)
		}
	}
	old, err := List(dir)
	if err != nil {
		return err
	}
	for _, name := range old {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("remove stale page: %w", err)
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write reference: %w", err)
		}
	}
	return nil
}

// List returns the generated pages found in dir: *.md in dir and *.1 in
// dir/man, sorted, relative to dir.
func List(dir string) ([]string, error) {
	var names []string
	for _, pattern := range []string{"*.md", "man/*.1"} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			rel, err := filepath.Rel(dir, m)
			if err != nil {
				return nil, err
			}
			names = append(names, filepath.ToSlash(rel))
		}
	}
	sort.Strings(names)
	return names, nil
}
