package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vibestack/rollback/pkg/bytesize"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// databaseJob checks the database: URL, connection and migration state,
// backup tool and free disk for a backup.
func (o *Options) databaseJob(ctx context.Context) []Check {
	db := o.Runbook.Database
	check := func(name string, st Status, detail, fix string) Check {
		return Check{Group: GroupDatabase, Name: name, Status: st, Detail: detail, Fix: fix}
	}
	if o.DatabaseURL == "" {
		detail, fix := "no database URL", ""
		switch {
		case o.DatabaseURLError != nil:
			detail = o.DatabaseURLError.Error()
		case db.URLFromEnv != "":
			detail = "environment variable " + db.URLFromEnv + " is not set"
		}
		switch {
		case db.URLFromEnv != "":
			fix = "export " + db.URLFromEnv + "=postgres://USER:PASSWORD@HOST:5432/DB (or mysql://...), or drop db from --steps"
		case db.URLFromFile != "":
			fix = "write the database URL into " + db.URLFromFile + ", or drop db from --steps"
		}
		return []Check{check("url", Fail, detail, fix)}
	}
	target, err := dbrollback.ParseURL(o.DatabaseURL)
	if err != nil {
		return []Check{check("url", Fail, err.Error(), "fix the database URL")}
	}
	migrations := o.MigrationsDir
	if migrations == "" {
		migrations = db.MigrationsDir
	}
	tool := db.Tool
	if tool == "auto" {
		tool = ""
	}
	var checks []Check
	st, err := dbrollback.GetStatus(ctx, dbrollback.Options{DatabaseURL: o.DatabaseURL, MigrationsDir: migrations, Tool: tool})
	if err != nil {
		checks = append(checks, check("connection", Fail, target.Redact(err.Error()),
			fmt.Sprintf("check the server at %s is up and reachable from here, and the credentials in the URL; then `rollback db status`", target.String())))
	} else {
		checks = append(checks, check("connection", OK, fmt.Sprintf("%s reachable, %s", target.String(), st.ServerVersion), ""))
		m := check("migrations", OK, fmt.Sprintf("%s at version %d, %d applied, %d pending", st.ToolVersion, st.Version, len(st.Applied), len(st.Pending)), "")
		if st.Dirty {
			m.Status = Fail
			m.Detail += ", dirty: a migration stopped half-way"
			m.Fix = "see `rollback db status`: repair the half-applied migration by hand before any schema rollback"
		}
		checks = append(checks, m)
	}
	dump, err := dbrollback.FindDumpTool(ctx, target.Engine)
	if err != nil {
		checks = append(checks, check("backup tool", Fail, err.Error(), installHint(target.Engine, 0)))
	} else {
		checks = append(checks, dumpToolCheck(dump, target.Engine, st))
	}
	if st != nil {
		checks = append(checks, o.diskCheck(ctx))
	}
	return checks
}

// dumpToolCheck compares the dump tool's major version with the server's:
// pg_dump refuses a newer server, mysqldump mishandles one.
func dumpToolCheck(dump *dbrollback.DumpTool, e dbrollback.Engine, st *dbrollback.Status) Check {
	ch := Check{Group: GroupDatabase, Name: "backup tool", Status: OK, Detail: dump.Version}
	if st == nil || e == dbrollback.SQLite {
		return ch
	}
	server := dbrollback.MajorVersion(st.ServerVersion)
	serverMaria := strings.Contains(st.ServerVersion, "MariaDB")
	switch {
	case e == dbrollback.MySQL && serverMaria != dump.MariaDB:
		ch.Status = Warn
		ch.Detail += fmt.Sprintf("; the server is %s: a dump tool of the other family (MySQL vs MariaDB) may fail", st.ServerVersion)
		ch.Fix = installHint(e, server)
	case server == 0 || dump.Major == 0:
		ch.Status = Warn
		ch.Detail += fmt.Sprintf("; cannot compare with the server version %q", st.ServerVersion)
	case dump.Major < server:
		ch.Status = Fail
		ch.Detail += fmt.Sprintf(" is older than the server (%s): it cannot back it up", st.ServerVersion)
		ch.Fix = installHint(e, server)
	default:
		ch.Detail += fmt.Sprintf(" (server %s)", st.ServerVersion)
	}
	return ch
}

func installHint(e dbrollback.Engine, major int) string {
	switch e {
	case dbrollback.Postgres:
		if major > 0 {
			return fmt.Sprintf("install pg_dump %d or newer (apt-get install postgresql-client-%d) and put it first on PATH", major, major)
		}
		return "install pg_dump (apt-get install postgresql-client) and put it on PATH"
	case dbrollback.MySQL:
		return "install the mysqldump of the server's family and version (mariadb-client or mysql-client) and put it on PATH"
	}
	return ""
}

// diskCheck compares the free space of the backup directory's file system
// with the database's size.
func (o *Options) diskCheck(ctx context.Context) Check {
	ch := Check{Group: GroupDatabase, Name: "backup disk"}
	dir := o.BackupDir
	if dir == "" {
		dir = o.Runbook.Database.BackupDir
	}
	size, err := dbrollback.DatabaseSize(ctx, o.DatabaseURL)
	if err != nil {
		ch.Status, ch.Detail = Unknown, err.Error()
		ch.Fix = "cannot tell whether a backup fits: check the database user may read its size"
		return ch
	}
	free, where, err := freeBytes(dir)
	if err != nil {
		ch.Status, ch.Detail = Unknown, err.Error()
		ch.Fix = "cannot tell whether a backup fits: fix database.backupDir in the runbook"
		return ch
	}
	ch.Detail = fmt.Sprintf("%s free in %s for a database of %s", bytesize.Human(int64(free)), where, bytesize.Human(size))
	switch {
	case free < uint64(size):
		ch.Status = Fail
		ch.Fix = "free space in " + where + " or point database.backupDir at a larger file system"
	case free < 2*uint64(size):
		ch.Status = Warn
		ch.Detail += " (less than twice its size)"
	default:
		ch.Status = OK
	}
	return ch
}

// freeBytes returns the bytes available to this user on the file system of
// dir, or of its nearest existing parent when dir does not exist yet.
func freeBytes(dir string) (uint64, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0, "", fmt.Errorf("resolve backup directory %s: %w", dir, err)
	}
	p := abs
	for {
		var st unix.Statfs_t
		err := unix.Statfs(p, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), abs, nil
		}
		if !errors.Is(err, os.ErrNotExist) || filepath.Dir(p) == p {
			return 0, "", fmt.Errorf("statfs %s: %w", p, err)
		}
		p = filepath.Dir(p)
	}
}
