package forward_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/forward"
	"certnet/internal/testkit"
)

// hub is a fake certnet: it records the batches it accepts by
// Idempotency-Key (a repeated key is answered again and recorded once) and
// can be told to fail, delay or refuse.
type hub struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	keys     []string            // accepted keys, in order
	batches  map[string][]string // key → its lines
	formats  map[string]string
	attempts map[string]int
	requests int
	// respond, when set, decides the answer before a batch is recorded; a
	// zero status records and accepts it.
	respond func(key string, attempt int, lines []string) (status int, header http.Header)
}

func newHub(t *testing.T) *hub {
	h := &hub{token: "cns_test", batches: map[string][]string{}, formats: map[string]string{}, attempts: map[string]int{}}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || r.URL.Path != "/ingest/v1/events" {
		http.Error(w, `{"error":{"code":"not_found","message":"no such path"}}`, 404)
		return
	}
	h.mu.Lock()
	h.requests++
	token := h.token
	h.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, `{"error":{"code":"unauthenticated","message":"bad token"}}`, 401)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, "bad body", 400)
		return
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	h.mu.Lock()
	h.attempts[key]++
	att := h.attempts[key]
	respond := h.respond
	prev, seen := h.batches[key]
	h.mu.Unlock()
	if seen {
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(202)
		fmt.Fprintf(w, `{"accepted":%d,"rejected":0,"errors":[]}`, len(prev))
		return
	}
	if respond != nil {
		if code, hdr := respond(key, att, lines); code != 0 {
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"error":{"code":"test","message":"answered %d"}}`, code)
			return
		}
	}
	h.mu.Lock()
	if _, again := h.batches[key]; !again {
		h.keys = append(h.keys, key)
		h.batches[key] = lines
		h.formats[key] = r.Header.Get("X-Certnet-Format")
	}
	n := len(h.keys)
	h.mu.Unlock()
	w.WriteHeader(202)
	fmt.Fprintf(w, `{"batch_id":%d,"accepted":%d,"rejected":0,"errors":[]}`, n, len(lines))
}

func (h *hub) setRespond(fn func(key string, attempt int, lines []string) (int, http.Header)) {
	h.mu.Lock()
	h.respond = fn
	h.mu.Unlock()
}

// lines are the lines of every accepted batch, each batch once, in the
// order the batches were first accepted.
func (h *hub) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, k := range h.keys {
		out = append(out, h.batches[k]...)
	}
	return out
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, k := range h.keys {
		n += len(h.batches[k])
	}
	return n
}

// suricataLines are the real Suricata alerts of ../shared/data as EVE
// lines (one compact JSON object a line), copies times, each copy's lines
// made unique by a leading sequence field.
func suricataLines(t testing.TB, copies int) []string {
	t.Helper()
	var base []string
	for _, name := range []string{"first-org-conf-2015.alerts-only.json", "honeypot-2018.alerts-only.json"} {
		raw, err := os.ReadFile(testkit.SharedData(t, "suricata/"+name))
		if err != nil {
			t.Fatal(err)
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, el := range arr {
			var b bytes.Buffer
			if err := json.Compact(&b, el); err != nil {
				t.Fatal(err)
			}
			base = append(base, b.String())
		}
	}
	var out []string
	for c := range copies {
		for i, l := range base {
			out = append(out, fmt.Sprintf(`{"certnet_test_seq":%d,%s`, c*len(base)+i, l[1:]))
		}
	}
	return out
}

// config is a forwarder configuration quick enough for tests.
func (h *hub) config(t *testing.T, state string, inputs ...forward.Input) forward.Config {
	return forward.Config{
		URL: h.srv.URL + "/", Token: h.token, State: state, Inputs: inputs,
		BatchLines: 100, Flush: 20 * time.Millisecond, Poll: 5 * time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: 20 * time.Millisecond, StatusEvery: time.Hour,
		Log: testLogger(t),
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is a forwarder started in the background.
type running struct {
	fw       *forward.Forwarder
	cancel   context.CancelFunc
	finished chan struct{}
	err      error
}

func start(t *testing.T, cfg forward.Config) *running {
	t.Helper()
	fw, err := forward.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{fw: fw, cancel: cancel, finished: make(chan struct{})}
	go func() { r.err = fw.Run(ctx); close(r.finished) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// ended reports whether Run has returned (after a simulated crash).
func (r *running) ended() bool {
	select {
	case <-r.finished:
		return true
	default:
		return false
	}
}

// stop cancels the forwarder and waits for it; the result is Run's.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.finished:
		return r.err
	case <-time.After(30 * time.Second):
		t.Fatal("the forwarder did not stop")
	}
	return nil
}

// waitFor polls cond until it holds; the limit only bounds a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func appendLines(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// sameLines fails unless got holds exactly the lines of want, each as many
// times (order aside).
func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if slices.Equal(g, w) {
		return
	}
	count := map[string]int{}
	for _, l := range w {
		count[l]++
	}
	for _, l := range g {
		count[l]--
	}
	var extra, missing int
	var example string
	for l, n := range count {
		if n < 0 {
			extra += -n
			example = "doubled: " + l
		} else if n > 0 {
			missing += n
			if example == "" {
				example = "missing: " + l
			}
		}
	}
	if len(example) > 200 {
		example = example[:200]
	}
	t.Fatalf("the server holds %d lines, want %d: %d missing, %d doubled (%s)", len(got), len(want), missing, extra, example)
}

func spoolFiles(t *testing.T, state, sub string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(state, sub))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
