package dbrollback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// undoLockName names the lock every undo and restore holds from its first
// read to its last check, so that two runs never interleave.
const undoLockName = "rollback-db-undo"

// ErrLocked is returned (as a refusal) when another undo or restore of the
// same database is running.
var ErrLocked = errors.New("another rollback of this database is running")

// undoLock is a held lock; release gives it back.
type undoLock struct {
	release func()
}

// takeUndoLock takes the undo lock of the database without waiting:
// PostgreSQL pg_try_advisory_lock, MySQL GET_LOCK(..., 0), SQLite an flock
// on DB.rollback.lock beside the database file.
func takeUndoLock(ctx context.Context, db *sql.DB, t *Target) (*undoLock, error) {
	if t.Engine == SQLite {
		return flockFile(t.Name + ".rollback.lock")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take rollback lock: %w", err)
	}
	var ok bool
	switch t.Engine {
	case Postgres:
		err = conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", undoLockName).Scan(&ok)
	case MySQL:
		var got sql.NullInt64
		err = conn.QueryRowContext(ctx, "SELECT GET_LOCK(CONCAT(?, ':', LEFT(SHA1(DATABASE()), 40)), 0)", undoLockName).Scan(&got)
		ok = got.Int64 == 1
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("take rollback lock: %w", err)
	}
	if !ok {
		conn.Close()
		return nil, lockedError()
	}
	return &undoLock{release: func() {
		q := "SELECT pg_advisory_unlock(hashtext($1))"
		if t.Engine == MySQL {
			q = "SELECT RELEASE_LOCK(CONCAT(?, ':', LEFT(SHA1(DATABASE()), 40)))"
		}
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), q, undoLockName)
		conn.Close()
	}}, nil
}

func lockedError() error {
	return refuse(fmt.Errorf("%w: wait for it to finish (see `rollback db status`) and run again", ErrLocked))
}

// flockFile takes an exclusive non-blocking flock on path.
func flockFile(path string) (*undoLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("take rollback lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedError()
		}
		return nil, fmt.Errorf("take rollback lock %s: %w", path, err)
	}
	return &undoLock{release: func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}}, nil
}
