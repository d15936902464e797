package forward

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"certnet/internal/ingest/decode"
)

// tailer follows one input file like tail -F and fills its batches.
//
// pos is how far the file has been read; linePos is just past the last
// complete line taken (the offset a restart resumes at); partial holds the
// bytes of a line still waiting for its newline.
type tailer struct {
	f   *Forwarder
	in  Input
	log *slog.Logger

	file     *os.File
	dev, ino uint64
	fp       string // fingerprint of the open file's first fpLen bytes
	fpLen    int
	done     map[[2]uint64]bool // rotated files finished in this run
	pos      int64
	linePos  int64
	partial  []byte
	skipping bool // inside a line too long to send
	draining bool // the open file is a rotated one found at start: finish it, then open the path
	buf      []byte
	missing  bool // the path was missing at the last look (logged once)

	// The batch being filled, written straight into a temporary spool file.
	tmp     *os.File
	bw      *bufio.Writer
	zw      *gzip.Writer
	lines   int
	raw     int64
	started time.Time
}

func newTailer(f *Forwarder, in Input) *tailer {
	return &tailer{f: f, in: in, log: f.log.With("input", in.Path), buf: make([]byte, 256<<10), done: map[[2]uint64]bool{}}
}

// run follows the input until ctx ends; then it commits the batch being
// filled (unless the forwarder crashed) and returns.
func (t *tailer) run(ctx context.Context, saved position, known bool) (err error) {
	defer func() {
		if t.file != nil {
			t.file.Close()
		}
		if t.tmp != nil { // an uncommitted batch: its lines are read again next time
			t.tmp.Close()
			if !t.f.crashed.Load() {
				os.Remove(t.tmp.Name())
			}
		}
	}()
	if err := t.start(saved, known); err != nil {
		return err
	}
	for {
		if ctx.Err() != nil {
			if t.f.crashed.Load() {
				return nil
			}
			return t.cut()
		}
		if t.lines > 0 && t.f.cfg.Now().Sub(t.started) >= t.f.cfg.Flush {
			if err := t.cut(); err != nil {
				return err
			}
		}
		if full, room := t.f.full(); full {
			t.f.paused.Add(1)
			t.log.Debug("forward: spool full, input paused")
			select {
			case <-ctx.Done():
			case <-room:
			case <-time.After(t.f.cfg.Poll):
			}
			t.f.paused.Add(-1)
			continue
		}
		progress, err := t.step()
		if err != nil {
			return err
		}
		if !progress {
			select {
			case <-ctx.Done():
			case <-time.After(t.f.cfg.Poll):
			}
		}
	}
}

// start opens the input where the saved position says: the same file at
// its offset; a rotated one found beside it (finished first, then every
// file rotated after it, oldest first); or, when the old file is gone, the
// files rotated after it and then the one at the path from its start.
func (t *tailer) start(saved position, known bool) error {
	fi, err := os.Stat(t.in.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	switch {
	case !known:
		if fi == nil {
			return nil
		}
		if err := t.open(t.in.Path, 0); err != nil {
			return err
		}
		if t.f.cfg.FromEnd {
			t.pos, t.linePos = fi.Size(), fi.Size()
		}
	case saved.Ino == 0: // no inode on this system: trust the path
		if fi == nil {
			return nil
		}
		if err := t.open(t.in.Path, saved.Offset); err != nil {
			return err
		}
	case fi != nil && saved.same(fileID(fi)) && fpMatches(t.in.Path, saved):
		if err := t.open(t.in.Path, saved.Offset); err != nil {
			return err
		}
	default:
		if old := findSaved(filepath.Dir(t.in.Path), saved); old != "" {
			t.log.Info("forward: the file was rotated while stopped; finishing the old one first", "old", old, "offset", saved.Offset)
			if err := t.open(old, saved.Offset); err != nil {
				return err
			}
			t.draining = true
			return nil
		}
		if saved.MTime != 0 {
			if next := successor(t.in.Path, fileKey{time.Unix(0, saved.MTime), saved.Ino}, t.done); next != "" {
				t.log.Warn("forward: the file was rotated while stopped and is gone; reading the files rotated after it first", "lost_from_offset", saved.Offset, "next", next)
				if err := t.open(next, 0); err != nil {
					return err
				}
				t.draining = t.file != nil
				return nil
			}
		}
		if fi != nil {
			t.log.Warn("forward: the file was replaced while stopped and the old one is not beside it; reading the new one from its start", "lost_from_offset", saved.Offset)
			return t.open(t.in.Path, 0)
		}
	}
	return nil
}

// open opens path at offset (0 when the file is now shorter: truncated).
func (t *tailer) open(path string, offset int64) error {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return err
	}
	if fi.Size() < offset {
		t.log.Warn("forward: the file is shorter than where reading stopped (truncated); reading it from its start", "offset", offset, "size", fi.Size())
		offset = 0
	}
	if t.file != nil {
		t.file.Close()
	}
	t.file = fh
	t.dev, t.ino = fileID(fi)
	t.fp, t.fpLen = fingerprint(fh)
	t.pos, t.linePos = offset, offset
	t.partial, t.skipping, t.missing = t.partial[:0], false, false
	return nil
}

