package forward

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// fpMax is how many of a file's first bytes its fingerprint covers: enough
// to tell two EVE or Wazuh files apart (the first line carries a timestamp
// to the microsecond), small enough to read at every commit.
const fpMax = 1024

// fingerprint hashes the first bytes of f, at most fpMax.
func fingerprint(f io.ReaderAt) (string, int) {
	var b [fpMax]byte
	n, _ := f.ReadAt(b[:], 0)
	if n == 0 {
		return "", 0
	}
	sum := sha256.Sum256(b[:n])
	return hex.EncodeToString(sum[:16]), n
}

// fpMatches reports whether the file at path begins with the bytes the
// position's fingerprint was taken from (always true for a position saved
// before fingerprints, or of an empty file).
func fpMatches(path string, p position) bool {
	if p.FPLen == 0 {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	fp, n := fingerprint(io.NewSectionReader(f, 0, int64(p.FPLen)))
	return n == p.FPLen && fp == p.FP
}

// findSaved looks beside the input for the file a position names, by device
// and inode and then by fingerprint: where a rotated input went (eve.json.1,
// alerts.json-20261127…), whatever it was renamed to since.
func findSaved(dir string, p position) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for i, e := range ents {
		if i >= 10000 {
			break
		}
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if p.same(fileID(fi)) {
			path := filepath.Join(dir, e.Name())
			if fpMatches(path, p) {
				return path
			}
			return "" // the inode now holds another file
		}
	}
	return ""
}

// compressed names a rotated file kept compressed, which is not tailed.
var compressed = []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z"}

// fileKey orders rotated files: by the time of their last write, then by
// inode when two share it.
type fileKey struct {
	mtime time.Time
	ino   uint64
}

func (k fileKey) before(o fileKey) bool {
	if !k.mtime.Equal(o.mtime) {
		return k.mtime.Before(o.mtime)
	}
	return k.ino < o.ino
}

// successor finds the rotated sibling of path that was written after the
// file known by after: the one to read next when more than one rotation
// happened while the forwarder was stopped or behind. A sibling's name
// begins with the input's (eve.json.1, eve.json-20261127); the file now at
// the path, compressed ones and those in done are left out. It returns ""
// when the file at the path comes next.
func successor(path string, after fileKey, done map[[2]uint64]bool) string {
	dir, base := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return ""
	}
	var liveDev, liveIno uint64
	if fi, err := os.Stat(path); err == nil {
		liveDev, liveIno = fileID(fi)
	}
	best, bestKey := "", fileKey{}
	for i, e := range ents {
		if i >= 10000 {
			break
		}
		name := e.Name()
		if name == base || !strings.HasPrefix(name, base) || !e.Type().IsRegular() || strings.HasSuffix(name, ".tmp") {
			continue
		}
		skip := false
		for _, ext := range compressed {
			if strings.HasSuffix(name, ext) {
				skip = true
			}
		}
		if skip {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		dev, ino := fileID(fi)
		if ino == 0 || (dev == liveDev && ino == liveIno) || done[[2]uint64{dev, ino}] {
			continue
		}
		k := fileKey{fi.ModTime(), ino}
		if !after.before(k) {
			continue
		}
		if best == "" || k.before(bestKey) {
			best, bestKey = filepath.Join(dir, name), k
		}
	}
	return best
}
