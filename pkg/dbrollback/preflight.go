package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// DumpTool is the program that backs up an engine's databases, as found on PATH.
type DumpTool struct {
	// Name is pg_dump or mysqldump; "VACUUM INTO" (built in) for SQLite.
	Name string `json:"name"`
	// Version is the first line of `Name --version`.
	Version string `json:"version"`
	// Major is the major version of the server family the tool belongs to (0 when unknown).
	Major int `json:"major"`
	// MariaDB reports whether a MySQL dump tool comes from MariaDB.
	MariaDB bool `json:"mariadb,omitempty"`
}

// FindDumpTool returns the backup program of engine e and its version, or an
// error naming the program and how to install it when it is not on PATH.
func FindDumpTool(ctx context.Context, e Engine) (*DumpTool, error) {
	var name string
	switch e {
	case Postgres:
		name = "pg_dump"
	case MySQL:
		name = "mysqldump"
	case SQLite:
		return &DumpTool{Name: "VACUUM INTO", Version: "built in"}, nil
	default:
		return nil, fmt.Errorf("unsupported engine %q", e)
	}
	v, err := commandVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	return &DumpTool{Name: name, Version: v, Major: MajorVersion(v), MariaDB: strings.Contains(v, "MariaDB")}, nil
}

var (
	distribVersion = regexp.MustCompile(`Distrib (\d+)`)
	fromVersion    = regexp.MustCompile(`from (\d+)`)
	firstNumber    = regexp.MustCompile(`(\d+)`)
)

// MajorVersion returns the major version in a server or dump tool version
// string: "PostgreSQL 16.4 (Debian ...)" is 16, "pg_dump (PostgreSQL) 15.18"
// is 15, "10.11.6-MariaDB-0+deb12u1" is 10, "mysqldump  Ver 10.19 Distrib
// 10.11.19-MariaDB" is 10 (the distribution, not the client protocol
// version), "mysqldump  Ver 8.0.36 for Linux" is 8. It returns 0 when it
// finds no number.
func MajorVersion(s string) int {
	for _, re := range []*regexp.Regexp{distribVersion, fromVersion} {
		if m := re.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	if i := strings.Index(s, "Ver "); i >= 0 {
		s = s[i:]
	}
	if m := firstNumber.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// DatabaseSize returns the size in bytes of the database at rawURL: what a
// backup has to hold at most (pg_database_size, the data and index length of
// the MySQL schema, the SQLite file).
func DatabaseSize(ctx context.Context, rawURL string) (int64, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return 0, err
	}
	if t.Engine == SQLite {
		st, err := os.Stat(t.Name)
		if err != nil {
			return 0, fmt.Errorf("size of %s: %w", t, err)
		}
		return st.Size(), nil
	}
	var size int64
	err = withDB(ctx, rawURL, func(db *sql.DB, t *Target) error {
		q := map[Engine]string{
			Postgres: "SELECT pg_database_size(current_database())",
			MySQL:    "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema = DATABASE()",
		}[t.Engine]
		var n sql.NullInt64
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("size of %s: %w", t, err)
		}
		size = n.Int64
		return nil
	})
	return size, err
}
