package dbrollback

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/vibestack/rollback/pkg/atomicfile"
)

// pgDumpCompression is the compression level of the custom-format archive
// (pg_dump -Z): none. pg_dump compresses in its one process, and at the
// default level (6) compression is most of the backup's time (the incident
// benchmark in docs/benchmarks.md times pg_dump -Fc and -Fp of the same
// database); the server sends the same bytes at every level. The archive is bigger (about the size of the
// tables' data as text, so the preflight's free-space check against the
// database's size still holds) and restores faster. Its integrity is
// checked as at any level: sha256 of the stream, the file re-hashed from
// disk, and a full read-back by pg_restore while the dump runs.
const pgDumpCompression = "-Z0"

// backupPostgres runs pg_dump -Fc -Z0 and streams its output at once into
// the file, into sha256 and into `pg_restore -f /dev/null`, which reads the
// whole archive back (every table's data) while the dump runs. The file's
// write-back to disk starts as it is written (writeBehind). The password
// goes in PGPASSWORD, never on the command line.
func backupPostgres(ctx context.Context, t *Target, path string, b *Backup, lockTimeout time.Duration) error {
	if lockTimeout <= 0 {
		lockTimeout = 10 * time.Second
	}
	ver, err := commandVersion(ctx, "pg_dump")
	if err != nil {
		return err
	}
	b.DumpTool, b.DumpToolVersion = "pg_dump", ver

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dump := exec.CommandContext(ctx, "pg_dump", "-Fc", pgDumpCompression, "--lock-wait-timeout="+strconv.FormatInt(lockTimeout.Milliseconds(), 10), "--dbname="+t.libpqURL())
	dump.Env = append(os.Environ(), t.env()...)
	dumpErr := &limitedBuffer{n: 4096}
	dump.Stderr = dumpErr
	out, err := dump.StdoutPipe()
	if err != nil {
		return fmt.Errorf("pg_dump: %w", err)
	}

	restore := exec.CommandContext(ctx, "pg_restore", "-f", os.DevNull)
	restoreErr := &limitedBuffer{n: 4096}
	restore.Stderr = restoreErr
	restoreIn, err := restore.StdinPipe()
	if err != nil {
		return fmt.Errorf("pg_restore: %w", err)
	}

	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return fmt.Errorf("create dump file: %w", err)
	}
	defer f.Close()

	if err := dump.Start(); err != nil {
		return fmt.Errorf("start pg_dump (is it on PATH?): %w", err)
	}
	if err := restore.Start(); err != nil {
		cancel()
		_ = dump.Wait()
		return fmt.Errorf("start pg_restore (is it on PATH?): %w", err)
	}
	h := sha256.New()
	w := bufio.NewWriterSize(&writeBehind{f: f}, 1<<20)
	n, copyErr := io.Copy(io.MultiWriter(w, h, restoreIn), out)
	if copyErr == nil {
		copyErr = w.Flush()
	}
	restoreIn.Close()
	if copyErr != nil {
		cancel()
	}
	dumpWait := dump.Wait()
	restoreWait := restore.Wait()
	switch {
	case dumpWait != nil:
		return fmt.Errorf("pg_dump: %w: %s", dumpWait, t.Redact(strings.TrimSpace(dumpErr.String())))
	case restoreWait != nil:
		return fmt.Errorf("verify with pg_restore -f /dev/null: %w: %s", restoreWait, strings.TrimSpace(restoreErr.String()))
	case copyErr != nil:
		return fmt.Errorf("write dump: %w", copyErr)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync dump file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close dump file: %w", err)
	}
	if n == 0 {
		return errors.New("pg_dump wrote nothing")
	}
	b.Size, b.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	b.Verification = "pg_restore -f /dev/null read the whole archive"
	return nil
}

// pgRestoreCheck reads an archive completely with pg_restore -f /dev/null.
// (pg_restore --list only reads the table of contents and succeeds on
// truncated and corrupted archives.)
func pgRestoreCheck(ctx context.Context, r io.Reader) error {
	cmd := exec.CommandContext(ctx, "pg_restore", "-f", os.DevNull)
	cmd.Stdin = r
	stderr := &limitedBuffer{n: 4096}
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_restore -f /dev/null: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// commandVersion returns the first line of `name --version`.
func commandVersion(ctx context.Context, name string) (string, error) {
	out, err := exec.CommandContext(ctx, name, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("run %s --version (is it installed and on PATH?): %w", name, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}
