package forward

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"certnet/internal/ingest/decode"
)

// FuzzTail writes content to a file in pieces cut at the given points and
// follows it: the spooled batches hold exactly the file's complete,
// non-blank lines (trimmed), in order; the last line waits for its newline.
func FuzzTail(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"), []byte{3, 9})
	f.Add([]byte("one\n\n  two  \r\nthree-without-newline"), []byte{1, 1, 1})
	f.Add([]byte("\n\n\n"), []byte{})
	f.Fuzz(func(t *testing.T, content, cuts []byte) {
		if len(content) > 1<<16 {
			return
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "in.json")
		fw, err := New(Config{URL: "http://hub/", Token: "t", State: filepath.Join(dir, "state"),
			Inputs: []Input{{Format: "generic", Path: path}}, BatchLines: 3, Flush: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "state", spoolDir), 0o700)
		fw.st = state{Instance: "fuzz", NextSeq: 1, Inputs: map[string]position{}}
		tl := newTailer(fw, fw.cfg.Inputs[0])
		tl.buf = make([]byte, 7) // small reads: lines cross read boundaries
		fh, _ := os.Create(path)
		rest := content
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(n, int(cuts[i])+1)
			}
			fh.Write(rest[:n])
			rest = rest[n:]
			if tl.file == nil {
				if err := tl.start(position{}, false); err != nil {
					t.Fatal(err)
				}
			}
			for {
				p, err := tl.step()
				if err != nil {
					t.Fatal(err)
				}
				if !p {
					break
				}
			}
		}
		fh.Close()
		if err := tl.cut(); err != nil {
			t.Fatal(err)
		}
		var want []byte
		segs := bytes.Split(content, []byte{'\n'})
		for _, s := range segs[:len(segs)-1] {
			if s = bytes.TrimSpace(s); len(s) > 0 && len(s) <= decode.MaxLine {
				want = append(append(want, s...), '\n')
			}
		}
		var got []byte
		for _, b := range fw.queue {
			zf, err := os.Open(filepath.Join(dir, "state", spoolDir, b.Name))
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(zf)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(zr)
			zf.Close()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, raw...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("spooled %q, want %q", got, want)
		}
		if len(content) > 0 && fw.st.NextSeq != uint64(len(fw.queue))+1 {
			t.Fatalf("next batch %d after %d batches", fw.st.NextSeq, len(fw.queue))
		}
	})
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GB": 1 << 30, "512MiB": 512 << 20, "64k": 64 << 10, "1048576": 1 << 20, " 2 mb ": 2 << 20, "1.5G": 3 << 29} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-1MB", "1PB", "ten", "NaN", "Inf", "1e30GB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1GB", "512MiB", "0", "1.5 T", "-3k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func TestParseInputAndEndpoint(t *testing.T) {
	in, err := ParseInput("eve:/var/log/suricata/eve.json")
	if err != nil || in.Format != "suricata" || in.Path != "/var/log/suricata/eve.json" {
		t.Fatalf("%+v %v", in, err)
	}
	if in, err = ParseInput("/var/ossec/logs/alerts/alerts.json"); err != nil || in.Format != "" {
		t.Fatalf("bare path: %+v %v", in, err)
	}
	for _, bad := range []string{"", "cef:/x", "wazuh:"} {
		if _, err := ParseInput(bad); err == nil {
			t.Errorf("ParseInput(%q) accepted", bad)
		}
	}
	for base, want := range map[string]string{
		"https://hub/":                     "https://hub/ingest/v1/events",
		"https://hub/certnet":              "https://hub/certnet/ingest/v1/events",
		"http://hub:8080/ingest/v1/events": "http://hub:8080/ingest/v1/events",
	} {
		if got, err := Endpoint(base); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v", base, got, err)
		}
	}
	if _, err := Endpoint("hub"); err == nil {
		t.Error("a URL without scheme accepted")
	}
}

func TestSpoolNamesKeysBackoff(t *testing.T) {
	for _, f := range []string{"suricata", ""} {
		seq, format, ok := parseSpoolName(spoolName(42, f))
		if !ok || seq != 42 || format != f {
			t.Fatalf("round trip %q: %d %q %v", f, seq, format, ok)
		}
	}
	for _, bad := range []string{"x.ndjson.gz", "0000.suricata.ndjson.gz", "12.ndjson.gz", "12.suricata.gz"} {
		if _, _, ok := parseSpoolName(bad); ok {
			t.Errorf("%q read as a spool name", bad)
		}
	}
	if k := batchKey("0123456789abcdef", 1<<63); !validKey(k) {
		t.Fatalf("key %q not valid for the server", k)
	}
	for n := 1; n < 40; n++ {
		d := backoff(100*time.Millisecond, 10*time.Second, n)
		ceil := min(100*time.Millisecond<<min(n-1, 20), 10*time.Second)
		if d < ceil/2 || d > ceil {
			t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, ceil/2, ceil)
		}
	}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{"7": 7 * time.Second, "": 0, "junk": 0, "-5": 0, "99999": time.Hour,
		now.Add(30 * time.Second).Format(httpTime): 30 * time.Second} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

const httpTime = "Mon, 02 Jan 2006 15:04:05 GMT"
