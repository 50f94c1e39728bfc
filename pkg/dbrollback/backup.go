package dbrollback

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vibestack/rollback/pkg/progress"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/atomicfile"
)

// DefaultBackupDir is the backup directory when neither --backup-dir nor
// $ROLLBACK_BACKUP_DIR is set.
const DefaultBackupDir = "./rollback-backups"

// Backup is the metadata of one backup, stored as ID.json beside the dump.
type Backup struct {
	ID string `json:"id"`
	// File is the dump's file name, relative to the backup directory.
	File string `json:"file"`
	// Database is the database URL with the password redacted.
	Database string `json:"database"`
	// DatabaseKey identifies the database without credentials.
	DatabaseKey          string    `json:"databaseKey"`
	Engine               Engine    `json:"engine"`
	ServerVersion        string    `json:"serverVersion"`
	DumpTool             string    `json:"dumpTool"`
	DumpToolVersion      string    `json:"dumpToolVersion"`
	MigrationTool        string    `json:"migrationTool"`
	MigrationToolVersion string    `json:"migrationToolVersion"`
	MigrationVersion     int64     `json:"migrationVersion"`
	Size                 int64     `json:"size"`
	SHA256               string    `json:"sha256"`
	DurationSeconds      float64   `json:"durationSeconds"`
	Verified             bool      `json:"verified"`
	Verification         string    `json:"verification"`
	Created              time.Time `json:"created"`
}

// backupRequest is what takeBackup needs besides the database.
type backupRequest struct {
	dir              string
	clock            clock.PassiveClock
	obs              progress.Observer
	lockTimeout      time.Duration
	serverVersion    string
	migrationTool    string
	migrationVersion int64
}

// takeBackup dumps the database of t into the backup directory, verifies the
// dump by reading it back completely, and writes the metadata beside it. On
// any failure it removes what it wrote and returns an error.
func takeBackup(ctx context.Context, t *Target, req backupRequest) (*Backup, error) {
	if err := privateDir(req.dir); err != nil {
		return nil, err
	}
	start := req.clock.Now()
	b := &Backup{
		ID:                   newBackupID(start, t),
		Database:             t.String(),
		DatabaseKey:          t.Key(),
		Engine:               t.Engine,
		ServerVersion:        req.serverVersion,
		MigrationTool:        req.migrationTool,
		MigrationToolVersion: toolVersion(req.migrationTool),
		MigrationVersion:     req.migrationVersion,
		Created:              start.UTC(),
	}
	b.File = b.ID + map[Engine]string{Postgres: ".dump", MySQL: ".sql", SQLite: ".sqlite"}[t.Engine]
	final := filepath.Join(req.dir, b.File)
	partial := final + ".partial"
	emit(req.obs, progress.Info, "backup: %s of %s to %s", map[Engine]string{Postgres: "pg_dump -Fc", MySQL: "mysqldump --single-transaction", SQLite: "VACUUM INTO"}[t.Engine], t, final)
	var err error
	switch t.Engine {
	case Postgres:
		err = backupPostgres(ctx, t, partial, b, req.lockTimeout)
	case MySQL:
		err = backupMySQL(ctx, t, partial, b)
	case SQLite:
		err = backupSQLite(ctx, t, partial, b)
	}
	if err != nil {
		os.Remove(partial)
		return nil, t.redactErr(fmt.Errorf("backup %s: %w", t, err))
	}
	// The dump was checked as it streamed; now check that the file on disk
	// holds exactly those bytes.
	size, sum, err := hashFile(partial)
	if err == nil && (size != b.Size || sum != b.SHA256) {
		err = fmt.Errorf("file on disk (%d bytes, sha256 %s) differs from the verified stream (%d bytes, sha256 %s)", size, sum, b.Size, b.SHA256)
	}
	if err != nil {
		os.Remove(partial)
		return nil, t.redactErr(fmt.Errorf("backup %s: check %s: %w", t, partial, err))
	}
	if err := atomicfile.Rename(partial, final); err != nil {
		os.Remove(partial)
		return nil, fmt.Errorf("backup: %w", err)
	}
	b.Verified = true
	b.DurationSeconds = req.clock.Since(start).Seconds()
	if err := writeMeta(req.dir, b); err != nil {
		return nil, err
	}
	emit(req.obs, progress.Info, "backup: %s verified (%s), %s, sha256 %s, %.1fs", b.ID, b.Verification, humanBytes(b.Size), b.SHA256[:12], b.DurationSeconds)
	return b, nil
}

