package dbrollback

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/vibestack/rollback/pkg/atomicfile"
)

// backupMySQL runs mysqldump --single-transaction --quick --routines
// --triggers --events into the file and sha256, and checks the
// "-- Dump completed" trailer that mysqldump writes only when it finished.
// The password goes in MYSQL_PWD, never on the command line.
func backupMySQL(ctx context.Context, t *Target, path string, b *Backup) error {
	ver, err := commandVersion(ctx, "mysqldump")
	if err != nil {
		return err
	}
	b.DumpTool, b.DumpToolVersion = "mysqldump", ver
	args := append(mysqlClientArgs(t), "--single-transaction", "--quick", "--routines", "--triggers", "--events", "--", t.Name)
	cmd := exec.CommandContext(ctx, "mysqldump", args...)
	cmd.Env = append(os.Environ(), t.env()...)
	stderr := &limitedBuffer{n: 4096}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("mysqldump: %w", err)
	}
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return fmt.Errorf("create dump file: %w", err)
	}
	defer f.Close()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mysqldump (is it on PATH?): %w", err)
	}
	h := sha256.New()
	tail := &tailBuffer{n: 256}
	w := bufio.NewWriterSize(f, 1<<20)
	n, copyErr := io.Copy(io.MultiWriter(w, h, tail), out)
	if copyErr == nil {
		copyErr = w.Flush()
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("mysqldump: %w: %s", err, t.Redact(strings.TrimSpace(stderr.String())))
	}
	if copyErr != nil {
		return fmt.Errorf("write dump: %w", copyErr)
	}
	if err := checkMySQLTrailer(tail.Bytes()); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync dump file: %w", err)
	}
	b.Size, b.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	b.Verification = "mysqldump completion trailer present, whole file re-read"
	return nil
}

// checkMySQLTrailer checks that the last line of a dump is mysqldump's
// "-- Dump completed" trailer.
func checkMySQLTrailer(tail []byte) error {
	lines := bytes.Split(bytes.TrimRight(tail, "\n"), []byte("\n"))
	if !bytes.HasPrefix(lines[len(lines)-1], []byte("-- Dump completed")) {
		return fmt.Errorf("dump is incomplete: the last line is not mysqldump's \"-- Dump completed\" trailer")
	}
	return nil
}

// mysqlClientArgs returns the connection options for mysqldump and mysql,
// without the password, each as one --name=value argument so that no value
// is read as an option. The database name goes after "--".
func mysqlClientArgs(t *Target) []string {
	args := []string{"--protocol=tcp", "--host=" + t.Host, "--port=" + t.Port}
	if t.User != "" {
		args = append(args, "--user="+t.User)
	}
	return args
}
