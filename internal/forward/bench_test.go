package forward_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"certnet/internal/forward"
)

// BenchmarkForward measures lines per second from a file, through the
// spool (gzip, fsync, state save) and out to a local server that unzips
// and counts them: b.N lines of real Suricata alerts.
func BenchmarkForward(b *testing.B) {
	base := suricataLines(b, 1)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		raw, _ := io.ReadAll(zr)
		got.Add(int64(bytes.Count(raw, []byte{'\n'})))
		w.WriteHeader(202)
		io.WriteString(w, `{"accepted":1,"rejected":0,"errors":[]}`)
	}))
	defer srv.Close()
	dir := b.TempDir()
	path := filepath.Join(dir, "eve.json")
	fh, _ := os.Create(path)
	var size int64
	for i := 0; i < b.N; i++ {
		n, _ := fh.WriteString(base[i%len(base)] + "\n")
		size += int64(n)
	}
	fh.Close()
	fw, err := forward.New(forward.Config{URL: srv.URL, Token: "t", State: filepath.Join(dir, "state"),
		Inputs: []forward.Input{{Format: "suricata", Path: path}}, Poll: time.Millisecond, Flush: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size / int64(b.N))
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	ctx, cancel := contextWithCancel()
	go func() { done <- fw.Run(ctx) }()
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(b.N)/el.Seconds(), "lines/s")
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
