package evidence

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/vibestack/rollback/pkg/atomicfile"
)

// Export writes one .tar.gz to share: each archive's manifest and files
// under prefix (prefix/evidence-2/... for the second bundle, and so on),
// and the extra files (the incident's report) under prefix too. The file
// is written atomically with mode 0600; an existing path is refused.
func Export(dest, prefix string, archives []*Archive, extra map[string][]byte) error {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("export evidence: %s exists: remove it or choose another destination", dest)
	}
	err := atomicfile.Write(dest, fileMode, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		tw := tar.NewWriter(zw)
		put := func(name string, data []byte) error {
			if err := checkName(name); err != nil {
				return err
			}
			return writeEntry(tw, name, data)
		}
		for i, a := range archives {
			dir := ExportDir(prefix, i)
			mj, err := json.MarshalIndent(a.Manifest, "", "  ")
			if err != nil {
				return err
			}
			if err := put(path.Join(dir, ManifestName), append(mj, '\n')); err != nil {
				return err
			}
			for _, fi := range a.Manifest.Files {
				if err := put(path.Join(dir, fi.Name), a.Files[fi.Name]); err != nil {
					return err
				}
			}
		}
		for _, name := range sortedNames(extra) {
			if err := put(path.Join(prefix, name), extra[name]); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("export evidence to %s: %w", dest, err)
	}
	return nil
}

// ExportDir is where the i-th bundle (from 0) of an incident goes in an
// export: prefix, then prefix/evidence-2, ...
func ExportDir(prefix string, i int) string {
	if i == 0 {
		return prefix
	}
	return path.Join(prefix, fmt.Sprintf("evidence-%d", i+1))
}

func writeEntry(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: int64(fileMode), Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// Count is the number of files and bytes of some archives.
func Count(archives []*Archive) (files int, bytes int64) {
	for _, a := range archives {
		files += len(a.Manifest.Files)
		bytes += a.Manifest.Size()
	}
	return files, bytes
}
