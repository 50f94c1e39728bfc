package journal

import (
	"context"
	"sync"
	"time"
)

// mirrorWait bounds how long Close waits for the mirror to catch up.
const mirrorWait = 10 * time.Second

// background copies the journal's entries to its mirror in order, off the
// path of Append: an entry is on disk (fsynced) when Append returns, and
// reaches the cluster a moment later, several at once when they pile up.
// Flush waits for it to catch up.
type background struct {
	mirror Mirror
	onErr  func(error)
	// onSeq is told the highest number this writer's entries got in the
	// mirror, so that its next entries are numbered after it.
	onSeq func(int)
	// last is that number: an entry numbered at or below it is numbered
	// after it, so that this writer's entries keep their order.
	last int

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []Entry
	busy    bool
	stopped bool
}

func newBackground(m Mirror, onErr func(error), onSeq func(int)) *background {
	b := &background{mirror: m, onErr: onErr, onSeq: onSeq}
	b.cond = sync.NewCond(&b.mu)
	go b.run()
	return b
}

// add queues e for the mirror.
func (b *background) add(e Entry) {
	b.mu.Lock()
	b.queue = append(b.queue, e)
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *background) run() {
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.stopped {
			b.cond.Wait()
		}
		if len(b.queue) == 0 && b.stopped {
			b.mu.Unlock()
			return
		}
		batch := b.queue
		b.queue, b.busy = nil, true
		b.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), mirrorWait)
		b.copy(ctx, batch)
		cancel()

		b.mu.Lock()
		b.busy = false
		b.mu.Unlock()
		b.cond.Broadcast()
	}
}

// copy mirrors batch in order, each entry numbered after the last one this
// writer mirrored.
func (b *background) copy(ctx context.Context, batch []Entry) {
	for i := range batch {
		if batch[i].Seq <= b.last {
			batch[i].Seq = b.last + 1
		}
		if i > 0 && batch[i].Seq <= batch[i-1].Seq {
			batch[i].Seq = batch[i-1].Seq + 1
		}
	}
	if bm, ok := b.mirror.(BatchMirror); ok && len(batch) > 1 {
		n, err := bm.MirrorBatch(ctx, batch)
		if err != nil {
			b.onErr(err)
		}
		b.last = max(b.last, n)
	} else {
		for _, e := range batch {
			if e.Seq <= b.last {
				e.Seq = b.last + 1
			}
			n, err := mirrorNumbered(ctx, b.mirror, e)
			if err != nil {
				b.onErr(err)
				continue
			}
			b.last = n
		}
	}
	b.onSeq(b.last)
}

// mirrorNumbered mirrors e and returns its number in the mirror.
func mirrorNumbered(ctx context.Context, m Mirror, e Entry) (int, error) {
	if nm, ok := m.(interface {
		MirrorNumbered(context.Context, Entry) (int, error)
	}); ok {
		return nm.MirrorNumbered(ctx, e)
	}
	return e.Seq, m.Mirror(ctx, e)
}

// flush waits until every queued entry was mirrored (or ctx ends).
func (b *background) flush(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		b.mu.Lock()
		for len(b.queue) > 0 || b.busy {
			b.cond.Wait()
		}
		b.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// stop ends the worker once the queue is empty.
func (b *background) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// BatchMirror is a Mirror that copies several entries at once.
type BatchMirror interface {
	Mirror
	// MirrorBatch copies entries, in order, and returns the number the
	// last one got.
	MirrorBatch(ctx context.Context, entries []Entry) (int, error)
}
