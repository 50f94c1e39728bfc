package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/redact"
)

// Options configure Open.
type Options struct {
	// Dir is the directory of journals; DefaultDir() when empty.
	Dir string
	// Incident is the incident id (required).
	Incident string
	// Clock stamps entries; clock.RealClock{} when nil.
	Clock clock.Clock
	// Mirror, when set, receives every entry after it is on disk; best effort.
	Mirror Mirror
	// Redact lists secret values: every occurrence in a written entry becomes
	// Redacted (pkg/redact also removes the credentials it recognises, such
	// as URL passwords, from every entry). Empty strings are skipped.
	Redact []string
	// Actor is the Actor of entries that set none.
	Actor string
}

// Redacted replaces secret values in journal entries.
const Redacted = redact.Mask

// Journal is an incident's open journal: an append-only JSON-lines file.
type Journal struct {
	mu        sync.Mutex
	o         Options
	path      string
	f         *os.File
	entries   []Entry
	mirrorErr []error
	redactor  *redact.Redactor
	// seqBase is the mirror's last number when the journal was opened
	// (another writer's entries of the same incident).
	seqBase int
	bg      *background
}

// Open opens (creating when needed) the journal of o.Incident in o.Dir: the
// directory is created 0700, the file <Dir>/<Incident>.jsonl 0600 in append
// mode. Entries already in the file are read so that Seq continues.
func Open(o Options) (*Journal, error) {
	if err := ValidateID(o.Incident); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if o.Dir == "" {
		o.Dir = DefaultDir()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("open journal: create directory: %w", err)
	}
	path := filepath.Join(o.Dir, o.Incident+".jsonl")
	entries, err := readFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open journal %s: %w", o.Incident, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", o.Incident, err)
	}
	if err := truncateTorn(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open journal %s: %w", o.Incident, err)
	}
	j := &Journal{o: o, path: path, f: f, entries: entries, redactor: redact.New(o.Redact...)}
	if sm, ok := o.Mirror.(SeqMirror); ok {
		ctx, cancel := context.WithTimeout(context.Background(), mirrorWait)
		last, err := sm.LastSeq(ctx, o.Incident)
		cancel()
		if err != nil {
			j.mirrorErr = append(j.mirrorErr, err)
		}
		j.seqBase = last
	}
	if o.Mirror != nil {
		j.bg = newBackground(o.Mirror, func(err error) {
			j.mu.Lock()
			j.mirrorErr = append(j.mirrorErr, err)
			j.mu.Unlock()
		}, func(seq int) {
			j.mu.Lock()
			j.seqBase = max(j.seqBase, seq)
			j.mu.Unlock()
		})
		j.bg.last = j.seqBase
	}
	return j, nil
}

// truncateTorn makes sure the file ends with a newline, so that a line torn
// by a crash is not glued to the next entry: the torn bytes stay in their own
// (ignored) line.
func truncateTorn(f *os.File) error {
	r, err := os.Open(f.Name())
	if err != nil {
		return err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, st.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
}

// ID returns the incident id.
func (j *Journal) ID() string { return j.o.Incident }

// Path returns the journal file's path.
func (j *Journal) Path() string { return j.path }

// Append completes e (Seq, Time in UTC, Incident, Actor when empty), redacts
// secrets, writes it as one JSON line, fsyncs the file and then queues it
// for the mirror, which copies it in the background (Flush waits for it).
// Seq continues this journal's numbers and the mirror's at Open; when
// another writer took a number meanwhile, the mirror numbers the entry
// after it. A mirror error does not fail Append; see MirrorErrors.
func (j *Journal) Append(ctx context.Context, e Entry) (Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return Entry{}, errors.New("append to journal: journal is closed")
	}
	seq := j.seqBase
	if n := len(j.entries); n > 0 && j.entries[n-1].Seq > seq {
		seq = j.entries[n-1].Seq
	}
	e.Seq = seq + 1
	e.Time = j.o.Clock.Now().UTC()
	e.Incident = j.o.Incident
	if e.Actor == "" {
		e.Actor = j.o.Actor
	}
	line, clean, err := encode(e, j.redactor)
	if err != nil {
		return Entry{}, fmt.Errorf("append %s to journal %s: %w", e.Action, j.o.Incident, err)
	}
	if err := j.write(line); err != nil {
		return Entry{}, fmt.Errorf("append %s to journal %s: %w", e.Action, j.o.Incident, err)
	}
	j.entries = append(j.entries, clean)
	if j.bg != nil {
		j.bg.add(clean)
	}
	return clean, nil
}