// step reads what is new; at the end of the file it looks for rotation and
// truncation. progress is false when there was nothing to do.
func (t *tailer) step() (progress bool, err error) {
	if t.file == nil {
		if _, err := os.Stat(t.in.Path); err != nil {
			if !t.missing {
				t.missing = true
				t.log.Info("forward: waiting for the file to appear")
			}
			return false, nil
		}
		if err := t.open(t.in.Path, 0); err != nil {
			return false, err
		}
		return t.file != nil, nil
	}
	n, err := t.file.ReadAt(t.buf, t.pos)
	if n > 0 {
		if err := t.take(t.buf[:n]); err != nil {
			return false, err
		}
		return true, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if t.f.crash("read") {
		return false, errCrash
	}
	// At the end of the open file.
	if t.draining {
		t.draining = false
		return true, t.switchTo()
	}
	fi, err := os.Stat(t.in.Path)
	if err != nil {
		return false, nil // gone for now: keep the open file, the writer may still use it
	}
	if dev, ino := fileID(fi); ino != 0 && (dev != t.dev || ino != t.ino) {
		// Rotated: read the old file to its very end, then the new one.
		for {
			n, err := t.file.ReadAt(t.buf, t.pos)
			if n > 0 {
				if err := t.take(t.buf[:n]); err != nil {
					return false, err
				}
			}
			if n == 0 || err != nil {
				break
			}
		}
		t.log.Info("forward: the file was rotated; reading the new one from its start")
		return true, t.switchTo()
	}
	if fi.Size() < t.pos {
		t.log.Info("forward: the file was truncated; reading it again from its start", "was", t.pos, "now", fi.Size())
		t.pos, t.linePos, t.partial, t.skipping = 0, 0, t.partial[:0], false
		if t.lines == 0 {
			t.fp, t.fpLen = "", 0
			return true, t.f.savePosition(t.in.Path, t.in.Format, t.position(0))
		}
		t.fp, t.fpLen = "", 0
		return true, nil
	}
	return false, nil
}

// switchTo leaves the finished file for the next one: a file rotated after
// it that was never read (when it rotated more than once while the
// forwarder was stopped or behind), else the one at the path. A last line
// without its newline is taken as it is (its writer has moved on).
func (t *tailer) switchTo() error {
	if len(t.partial) > 0 && !t.skipping {
		line := bytes.TrimSpace(t.partial)
		if len(line) > 0 {
			if _, err := t.add(line, t.linePos, t.pos); err != nil {
				return err
			}
		}
	}
	after := fileKey{ino: t.ino}
	if fi, err := t.file.Stat(); err == nil {
		after.mtime = fi.ModTime()
	}
	t.done[[2]uint64{t.dev, t.ino}] = true
	t.file.Close()
	t.file = nil
	t.partial, t.skipping = t.partial[:0], false
	path := t.in.Path
	if next := successor(t.in.Path, after, t.done); next != "" {
		t.log.Info("forward: a file rotated after the one finished was never read; reading it first", "file", next)
		path = next
	}
	if err := t.open(path, 0); err != nil {
		return err
	}
	t.draining = t.file != nil && path != t.in.Path
	if t.file != nil && t.lines == 0 {
		return t.f.savePosition(t.in.Path, t.in.Format, t.position(0))
	}
	return nil
}

// position is where the open file has been read to, for the state.
func (t *tailer) position(offset int64) position {
	p := position{Dev: t.dev, Ino: t.ino, Offset: offset}
	if t.file != nil {
		if t.fpLen < fpMax {
			t.fp, t.fpLen = fingerprint(t.file)
		}
		if fi, err := t.file.Stat(); err == nil {
			p.MTime = fi.ModTime().UnixNano()
		}
	}
	p.FP, p.FPLen = t.fp, t.fpLen
	return p
}

// take splits what was read into lines; each complete one goes into the
// batch, with linePos just past it.
func (t *tailer) take(b []byte) error {
	base := t.pos
	t.pos += int64(len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.keepPartial(b)
			return nil
		}
		seg := b[:i]
		base += int64(i + 1)
		b = b[i+1:]
		if t.skipping {
			t.skipping = false
			t.linePos = base
			continue
		}
		line := seg
		if len(t.partial) > 0 {
			t.partial = append(t.partial, seg...)
			line = t.partial
		}
		if len(line) > decode.MaxLine {
			t.skip(len(line))
			t.partial = t.partial[:0]
			t.linePos = base
			continue
		}
		line = bytes.TrimSpace(line)
		cut := false
		if len(line) > 0 {
			var err error
			if cut, err = t.add(line, t.linePos, base); err != nil {
				return err
			}
		}
		t.linePos = base
		t.partial = t.partial[:0]
		if full, _ := t.f.full(); cut && full && len(b) > 0 {
			// The spool is full: leave the rest of what was read for
			// later, it is read again once there is room.
			t.pos = t.linePos
			return nil
		}
	}
	return nil
}

