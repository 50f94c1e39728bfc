package dbrollback

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteBehindWritesEveryByte(t *testing.T) {
	for _, size := range []int{0, 1, writeBehindChunk - 1, writeBehindChunk, 3*writeBehindChunk + 12345} {
		path := filepath.Join(t.TempDir(), "dump")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i * 7)
		}
		w := &writeBehind{f: f}
		// Uneven writes, crossing chunk boundaries.
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1<<20+3)
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || w.written != int64(size) {
			t.Errorf("size %d: file has %d bytes (written %d), want the %d written", size, len(got), w.written, size)
		}
	}
}
