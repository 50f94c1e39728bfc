package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vibestack/rollback/pkg/atomicfile"
)

// ManifestName is the bundle's table of contents, its first file.
const ManifestName = "manifest.json"

// Why a collection stopped early (Manifest.StoppedBy).
const (
	StoppedByBudget = "budget"
	StoppedBySize   = "size"
)

// Manifest describes a bundle: what it holds, with the sha256 of each file,
// what was left out and why, and what could not be read.
type Manifest struct {
	// Incident is the incident the evidence belongs to.
	Incident string `json:"incident,omitempty"`
	// Started and Finished bound the collection; Deadline is when the
	// budget ran out (or would have).
	Started  time.Time `json:"started"`
	Deadline time.Time `json:"deadline"`
	Finished time.Time `json:"finished"`
	// Limits are the limits the collection ran with.
	Limits Limits `json:"limits"`
	// Sources name what was collected from.
	Sources []string `json:"sources"`
	// StoppedBy is "budget" or "size" when a limit cut the collection.
	StoppedBy string `json:"stoppedBy,omitempty"`
	// Files are the bundle's files (the manifest aside), in order.
	Files []FileInfo `json:"files"`
	// Skipped is what was not collected and why.
	Skipped []Skip `json:"skipped,omitempty"`
	// Errors are the reads that failed.
	Errors []SourceError `json:"errors,omitempty"`
}

// FileInfo is one file of a bundle.
type FileInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Truncated is true when the size limit cut the file's beginning.
	Truncated bool `json:"truncated,omitempty"`
}

// Skip is something the collection left out.
type Skip struct {
	// What was left out: "logs of pod web-1 container app (previous)".
	What string `json:"what"`
	// Why: "budget", "size", "limit: --evidence-pods 10".
	Why string `json:"why"`
}

// SourceError is a read that failed.
type SourceError struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Size is the sum of the files' sizes.
func (m *Manifest) Size() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Duration is how long the collection took.
func (m *Manifest) Duration() time.Duration { return m.Finished.Sub(m.Started) }

// Bundle is the evidence of one collection, in memory until written: at
// most MaxSize bytes of files. It is safe for concurrent use.
type Bundle struct {
	mu       sync.Mutex
	manifest Manifest
	data     map[string][]byte
	max      int64
	size     int64
	// sealed is set when the collection ended: what sources and reads
	// left behind at the deadline add later is dropped.
	sealed bool
}

func newBundle(max int64) *Bundle {
	return &Bundle{data: map[string][]byte{}, max: max}
}

// Manifest returns a copy of the bundle's manifest.
func (b *Bundle) Manifest() Manifest {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.manifest
	m.Files = append([]FileInfo(nil), m.Files...)
	m.Skipped = append([]Skip(nil), m.Skipped...)
	m.Errors = append([]SourceError(nil), m.Errors...)
	m.Sources = append([]string(nil), m.Sources...)
	return m
}

// File returns the contents of the file name, and whether it exists.
func (b *Bundle) File(name string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.data[name]
	return d, ok
}

// add stores a file (already redacted). When the size limit leaves less
// room than data needs, keepTail keeps data's end (logs) and otherwise the
// file is left out; both are recorded. It reports whether anything was kept.
func (b *Bundle) add(name string, data []byte, keepTail bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return false
	}
	if _, dup := b.data[name]; dup {
		name = uniqueName(b.data, name)
	}
	room := b.max - b.size
	truncated := false
	if int64(len(data)) > room {
		b.manifest.StoppedBy = StoppedBySize
		if !keepTail || room < 1024 {
			b.manifest.Skipped = append(b.manifest.Skipped, Skip{What: name, Why: fmt.Sprintf("%s: %d bytes, %d left of the %d-byte limit", StoppedBySize, len(data), max(room, 0), b.max)})
			return false
		}
		data, truncated = data[int64(len(data))-room:], true
		b.manifest.Skipped = append(b.manifest.Skipped, Skip{What: name + " (beginning)", Why: fmt.Sprintf("%s: the %d-byte limit was reached", StoppedBySize, b.max)})
	}
	sum := sha256.Sum256(data)
	b.data[name] = data
	b.size += int64(len(data))
	b.manifest.Files = append(b.manifest.Files, FileInfo{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Truncated: truncated})
	return true
}