func (t *tailer) keepPartial(b []byte) {
	if t.skipping {
		return
	}
	if len(t.partial)+len(b) > decode.MaxLine {
		t.skip(len(t.partial) + len(b))
		t.partial = t.partial[:0]
		t.skipping = true
		return
	}
	t.partial = append(t.partial, b...)
}

func (t *tailer) skip(n int) {
	t.f.skipped.Add(1)
	t.log.Warn("forward: a line longer than the server takes is left out", "bytes_at_least", n, "max", decode.MaxLine, "offset", t.linePos)
}

// add puts a line, which spans [start, end) of the file, into the batch:
// the batch is cut before it if the line would not fit, and after it when
// full. A batch's position is the offset just past its last line.
func (t *tailer) add(line []byte, start, end int64) (cut bool, err error) {
	if t.lines > 0 && t.raw+int64(len(line))+1 > t.f.cfg.BatchBytes {
		if err := t.cutAt(start); err != nil {
			return false, err
		}
		cut = true
	}
	if t.tmp == nil {
		if err := t.begin(); err != nil {
			return cut, err
		}
	}
	if _, err := t.zw.Write(line); err != nil {
		return cut, err
	}
	if _, err := t.zw.Write(nl); err != nil {
		return cut, err
	}
	t.lines++
	t.raw += int64(len(line)) + 1
	t.linePos = end
	t.f.lines.Add(1)
	if t.lines >= t.f.cfg.BatchLines || t.raw >= t.f.cfg.BatchBytes {
		return true, t.cut()
	}
	return cut, nil
}

var nl = []byte{'\n'}

func (t *tailer) begin() error {
	fh, err := os.CreateTemp(filepath.Join(t.f.cfg.State, spoolDir), "batch-*.tmp")
	if err != nil {
		return err
	}
	t.tmp = fh
	if t.bw == nil {
		t.bw = bufio.NewWriterSize(fh, 256<<10)
		t.zw, _ = gzip.NewWriterLevel(t.bw, gzip.BestSpeed)
	} else {
		t.bw.Reset(fh)
		t.zw.Reset(t.bw)
	}
	t.lines, t.raw, t.started = 0, 0, t.f.cfg.Now()
	return nil
}

// cut closes the batch at the current line position.
func (t *tailer) cut() error { return t.cutAt(t.linePos) }

// cutAt makes the batch durable (gzip end, flush, fsync) and commits it
// with the input's position set to offset.
func (t *tailer) cutAt(offset int64) error {
	if t.tmp == nil || t.lines == 0 {
		return nil
	}
	err := t.zw.Close()
	if err == nil {
		err = t.bw.Flush()
	}
	if err == nil {
		err = t.tmp.Sync()
	}
	if cerr := t.tmp.Close(); err == nil {
		err = cerr
	}
	name, lines := t.tmp.Name(), t.lines
	t.tmp, t.lines, t.raw = nil, 0, 0
	if err != nil {
		os.Remove(name)
		return err
	}
	if err := t.f.commit(name, t.in.Format, t.in.Path, t.position(offset), lines); err != nil {
		if !errors.Is(err, errCrash) {
			os.Remove(name)
		}
		return err
	}
	return nil
}
