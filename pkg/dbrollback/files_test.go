package dbrollback

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

// sqliteTarget creates a small SQLite database file with mode perm.
func sqliteTarget(t *testing.T, perm os.FileMode) *Target {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	tg, err := ParseURL("sqlite://" + path)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func backupOf(t *testing.T, tg *Target, dir string) *Backup {
	t.Helper()
	b, err := takeBackup(context.Background(), tg, backupRequest{dir: dir, clock: clocktesting.NewFakeClock(time.Unix(1e9, 0)), migrationTool: ToolMigrate})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestBackupsArePrivate: an existing 0755 backup directory becomes 0700, and
// the SQLite copy (VACUUM INTO, 0644 before) and its metadata are 0600.
func TestBackupsArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	tg := sqliteTarget(t, 0o644)
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := backupOf(t, tg, dir)
	if p := perm(t, dir); p != 0o700 {
		t.Errorf("backup directory mode %04o, want 0700", p)
	}
	for _, f := range []string{b.File, b.ID + ".json"} {
		if p := perm(t, filepath.Join(dir, f)); p != 0o600 {
			t.Errorf("%s mode %04o, want 0600", f, p)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("files left in the backup directory: %v", entries)
	}
}

// TestSQLiteRestoreKeepsModeAndOwner: the restored file has the mode (and,
// as root, the owner) the database file had.
func TestSQLiteRestoreKeepsModeAndOwner(t *testing.T) {
	tg := sqliteTarget(t, 0o640)
	dir := t.TempDir()
	b := backupOf(t, tg, dir)
	uid, gid := os.Geteuid(), os.Getegid()
	if os.Geteuid() == 0 {
		uid, gid = 65534, 65534
		if err := os.Chown(tg.Name, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := restore(context.Background(), tg, RestoreOptions{BackupDir: dir, ID: b.ID}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(tg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %04o after the restore, want 0640", st.Mode().Perm())
	}
	if sys := st.Sys().(*syscall.Stat_t); int(sys.Uid) != uid || int(sys.Gid) != gid {
		t.Errorf("owner %d:%d after the restore, want %d:%d", sys.Uid, sys.Gid, uid, gid)
	}
}

// TestSQLiteRestoreRefusesWhileOpen: a process holding the database file
// open makes the restore refuse (exit 2), naming its pid and command, and
// the file and its -wal are left alone.
func TestSQLiteRestoreRefusesWhileOpen(t *testing.T) {
	tg := sqliteTarget(t, 0o600)
	dir := t.TempDir()
	b := backupOf(t, tg, dir)
	if err := os.WriteFile(tg.Name+"-wal", []byte("wal"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(tg.Name)
	holder := exec.Command("sh", "-c", `exec 3<"$1"; echo open; exec sleep 60`, "sh", tg.Name)
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(out, buf); err != nil {
		t.Fatal(err)
	}
	_, err := restore(context.Background(), tg, RestoreOptions{BackupDir: dir, ID: b.ID})
	if err == nil || outcome.KindOf(err) != outcome.Refused {
		t.Fatalf("restore while open: %v, want a refusal", err)
	}
	for _, want := range []string{"pid " + strconv.Itoa(holder.Process.Pid), "sleep 60", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	after, _ := os.ReadFile(tg.Name)
	if string(after) != string(before) {
		t.Error("the database file changed")
	}
	if _, err := os.Stat(tg.Name + "-wal"); err != nil {
		t.Errorf("the -wal of an open database was removed: %v", err)
	}
	_ = holder.Process.Kill()
	_ = holder.Wait()
	if _, err := restore(context.Background(), tg, RestoreOptions{BackupDir: dir, ID: b.ID}); err != nil {
		t.Fatalf("restore once closed: %v", err)
	}
	if _, err := os.Stat(tg.Name + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale -wal kept after the restore: %v", err)
	}
}

func TestEnvOnlyWithAPassword(t *testing.T) {
	for raw, want := range map[string]int{"postgres://app@db/x": 0, "postgres://app:pw@db/x": 1, "mysql://root@db/x": 0, "mysql://root:p@db/x": 1} {
		tg, err := ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(tg.env()); got != want {
			t.Errorf("%s: env %v", raw, tg.env())
		}
	}
	tg, _ := ParseURL("mysql://-u:p@-h:3306/-x")
	args := strings.Join(append(mysqlClientArgs(tg), "--", tg.Name), " ")
	if args != "--protocol=tcp --host=-h --port=3306 --user=-u -- -x" {
		t.Errorf("mysql args %q", args)
	}
}
