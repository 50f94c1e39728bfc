package dbrollback

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Migration is one migration of a migrations directory as this package reads
// it for plans: its version, name, and the down SQL with where it starts.
type Migration struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	// DownFile is the file holding the down SQL ("" when there is none).
	DownFile string `json:"downFile,omitempty"`
	// DownLine is the line of DownFile where the down SQL starts.
	DownLine int    `json:"downLine,omitempty"`
	DownSQL  string `json:"downSQL,omitempty"`
	// HasDown reports whether a down exists with at least one statement.
	HasDown bool `json:"hasDown"`
}

var (
	migrateFile = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.sql$`)
	gooseFile   = regexp.MustCompile(`^([0-9]+)_(.*)\.sql$`)
)

// readMigrations reads the SQL migrations in dir in the layout of tool
// ("migrate": N_name.up.sql + N_name.down.sql; "goose": N_name.sql with
// -- +goose Up / -- +goose Down sections), sorted by version.
func readMigrations(dir, tool string) ([]Migration, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations directory: %w", err)
	}
	byVersion := map[int64]*Migration{}
	get := func(v int64, name string) *Migration {
		if m := byVersion[v]; m != nil {
			return m
		}
		m := &Migration{Version: v, Name: name}
		byVersion[v] = m
		return m
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		switch tool {
		case ToolMigrate:
			v, name, direction, ok, err := parseMigrationName(tool, e.Name())
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			m := get(v, name)
			if direction == "down" {
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("read migration: %w", err)
				}
				m.DownFile, m.DownLine, m.DownSQL = path, 1, string(b)
				m.HasDown = hasStatements(m.DownSQL)
			}
		case ToolGoose:
			v, name, _, ok, err := parseMigrationName(tool, e.Name())
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("read migration: %w", err)
			}
			m := get(v, name)
			m.DownFile = path
			m.DownLine, m.DownSQL = gooseDown(string(b))
			if m.DownLine == 0 {
				m.DownFile = ""
			}
			m.HasDown = hasStatements(m.DownSQL)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// parseMigrationName reads a migration file name in tool's layout: its
// version, name and direction (up or down; "" for goose, whose file holds
// both). ok is false for a file that is not a migration; a migration whose
// version does not fit in 64 bits is an error.
func parseMigrationName(tool, file string) (version int64, name, direction string, ok bool, err error) {
	re := gooseFile
	if tool == ToolMigrate {
		re = migrateFile
	}
	g := re.FindStringSubmatch(file)
	if g == nil {
		return 0, "", "", false, nil
	}
	v, err := strconv.ParseInt(g[1], 10, 64)
	if err != nil {
		return 0, "", "", false, fmt.Errorf("migration %s: bad version: %w", file, err)
	}
	if tool == ToolMigrate {
		direction = g[3]
	}
	return v, g[2], direction, true, nil
}

// gooseDown returns the line after "-- +goose Down" and the text of the down
// section (up to the end or a following "-- +goose Up"); 0 when there is none.
func gooseDown(src string) (int, string) {
	lines := strings.Split(src, "\n")
	start := 0
	var b strings.Builder
	for i, l := range lines {
		ann := strings.ToLower(strings.Join(strings.Fields(l), " "))
		switch {
		case strings.HasPrefix(ann, "-- +goose down"):
			start = i + 2
			continue
		case strings.HasPrefix(ann, "-- +goose up"):
			if start > 0 {
				return start, b.String()
			}
			continue
		}
		if start > 0 {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return start, b.String()
}

// hasStatements reports whether sql holds anything but comments and blanks.
func hasStatements(sql string) bool {
	for _, st := range splitStatements(sql, 1) {
		if st.Text != "" {
			return true
		}
	}
	return false
}

// detectLayout tells from the files in dir which tool's layout they follow.
func detectLayout(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read migrations directory: %w", err)
	}
	goose := false
	for _, e := range entries {
		if migrateFile.MatchString(e.Name()) {
			return ToolMigrate, nil
		}
		if gooseFile.MatchString(e.Name()) {
			goose = true
		}
	}
	if goose {
		return ToolGoose, nil
	}
	return "", fmt.Errorf("no migrations in %s: expected N_name.up.sql/N_name.down.sql (golang-migrate) or N_name.sql (goose)", dir)
}
