package dbrollback

import "os"

// writeBehindChunk is how much of a dump is written before its write-back
// to disk is started.
const writeBehindChunk = 8 << 20

// writeBehind writes a dump file and starts the write-back of every chunk
// to disk as soon as the chunk is written (startWriteback), so that the
// disk writes while the dump still runs and the fsync at the end, which
// remains the durability guarantee, finds little left to write.
type writeBehind struct {
	f *os.File
	// written is the bytes written; started those whose write-back began.
	written, started int64
}

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.started >= writeBehindChunk {
		startWriteback(w.f, w.started, w.written-w.started)
		w.started = w.written
	}
	return n, err
}