func newBackupID(now time.Time, t *Target) string {
	var r [3]byte
	_, _ = rand.Read(r[:])
	name := filepath.Base(t.Name)
	name = strings.TrimSuffix(name, filepath.Ext(name))
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, name)
	return fmt.Sprintf("%s-%s-%s-%s", now.UTC().Format("20060102T150405Z"), t.Engine, clean, hex.EncodeToString(r[:]))
}

func writeMeta(dir string, b *Backup) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("write backup metadata: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, b.ID+".json"), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write backup metadata: %w", err)
	}
	return nil
}

// privateDir creates dir 0700, or makes an existing one 0700: a backup is a
// full copy of the database, for its owner's eyes only.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create backup directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	if !st.IsDir() {
		return refusef("backup directory %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return refusef("backup directory %s is readable by others (mode %04o) and cannot be made private: %v; choose another --backup-dir or fix its mode", dir, st.Mode().Perm(), err)
		}
	}
	return nil
}

// ListBackups returns the backups in dir, newest first. A missing directory
// holds no backups.
func ListBackups(dir string) ([]Backup, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []Backup
	for _, m := range matches {
		b, err := readMeta(m)
		if err != nil {
			return nil, err
		}
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// LoadBackup reads the metadata of backup id in dir.
func LoadBackup(dir, id string) (*Backup, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return nil, refusef("invalid backup ID %q: see `rollback db backups`", id)
	}
	b, err := readMeta(filepath.Join(dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, refusef("no backup %q in %s: see `rollback db backups --backup-dir %s`", id, dir, dir)
	}
	return b, err
}

func readMeta(path string) (*Backup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read backup metadata: %w", err)
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("read backup metadata %s: %w", path, err)
	}
	return &b, nil
}

// CheckBackup re-reads backup b in dir: the file's size and sha256 must match
// the metadata and the dump must read back completely (pg_restore -f
// /dev/null, the mysqldump trailer, PRAGMA integrity_check).
func CheckBackup(ctx context.Context, dir string, b *Backup) error {
	path := filepath.Join(dir, b.File)
	size, sum, err := hashFile(path)
	if err != nil {
		return fmt.Errorf("check backup %s: %w", b.ID, err)
	}
	if size != b.Size || sum != b.SHA256 {
		readBack := "the read-back passes, but the bytes are not the ones verified"
		if rerr := VerifyDumpFile(ctx, b.Engine, path); rerr != nil {
			readBack = rerr.Error()
		}
		return fmt.Errorf("check backup %s: file changed since it was taken (%d bytes, sha256 %s; metadata says %d bytes, sha256 %s): %s", b.ID, size, sum, b.Size, b.SHA256, readBack)
	}
	if err := VerifyDumpFile(ctx, b.Engine, path); err != nil {
		return fmt.Errorf("check backup %s: %w", b.ID, err)
	}
	return nil
}

// VerifyDumpFile reads the dump at path back completely with the engine's
// own tools and reports whether it is complete and intact.
func VerifyDumpFile(ctx context.Context, e Engine, path string) error {
	switch e {
	case Postgres:
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return pgRestoreCheck(ctx, f)
	case MySQL:
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		tail := &tailBuffer{n: 256}
		if _, err := io.Copy(tail, f); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		return checkMySQLTrailer(tail.Bytes())
	case SQLite:
		return sqliteIntegrity(ctx, path)
	}
	return fmt.Errorf("unknown engine %q", e)
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// tailBuffer keeps the last n bytes written to it.
type tailBuffer struct {
	n   int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
	}
	return len(p), nil
}

// Bytes returns the kept bytes.
func (t *tailBuffer) Bytes() []byte { return t.buf }

// limitedBuffer keeps the first n bytes written to it (for stderr).
type limitedBuffer struct {
	n int
	bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
