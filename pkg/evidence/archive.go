package evidence

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxReadSize bounds what ReadFile decompresses (a bundle is at most its
// MaxSize, which Validate caps far lower in practice).
const maxReadSize = 1 << 30

// Archive is a bundle read back from disk, its files checked against the
// manifest's sha256.
type Archive struct {
	// Path is the file it was read from.
	Path string
	// Manifest is its manifest.
	Manifest Manifest
	// Files are the files' contents by name.
	Files map[string][]byte
}

// ErrCorrupt is returned for a bundle whose files do not match its manifest.
var ErrCorrupt = errors.New("evidence bundle does not match its manifest")

// ReadFile reads the bundle at p and checks every file's size and sha256
// against the manifest; a mismatch, a missing or an extra file is ErrCorrupt.
func ReadFile(p string) (*Archive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read evidence bundle: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read evidence bundle %s: %w", p, err)
	}
	tr := tar.NewReader(io.LimitReader(zr, maxReadSize))
	a := &Archive{Path: p, Files: map[string][]byte{}}
	var manifest []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read evidence bundle %s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("read evidence bundle %s: %w: %s is not a regular file", p, ErrCorrupt, h.Name)
		}
		if err := checkName(h.Name); err != nil {
			return nil, fmt.Errorf("read evidence bundle %s: %w: %v", p, ErrCorrupt, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read evidence bundle %s: %w", p, err)
		}
		if h.Name == ManifestName {
			manifest = data
			continue
		}
		a.Files[h.Name] = data
	}
	if manifest == nil {
		return nil, fmt.Errorf("read evidence bundle %s: %w: no %s", p, ErrCorrupt, ManifestName)
	}
	if err := json.Unmarshal(manifest, &a.Manifest); err != nil {
		return nil, fmt.Errorf("read evidence bundle %s: %w: %s: %v", p, ErrCorrupt, ManifestName, err)
	}
	if err := a.verify(); err != nil {
		return nil, fmt.Errorf("read evidence bundle %s: %w", p, err)
	}
	return a, nil
}

// verify checks the files against the manifest.
func (a *Archive) verify() error {
	seen := map[string]bool{}
	for _, fi := range a.Manifest.Files {
		data, ok := a.Files[fi.Name]
		if !ok {
			return fmt.Errorf("%w: %s is listed but missing", ErrCorrupt, fi.Name)
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != fi.Size || hex.EncodeToString(sum[:]) != fi.SHA256 {
			return fmt.Errorf("%w: %s has sha256 %x (%d bytes), the manifest says %s (%d bytes)", ErrCorrupt, fi.Name, sum, len(data), fi.SHA256, fi.Size)
		}
		seen[fi.Name] = true
	}
	for name := range a.Files {
		if !seen[name] {
			return fmt.Errorf("%w: %s is not listed", ErrCorrupt, name)
		}
	}
	return nil
}

// checkName refuses names that would leave the directory they are
// extracted into.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("unsafe file name %q", name)
	}
	return nil
}

// Extract writes the manifest and every file under dir (created 0700 when
// missing); files are created exclusively (an existing file is never
// overwritten) with mode 0600.
func (a *Archive) Extract(dir string) error {
	mj, err := json.MarshalIndent(a.Manifest, "", "  ")
	if err != nil {
		return err
	}
	write := func(name string, data []byte) error {
		if err := checkName(name); err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write(ManifestName, append(mj, '\n')); err != nil {
		return fmt.Errorf("extract evidence into %s: %w", dir, err)
	}
	for _, fi := range a.Manifest.Files {
		if err := write(fi.Name, a.Files[fi.Name]); err != nil {
			return fmt.Errorf("extract evidence into %s: %w", dir, err)
		}
	}
	return nil
}
