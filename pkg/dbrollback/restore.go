package dbrollback

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vibestack/rollback/pkg/atomicfile"
	"github.com/vibestack/rollback/pkg/bytesize"
	"github.com/vibestack/rollback/pkg/progress"
)

// RestoreOptions configure a restore.
type RestoreOptions struct {
	// DatabaseURL is the database to restore into.
	DatabaseURL string
	BackupDir   string
	ID          string
	// Confirm is asked before anything is changed; nil means --yes.
	Confirm func(*Backup) (bool, error)
	// Observer receives progress events; nil discards them.
	Observer    progress.Observer
	LockTimeout time.Duration
}

// RestoreResult reports a restore.
type RestoreResult struct {
	Backup   *Backup `json:"backup"`
	Database string  `json:"database"`
	// Version is the migration version recorded after the restore.
	Version int64 `json:"version"`
	// VersionBefore is the version the restore overwrote (-1 when it
	// could not be read).
	VersionBefore int64 `json:"versionBefore"`
}

// Restore puts a backup this tool made back into a database: the backup is
// checked (sha256 and a full read-back) first, then restored under the
// rollback lock (pg_restore --clean --single-transaction; the mysql client;
// a file copy for SQLite).
func Restore(ctx context.Context, o RestoreOptions) (*RestoreResult, error) {
	if o.BackupDir == "" {
		o.BackupDir = DefaultBackupDir
	}
	t, err := ParseURL(o.DatabaseURL)
	if err != nil {
		return nil, refuse(err)
	}
	res, err := restore(ctx, t, o)
	return res, t.redactErr(err)
}

func restore(ctx context.Context, t *Target, o RestoreOptions) (*RestoreResult, error) {
	b, err := LoadBackup(o.BackupDir, o.ID)
	if err != nil {
		return nil, err
	}
	if b.Engine != t.Engine {
		return nil, refusef("backup %s is a %s backup, %s is %s", b.ID, b.Engine, t, t.Engine)
	}
	emit(o.Observer, progress.Info, "restore: checking backup %s (%s)", b.ID, bytesize.Human(b.Size))
	if err := CheckBackup(ctx, o.BackupDir, b); err != nil {
		return nil, refuse(fmt.Errorf("%w; nothing was changed", err))
	}
	if b.DatabaseKey != t.Key() {
		emit(o.Observer, progress.Warning, "restore: note: backup %s was taken of %s, restoring into %s", b.ID, b.DatabaseKey, t.Key())
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(b)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refusef("cancelled; nothing was changed")
		}
	}
	var lk *undoLock
	if t.Engine == SQLite {
		if err := checkSQLiteRestore(t.Name); err != nil {
			return nil, err
		}
		lk, err = flockFile(t.Name + ".rollback.lock")
	} else {
		db, oerr := open(ctx, t, o.LockTimeout)
		if oerr != nil {
			return nil, oerr
		}
		defer db.Close()
		lk, err = takeUndoLock(ctx, db, t)
	}
	if err != nil {
		return nil, err
	}
	defer lk.release()

	before := int64(-1)
	if v, err := trackedVersion(ctx, t, b.MigrationTool); err == nil {
		before = v
	}
	path := filepath.Join(o.BackupDir, b.File)
	emit(o.Observer, progress.Info, "restore: %s into %s", b.ID, t)
	switch t.Engine {
	case Postgres:
		err = runRestoreCmd(ctx, t, nil, "pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--dbname="+t.libpqURL(), "--", path)
	case MySQL:
		f, ferr := os.Open(path)
		if ferr != nil {
			return nil, ferr
		}
		defer f.Close()
		err = runRestoreCmd(ctx, t, f, "mysql", append(mysqlClientArgs(t), "--binary-mode", "--", t.Name)...)
	case SQLite:
		err = restoreSQLite(path, t.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("restore %s into %s: %w; the database may be partly restored: run the restore again", b.ID, t, err)
	}
	res := &RestoreResult{Backup: b, Database: t.String(), Version: -1, VersionBefore: before}
	if v, err := trackedVersion(ctx, t, b.MigrationTool); err == nil {
		res.Version = v
	}
	return res, nil
}

func runRestoreCmd(ctx context.Context, t *Target, stdin io.Reader, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), t.env()...)
	cmd.Stdin = stdin
	stderr := &limitedBuffer{n: 4096}
	cmd.Stderr = stderr
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, t.Redact(strings.TrimSpace(stderr.String())))
	}
	return nil
}

// checkSQLiteRestore refuses (nothing changed) to replace a database file
// that another process has open, or whose owner this user cannot give back
// to the restored file.
func checkSQLiteRestore(target string) error {
	if users := openersOf(target, target+"-wal", target+"-shm", target+"-journal"); len(users) > 0 {
		names := make([]string, len(users))
		for i, u := range users {
			names[i] = u.String()
		}
		return refusef("sqlite database %s is open by %s: the restore replaces the file, and a process holding it open would go on using the old one (and its -wal) and could corrupt the restored database; stop it, then run the restore again; nothing was changed", target, strings.Join(names, ", "))
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil // a missing file is simply created
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() && os.Geteuid() != 0 {
		return refusef("sqlite database %s belongs to uid %d: the restored file must keep that owner; run the restore as that user or as root; nothing was changed", target, sys.Uid)
	}
	return nil
}

// restoreSQLite replaces the database file with a copy of the backup that
// keeps the file's owner and mode: a new file beside it, fsynced, the old
// -wal, -shm and -journal removed (nobody has them open: checked first),
// renamed over it, the directory fsynced.
func restoreSQLite(backup, target string) error {
	mode, uid, gid := os.FileMode(0o600), -1, -1
	if st, err := os.Stat(target); err == nil {
		mode = st.Mode().Perm()
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(sys.Uid), int(sys.Gid)
		}
	}
	src, err := os.Open(backup)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, tmp, err := atomicfile.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".restore-", 0o600)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		return fail(err)
	}
	if uid >= 0 && (uid != os.Geteuid() || gid != os.Getegid()) {
		if err := dst.Chown(uid, gid); err != nil {
			return fail(fmt.Errorf("give the restored file the owner %d:%d of %s: %w", uid, gid, target, err))
		}
	}
	if err := dst.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := dst.Sync(); err != nil {
		return fail(err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	// The old WAL first: a stale WAL beside the restored file would be
	// replayed into it.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(target + suffix); err != nil && !os.IsNotExist(err) {
			os.Remove(tmp)
			return err
		}
	}
	return atomicfile.Rename(tmp, target)
}

// trackedVersion reads the version recorded by tool after a restore.
func trackedVersion(ctx context.Context, t *Target, toolName string) (int64, error) {
	db, err := open(ctx, t, 0)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	tr, err := readTracking(ctx, db, toolName)
	return tr.version, err
}

func dirJoin(dir, file string) string { return filepath.Join(dir, file) }
