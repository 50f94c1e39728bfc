// Package atomicfile writes files so that a reader sees the old contents or
// the new ones, never a part: the data goes to a new temporary file in the
// same directory (created with O_EXCL and O_NOFOLLOW, so no existing file or
// symbolic link planted there is written through), is fsynced, renamed over
// the target, and the directory is fsynced so that the rename survives a
// crash.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Write replaces path with what write writes, atomically; the file gets
// mode (before the umask). On any error the target is left as it was and the
// temporary file is removed.
func Write(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	f, tmp, err := CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".", mode)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	return Rename(tmp, path)
}

// WriteFile is Write of data.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	return Write(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// CreateTemp creates a new file in dir named prefix plus random hex digits,
// with O_EXCL and O_NOFOLLOW, and returns it open for writing with its path.
func CreateTemp(dir, prefix string, mode os.FileMode) (*os.File, string, error) {
	for range 10 {
		var r [6]byte
		_, _ = rand.Read(r[:])
		path := filepath.Join(dir, prefix+hex.EncodeToString(r[:])+".tmp")
		f, err := Create(path, mode)
		if os.IsExist(err) {
			continue
		}
		return f, path, err
	}
	return nil, "", fmt.Errorf("create a temporary file in %s: names keep colliding", dir)
}

// Create creates path, which must not exist (O_EXCL), without following a
// symbolic link (O_NOFOLLOW), open for writing.
func Create(path string, mode os.FileMode) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, mode)
}

// Rename renames from to to and fsyncs the directory of to (and of from,
// when it differs).
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if err := SyncDir(filepath.Dir(to)); err != nil {
		return err
	}
	if d := filepath.Dir(from); d != filepath.Dir(to) {
		return SyncDir(d)
	}
	return nil
}

// SyncDir fsyncs directory dir, so that files created, renamed or removed
// in it stay so after a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
