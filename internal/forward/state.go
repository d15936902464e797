package forward

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The state folder:
//
//	forward.json         instance id, next batch number, each input's position
//	spool/NNNN.FORMAT.ndjson.gz   batches cut but not yet acknowledged, sent in number order
//	spool/*.tmp          a batch being written (removed at start: its lines are read again)
//	rejected/            batches the server refused for good, each with a .txt saying why
//	lock                 held while a forwarder runs
//
// The commit point of a batch is the rename of forward.json that records
// both the next batch number and the input's new position. A spool file
// numbered at or past next_seq was written but never committed: it is
// removed at start and its lines are read again, so nothing is lost and
// nothing is sent under two keys.
const (
	stateFile   = "forward.json"
	spoolDir    = "spool"
	rejectedDir = "rejected"
	lockFile    = "lock"
	spoolExt    = ".ndjson.gz"
)

var errLocked = errors.New("forward: the state folder is in use by another forwarder")

// state is what forward.json holds.
type state struct {
	Version  int                 `json:"version"`
	Instance string              `json:"instance"`
	NextSeq  uint64              `json:"next_seq"`
	Inputs   map[string]position `json:"inputs"`
}

// position is where reading an input resumes: the file (device and inode,
// and a fingerprint of its first bytes, as an inode is reused once its file
// is deleted), the offset just past the last line that is safely in the
// spool, and the file's modification time then (a file rotated after it was
// last written to is newer).
type position struct {
	Format string `json:"format,omitempty"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	FP     string `json:"fp,omitempty"`     // hex SHA-256 of the first FPLen bytes
	FPLen  int    `json:"fp_len,omitempty"` // up to fpMax; less while the file was shorter
	MTime  int64  `json:"mtime,omitempty"`  // Unix nanoseconds
}

func (p position) same(dev, ino uint64) bool {
	return p.Ino != 0 && p.Dev == dev && p.Ino == ino
}

func (s state) clone() state {
	c := s
	c.Inputs = make(map[string]position, len(s.Inputs))
	for k, v := range s.Inputs {
		c.Inputs[k] = v
	}
	return c
}

// loadState reads forward.json, or starts a new state with a fresh instance
// id when there is none.
func loadState(dir string) (state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return state{}, err
		}
		return state{Version: 1, Instance: hex.EncodeToString(id[:]), NextSeq: 1, Inputs: map[string]position{}}, nil
	}
	if err != nil {
		return state{}, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return state{}, fmt.Errorf("forward: %s is damaged (%v); move it away to start over, which sends the inputs again", filepath.Join(dir, stateFile), err)
	}
	if s.Instance == "" || s.NextSeq == 0 || !validKey(batchKey(s.Instance, s.NextSeq)) {
		return state{}, fmt.Errorf("forward: %s has no valid instance or next batch number", filepath.Join(dir, stateFile))
	}
	if s.Inputs == nil {
		s.Inputs = map[string]position{}
	}
	return s, nil
}

// removeStaleTemp removes the temporary copies of forward.json a crash left
// behind (the state is whatever forward.json says).
func removeStaleTemp(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, stateFile+".*.tmp"))
	for _, name := range old {
		os.Remove(name)
	}
}

// saveState writes forward.json durably: a temporary file, fsync, rename,
// fsync of the folder.
func saveState(dir string, s state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(dir, stateFile, b)
}

func writeAtomic(dir, name string, b []byte) error {
	tmp, err := os.CreateTemp(dir, name+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// batchKey is a batch's Idempotency-Key: the instance id and the batch
// number, the same on every attempt and after every restart.
func batchKey(instance string, seq uint64) string {
	return "fwd-" + instance + "-" + strconv.FormatUint(seq, 10)
}

// validKey mirrors the server's rule: 1–128 printable ASCII characters.
func validKey(k string) bool {
	if len(k) < 1 || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// spooled is a committed batch waiting in the spool.
type spooled struct {
	Seq    uint64
	Format string // "" lets the server detect it
	Name   string // file name in spool/
	Size   int64
	Lines  int // 0 when not known (found at start)
	At     time.Time
}

func spoolName(seq uint64, format string) string {
	if format == "" {
		format = "auto"
	}
	return fmt.Sprintf("%016d.%s%s", seq, format, spoolExt)
}

// parseSpoolName reads a spool file name back; ok is false for anything
// else.
func parseSpoolName(name string) (seq uint64, format string, ok bool) {
	rest, found := strings.CutSuffix(name, spoolExt)
	if !found {
		return 0, "", false
	}
	num, format, found := strings.Cut(rest, ".")
	if !found || len(num) == 0 || format == "" {
		return 0, "", false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || seq == 0 {
		return 0, "", false
	}
	if format == "auto" {
		format = ""
	}
	return seq, format, true
}

// scanSpool lists the committed batches of the spool in order, removes
// temporary files and the batches written past the commit point (their
// lines will be read again).
func scanSpool(dir string, next uint64) ([]spooled, []string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var out []spooled
	var removed []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, nil, err
			}
			removed = append(removed, name)
			continue
		}
		seq, format, ok := parseSpoolName(name)
		if !ok {
			continue
		}
		if seq >= next {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, nil, err
			}
			removed = append(removed, name)
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, spooled{Seq: seq, Format: format, Name: name, Size: fi.Size(), At: fi.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	if len(removed) > 0 {
		if err := syncDir(dir); err != nil {
			return nil, nil, err
		}
	}
	return out, removed, nil
}

// ParseSize reads a size such as 1GB, 512MiB, 64k or 1048576 (bytes);
// the units are powers of 1024 whether written KB or KiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	num := strings.TrimRight(t, "KMGTIB ")
	unit := strings.TrimSpace(t[len(num):])
	mult := int64(1)
	switch unit {
	case "", "B":
	case "K", "KB", "KIB":
		mult = 1 << 10
	case "M", "MB", "MIB":
		mult = 1 << 20
	case "G", "GB", "GIB":
		mult = 1 << 30
	case "T", "TB", "TIB":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KB, MB, GB or TB)", s, unit)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 || n != n {
		return 0, fmt.Errorf("size %q is not a number of bytes, KB, MB or GB", s)
	}
	v := n * float64(mult)
	if v >= 1<<62 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}