// dropSameRun keeps one file of a container's run read twice, as its
// previous run (prev) and as its current one (cur): the same bytes drop
// prev; cur a beginning of prev (read while the run went on, before it
// ended) drops cur.
func (b *Bundle) dropSameRun(prev, cur string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.data[prev]
	c, has := b.data[cur]
	switch {
	case b.sealed || !ok || !has:
	case bytes.Equal(p, c):
		b.remove(prev)
	case len(c) > 0 && bytes.HasPrefix(p, c):
		b.remove(cur)
	}
}

// remove deletes a file; the caller holds mu.
func (b *Bundle) remove(name string) {
	b.size -= int64(len(b.data[name]))
	delete(b.data, name)
	for i, f := range b.manifest.Files {
		if f.Name == name {
			b.manifest.Files = append(b.manifest.Files[:i], b.manifest.Files[i+1:]...)
			break
		}
	}
}

// full reports whether the size limit is reached.
func (b *Bundle) full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.manifest.StoppedBy == StoppedBySize
}

func (b *Bundle) skip(what, why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return
	}
	b.manifest.Skipped = append(b.manifest.Skipped, Skip{What: what, Why: why})
	// Whatever a limit left out means that limit cut the collection, even
	// when the cut came early (the rate limiter refusing a wait that would
	// pass the deadline) and the collection itself ended in time.
	for _, limit := range []string{StoppedByBudget, StoppedBySize} {
		if strings.HasPrefix(why, limit+":") && b.manifest.StoppedBy == "" {
			b.manifest.StoppedBy = limit
		}
	}
}

func (b *Bundle) fail(source string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return
	}
	b.manifest.Errors = append(b.manifest.Errors, SourceError{Source: source, Error: err.Error()})
}

func (b *Bundle) stoppedBy(why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.manifest.StoppedBy == "" {
		b.manifest.StoppedBy = why
	}
}

// seal ends the collection: the late reads that did not keep their file
// are recorded as cut by the budget, and nothing is added afterwards.
func (b *Bundle) seal(late []logTask) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return
	}
	recorded := map[string]bool{}
	for _, s := range b.manifest.Skipped {
		recorded[s.What] = true
	}
	for _, e := range b.manifest.Errors {
		recorded[e.Source] = true
	}
	for _, t := range late {
		if _, kept := b.data[t.file]; !kept && !recorded[t.what()] {
			b.manifest.Skipped = append(b.manifest.Skipped, Skip{What: t.what(), Why: StoppedByBudget + ": cut while reading"})
			if b.manifest.StoppedBy == "" {
				b.manifest.StoppedBy = StoppedByBudget
			}
		}
	}
	b.sealed = true
}

func uniqueName(have map[string][]byte, name string) string {
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s.%d", name, i)
		if _, ok := have[n]; !ok {
			return n
		}
	}
}

// WriteTo writes the bundle as a gzip-compressed tar archive: the manifest
// first, then the files in the manifest's order, all mode 0600.
func (b *Bundle) WriteTo(w io.Writer) (int64, error) {
	m := b.Manifest()
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: w}
	zw := gzip.NewWriter(cw)
	tw := tar.NewWriter(zw)
	put := func(name string, data []byte) error { return writeEntry(tw, name, data) }
	if err := put(ManifestName, append(mj, '\n')); err != nil {
		return cw.n, err
	}
	b.mu.Lock()
	data := b.data
	b.mu.Unlock()
	for _, f := range m.Files {
		if err := put(f.Name, data[f.Name]); err != nil {
			return cw.n, err
		}
	}
	if err := tw.Close(); err != nil {
		return cw.n, err
	}
	err = zw.Close()
	return cw.n, err
}

// WriteFile writes the bundle to path atomically (pkg/atomicfile), mode
// 0600, and returns the compressed size.
func (b *Bundle) WriteFile(path string) (int64, error) {
	var n int64
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		var err error
		n, err = b.WriteTo(w)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("write evidence bundle %s: %w", path, err)
	}
	return n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fileMode is the mode of exported files.
const fileMode os.FileMode = 0o600