// write appends line and fsyncs it. A failed or partial write (a full disk)
// is truncated back to the last good entry, so that it cannot corrupt the
// next one; the error says whether that worked.
func (j *Journal) write(line []byte) error {
	st, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	good := st.Size()
	_, err = j.f.Write(line)
	if err == nil {
		if err = j.f.Sync(); err == nil {
			return nil
		}
		err = fmt.Errorf("fsync: %w", err)
	}
	if terr := j.f.Truncate(good); terr != nil {
		return fmt.Errorf("%w; truncating the partial entry also failed (%v): the next reader skips it", err, terr)
	}
	_ = j.f.Sync()
	return err
}

// encode returns e as one redacted JSON line and the entry as it was written.
func encode(e Entry, r *redact.Redactor) ([]byte, Entry, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, Entry{}, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, Entry{}, err
	}
	if raw, err = json.Marshal(r.Value(doc)); err != nil {
		return nil, Entry{}, err
	}
	var clean Entry
	if err := json.Unmarshal(raw, &clean); err != nil {
		return nil, Entry{}, err
	}
	// Write what the entry decodes to, so written and returned entries match.
	if raw, err = json.Marshal(clean); err != nil {
		return nil, Entry{}, err
	}
	return append(raw, '\n'), clean, nil
}

// Entries returns a copy of every entry so far, including those read at Open.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Entry(nil), j.entries...)
}

// MirrorErrors returns the errors the mirror returned so far.
func (j *Journal) MirrorErrors() []error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]error(nil), j.mirrorErr...)
}

// Flush waits (until ctx ends) for the mirror to hold every entry so far.
func (j *Journal) Flush(ctx context.Context) {
	if j.bg != nil {
		j.bg.flush(ctx)
	}
}

// Close waits (at most 10 s) for the mirror to catch up and closes the
// journal file.
func (j *Journal) Close() error {
	if j.bg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), mirrorWait)
		j.bg.flush(ctx)
		cancel()
		j.bg.stop()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("close journal %s: %w", j.o.Incident, err)
	}
	return nil
}

// Read returns the entries of incident's journal in dir (DefaultDir() when
// empty). A torn line (a crash in the middle of a write) is ignored.
func Read(dir, incident string) ([]Entry, error) {
	if err := ValidateID(incident); err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	if dir == "" {
		dir = DefaultDir()
	}
	entries, err := readFile(filepath.Join(dir, incident+".jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read journal: incident %s: %w: list incidents with \"rollback incident list\" (or --cluster)", incident, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", incident, err)
	}
	return entries, nil
}

// ErrNotFound says there is no journal for an incident.
var ErrNotFound = errors.New("no journal found")

// readFile reads a JSON-lines journal; undecodable lines (torn by a crash) are skipped.
func readFile(path string) ([]Entry, error) {
	entries, _, err := readEntries(path)
	return entries, err
}

// readEntries reads a JSON-lines journal: its entries, and the lines that
// are not an entry, each as "line N: why". A line cut short (torn by a
// crash mid-write) is skipped and not listed: the journal expects them.
func readEntries(path string) ([]Entry, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var (
		entries []Entry
		bad     []string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e, err := decodeEntry(line)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			continue // torn by a crash mid-write
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", n, err))
			continue
		}
		entries = append(entries, e)
	}
	return entries, bad, sc.Err()
}

// decodeEntry decodes one entry; input cut short is io.ErrUnexpectedEOF.
func decodeEntry(b []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&e); err != nil {
		return Entry{}, err
	}
	if dec.More() {
		return Entry{}, errors.New("more than one JSON value")
	}
	return e, nil
}
