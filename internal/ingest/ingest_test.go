package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/ingest"
	"certnet/internal/ingest/decode"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// env is a running certnet with its bus open, a SOC organisation with a
// source, and two members owning ranges.
type env struct {
	*apptest.Env
	soc, memberA, memberB org.Org
	src                   ingest.Source
	token                 string
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{Env: apptest.Start(t, db)}
	if err := e.App.OpenBus(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.App.Bus.Close() })
	e.soc = e.Org("SOC1", "SOC một", 0, org.RoleProvincialSOC)
	e.memberA = e.Org("MEMA", "Thành viên A", 0, org.RoleSystemOwner)
	e.memberB = e.Org("MEMB", "Thành viên B", 0, org.RoleISP)
	ctx := context.Background()
	for _, r := range []struct {
		org  int64
		cidr string
	}{{e.memberA.ID, "138.68.0.0/16"}, {e.memberB.ID, "8.42.77.0/24"}} {
		if _, err := e.App.Orgs.AddRange(ctx, e.Sys, r.org, r.cidr, ""); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	e.src, e.token, err = e.App.Ingest.CreateSource(ctx, e.Sys, ingest.SourceInput{OrgID: e.soc.ID, Name: "suricata-1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type post struct {
	body     []byte
	token    string
	key      string
	format   string
	ctype    string
	gzip     bool
	language string
}

type result struct {
	status int
	header http.Header
	answer ingest.Answer
	err    ingest.ErrorBody
	raw    string
}

func (e *env) post(t *testing.T, p post) result {
	t.Helper()
	body := p.body
	if p.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	req, _ := http.NewRequest("POST", e.URL+"/ingest/v1/events", bytes.NewReader(body))
	if p.token != "-" {
		tok := p.token
		if tok == "" {
			tok = e.token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if p.key != "-" {
		req.Header.Set("Idempotency-Key", p.key)
	}
	if p.format != "" {
		req.Header.Set("X-Certnet-Format", p.format)
	}
	if p.ctype != "" {
		req.Header.Set("Content-Type", p.ctype)
	}
	if p.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if p.language != "" {
		req.Header.Set("Accept-Language", p.language)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(raw, &r.answer); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	} else if err := json.Unmarshal(raw, &r.err); err != nil {
		t.Fatalf("error answer %s: %v", raw, err)
	}
	return r
}

func genericLine(ip string) string {
	return fmt.Sprintf(`{"time":"2026-11-26T10:00:00Z","kind":"alert","signature":"test","src_ip":%q,"dst_ip":"138.68.3.71"}`, ip)
}

func (e *env) source(t *testing.T) ingest.Source {
	t.Helper()
	s, err := e.App.Ingest.Source(context.Background(), e.Sys, e.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIngestAPI(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		good := []byte(genericLine("8.42.77.171") + "\n" + genericLine("8.42.77.172") + "\n")

		// Authentication.
		r := e.post(t, post{body: good, token: "-", key: "k0"})
		if r.status != 401 || r.err.Error.Code != ingest.CodeToken || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("no token: %d %s", r.status, r.raw)
		}
		r = e.post(t, post{body: good, token: "cns_" + strings.Repeat("a", 52), key: "k0"})
		if r.status != 401 || r.err.Error.Code != ingest.CodeToken {
			t.Fatalf("unknown token: %d %s", r.status, r.raw)
		}
		r = e.post(t, post{body: good, token: "not a token", key: "k0", language: "en"})
		if r.status != 401 || !strings.Contains(r.err.Error.Message, "not valid") {
			t.Fatalf("malformed token: %d %s", r.status, r.raw)
		}

		// The idempotency key is required and checked.
		for _, k := range []string{"-", "with space", strings.Repeat("x", 129), "é"} {
			r = e.post(t, post{body: good, key: k})
			if r.status != 400 || r.err.Error.Code != ingest.CodeKey || r.err.Error.Message == "" {
				t.Fatalf("key %q: %d %s", k, r.status, r.raw)
			}
		}

		// Formats: an unknown one named, one not recognised, a wrong encoding.
		r = e.post(t, post{body: good, key: "f1", format: "cef", language: "en"})
		if r.status != 415 || r.err.Error.Code != ingest.CodeFormat || !strings.Contains(r.err.Error.Message, `"cef"`) {
			t.Fatalf("unknown format: %d %s", r.status, r.raw)
		}
		r = e.post(t, post{body: []byte("hello world\n"), key: "f2"})
		if r.status != 415 || r.err.Error.Code != ingest.CodeFormat || !strings.Contains(r.err.Error.Message, "X-Certnet-Format") {
			t.Fatalf("undetectable: %d %s", r.status, r.raw)
		}
		r = e.post(t, post{body: good, key: "f3", ctype: "text/csv"})
		if r.status != 415 || r.err.Error.Code != ingest.CodeFormat {
			t.Fatalf("csv content type: %d %s", r.status, r.raw)
		}
		r = e.post(t, post{body: []byte("  \n"), key: "f4", format: "generic"})
		if r.status != 400 || r.err.Error.Code != ingest.CodeBody {
			t.Fatalf("empty: %d %s", r.status, r.raw)
		}
		if s := e.source(t); s.Health.Batches != 0 {
			t.Fatalf("refused requests counted: %+v", s.Health)
		}

		// A malformed line is reported, the rest is kept.
		mixed := []byte(genericLine("8.42.77.171") + "\n{not json\n" + genericLine("8.42.77.9") + "\n")
		r = e.post(t, post{body: mixed, key: "batch-1", format: "generic", language: "en"})
		if r.status != 202 || r.answer.Accepted != 2 || r.answer.Rejected != 1 || len(r.answer.Errors) != 1 ||
			r.answer.Errors[0].Line != 2 || r.answer.Errors[0].Code != decode.CodeJSON || r.answer.BatchID == 0 {
			t.Fatalf("mixed batch: %d %s", r.status, r.raw)
		}
		if !strings.HasPrefix(r.answer.Errors[0].Message, "The line is not valid JSON") {
			t.Fatalf("line error message not in English: %q", r.answer.Errors[0].Message)
		}
		first := r.answer
		// The same key again: the same answer, nothing counted twice, even
		// with another body and in another language (codes are stable).
		r = e.post(t, post{body: good, key: "batch-1", format: "generic"})
		if r.status != 202 || r.header.Get("Idempotent-Replayed") != "true" || r.answer.BatchID != first.BatchID ||
			r.answer.Accepted != 2 || r.answer.Rejected != 1 || r.answer.Errors[0].Code != decode.CodeJSON {
			t.Fatalf("retry: %d %s", r.status, r.raw)
		}
		if !strings.HasPrefix(r.answer.Errors[0].Message, "Dòng không phải JSON") {
			t.Fatalf("line error message not in Vietnamese: %q", r.answer.Errors[0].Message)
		}
		s := e.source(t)
		if s.Health.Batches != 1 || s.Health.Events != 2 || s.Health.Rejected != 1 || s.Health.LastBatchAt.IsZero() {
			t.Fatalf("counters after a retry: %+v", s.Health)
		}
		// Detected format, gzip.
		r = e.post(t, post{body: good, key: "batch-2", gzip: true, ctype: "application/x-ndjson"})
		if r.status != 202 || r.answer.Accepted != 2 || r.answer.Format != decode.Generic {
			t.Fatalf("gzip batch: %d %s", r.status, r.raw)
		}
		req := httptest.NewRequest("POST", "/ingest/v1/events", bytes.NewReader([]byte("\x1f\x8b\x08\x00garbage")))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Idempotency-Key", "bad-gzip")
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		e.App.Ingest.Handler().ServeHTTP(rec, req)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), ingest.CodeBody) {
			t.Fatalf("corrupt gzip: %d %s", rec.Code, rec.Body)
		}
		n, err := e.App.Bus.Info(ctx)
		if err != nil || n.Msgs != 2 {
			t.Fatalf("stream holds %d messages (err %v), want the 2 accepted batches", n.Msgs, err)
		}
	})
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestIngestLimits(t *testing.T) {
	e := newEnv(t, testkit.NewSQLite(t))
	e.App.Ingest.MaxBatch = 1 << 20
	h := e.App.Ingest.Handler()
	do := func(body io.Reader, length int64, gz bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/ingest/v1/events", body)
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("limit-%d-%v", length, gz))
		req.Header.Set("X-Certnet-Format", "generic")
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// A 2 GB body announced: refused before reading.
	if rec := do(io.LimitReader(zeros{}, 2<<30), 2<<30, false); rec.Code != 413 || !strings.Contains(rec.Body.String(), ingest.CodeTooLarge) {
		t.Fatalf("2 GB body: %d %s", rec.Code, rec.Body)
	}
	// The same without a length (chunked): read up to the limit, then refused.
	if rec := do(io.LimitReader(zeros{}, 2<<30), -1, false); rec.Code != 413 {
		t.Fatalf("2 GB chunked body: %d %s", rec.Code, rec.Body)
	}
	// A gzip bomb: 100 KB that inflates to 100 MB.
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	io.Copy(zw, io.LimitReader(zeros{}, 100<<20))
	zw.Close()
	if rec := do(bytes.NewReader(b.Bytes()), int64(b.Len()), true); rec.Code != 413 || !strings.Contains(rec.Body.String(), "1048576") {
		t.Fatalf("gzip bomb (%d bytes): %d %s", b.Len(), rec.Code, rec.Body)
	}
	if s := e.source(t); s.Health.Batches != 0 {
		t.Fatalf("refused bodies counted: %+v", s.Health)
	}
}

func TestIngestQuotaAndDisable(t *testing.T) {
	e := newEnv(t, testkit.NewSQLite(t))
	ctx := context.Background()
	if _, err := e.App.Ingest.SetQuota(ctx, e.Sys, e.src.ID, 3); err != nil {
		t.Fatal(err)
	}
	two := []byte(genericLine("1.2.3.4") + "\n" + genericLine("1.2.3.5") + "\n")
	if r := e.post(t, post{body: two, key: "q1"}); r.status != 202 {
		t.Fatalf("within quota: %d %s", r.status, r.raw)
	}
	r := e.post(t, post{body: two, key: "q2"})
	if r.status != 429 || r.err.Error.Code != ingest.CodeQuota || r.header.Get("Retry-After") == "" {
		t.Fatalf("over quota: %d %s %v", r.status, r.raw, r.header)
	}
	// The next minute the quota is there again.
	e.Clock.Advance(time.Minute)
	if r := e.post(t, post{body: two, key: "q2"}); r.status != 202 {
		t.Fatalf("next minute: %d %s", r.status, r.raw)
	}
	four := []byte(strings.Repeat(genericLine("1.2.3.4")+"\n", 4))
	if r := e.post(t, post{body: four, key: "q3", language: "en"}); r.status != 413 || !strings.Contains(r.err.Error.Message, "quota of 3") {
		t.Fatalf("batch over the whole quota: %d %s", r.status, r.raw)
	}
	// Disabled: refused at once; enabled again: accepted.
	if _, err := e.App.Ingest.SetEnabled(ctx, e.Sys, e.src.ID, false); err != nil {
		t.Fatal(err)
	}
	if r := e.post(t, post{body: two, key: "q4", language: "en"}); r.status != 401 || !strings.Contains(r.err.Error.Message, "disabled") {
		t.Fatalf("disabled source: %d %s", r.status, r.raw)
	}
	if _, err := e.App.Ingest.SetEnabled(ctx, e.Sys, e.src.ID, true); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	if r := e.post(t, post{body: two, key: "q4"}); r.status != 202 {
		t.Fatalf("enabled again: %d %s", r.status, r.raw)
	}
	// Rotated: the old token stops working, the new one works.
	_, fresh, err := e.App.Ingest.Rotate(ctx, e.Sys, e.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.post(t, post{body: two, key: "q5"}); r.status != 401 {
		t.Fatalf("old token after rotation: %d %s", r.status, r.raw)
	}
	e.Clock.Advance(time.Minute)
	if r := e.post(t, post{body: two, key: "q5", token: fresh}); r.status != 202 {
		t.Fatalf("new token: %d %s", r.status, r.raw)
	}
}

// run starts the pipeline and returns a function that waits until it has
// processed n batches in all.
func (e *env) run(t *testing.T) func(n int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := e.App.Pipeline
	p.Poll = 50 * time.Millisecond
	p.AckWait = 2 * time.Second
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return func(n int64) {
		t.Helper()
		for i := 0; p.Processed() < n; i++ {
			if i > 600 {
				t.Fatalf("pipeline processed %d batches, want %d", p.Processed(), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// sightings returns an indicator's ingest sightings: count by organisation
// and hour, and checks each row's deterministic id.
func sightings(t *testing.T, db *store.DB, indicator int64) map[int64]map[string]int64 {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT org_id, count, first_seen, last_seen, stix_id FROM intel_sightings WHERE indicator_id = ? AND source = 'ingest'", indicator)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]map[string]int64{}
	for rows.Next() {
		var orgID, count int64
		var first, last time.Time
		var stix string
		if err := rows.Scan(&orgID, &count, &first, &last, &stix); err != nil {
			t.Fatal(err)
		}
		hour := first.UTC().Truncate(time.Hour)
		if !last.UTC().Truncate(time.Hour).Equal(hour) || last.Before(first) {
			t.Fatalf("sighting %s spans %v to %v", stix, first, last)
		}
		if stix != ingest.SightingID(indicator, orgID, hour) {
			t.Fatalf("sighting id %s is not the deterministic one", stix)
		}
		if out[orgID] == nil {
			out[orgID] = map[string]int64{}
		}
		h := hour.Format(time.RFC3339)
		if _, dup := out[orgID][h]; dup {
			t.Fatalf("two sightings for org %d in hour %s", orgID, h)
		}
		out[orgID][h] = count
	}
	return out
}

// settle waits until the pipeline has nothing waiting or in flight.
func (e *env) settle(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		w, f, err := e.App.Pipeline.Backlog(context.Background())
		if err == nil && w == 0 && f == 0 {
			return
		}
		if i > 600 {
			t.Fatalf("pipeline backlog %d waiting, %d in flight (%v)", w, f, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPipelineSuricata(t *testing.T) {
	path := testkit.SharedData(t, "suricata/honeypot-2018.alerts-only.json")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs, lineErrs, err := decode.Decode(decode.Suricata, body, nil)
	if err != nil || len(evs) == 0 {
		t.Fatalf("decode the sample: %d events, %v", len(evs), err)
	}
	// The scanner's address (member B's range) and how often it shows, by
	// hour.
	const scanner = "8.42.77.171"
	want := map[string]int64{}
	for _, ev := range evs {
		if ev.Src.String() == scanner || ev.Dst.String() == scanner {
			want[ev.Time.UTC().Truncate(time.Hour).Format(time.RFC3339)]++
		}
	}
	if len(want) == 0 {
		t.Fatal("the sample has no alert from the scanner")
	}
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
		ind, err := e.App.Intel.Create(ctx, e.Sys, intel.Input{OwnerOrgID: nat.ID, Value: scanner, TLP: policy.TLPGreen, Confidence: 90})
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.App.Intel.Create(ctx, e.Sys, intel.Input{OwnerOrgID: nat.ID, Value: "203.0.113.9", TLP: policy.TLPGreen})
		if err != nil {
			t.Fatal(err)
		}
		wait := e.run(t)
		r := e.post(t, post{body: body, key: "honeypot-1", format: "eve"})
		if r.status != 202 || r.answer.Accepted != len(evs) || r.answer.Rejected != len(lineErrs) {
			t.Fatalf("post the sample: %d %s", r.status, r.raw)
		}
		wait(1)
		got := sightings(t, db, ind.ID)
		// Every alert of the scanner goes from member B's address to
		// member A's: both members see it, hour by hour.
		var total int64
		for _, n := range want {
			total += n
		}
		for _, m := range []int64{e.memberA.ID, e.memberB.ID} {
			if fmt.Sprint(got[m]) != fmt.Sprint(want) {
				t.Fatalf("member %d sightings by hour %v, want %v", m, got[m], want)
			}
		}
		if len(got) != 2 {
			t.Fatalf("sightings for %d organisations, want the 2 members: %v", len(got), got)
		}
		if len(sightings(t, db, other.ID)) != 0 {
			t.Fatal("an indicator no event has was sighted")
		}
		src := e.source(t)
		if src.Health.ProcessedBatches != 1 || src.Health.ProcessedEvents != int64(len(evs)) || src.Health.Matches != total {
			t.Fatalf("health after processing: %+v (want %d matches)", src.Health, total)
		}

		// The same batch delivered again (a crash before the ack; here
		// published a second time past the dedup window) counts nothing.
		data, err := json.Marshal(evs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Bus.Publish(ctx, e.App.Bus.Subject(e.src.ID), "again-1", append([]byte{'J'}, data...), map[string]string{
			"Certnet-Source": fmt.Sprint(e.src.ID), "Certnet-Key": "honeypot-1"}); err != nil {
			t.Fatal(err)
		}
		e.settle(t)
		if again := sightings(t, db, ind.ID); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("after a redelivery: %v, want %v", again, got)
		}
		// A new batch with another key does count, in the same rows.
		if r = e.post(t, post{body: body, key: "honeypot-2", format: "eve"}); r.status != 202 {
			t.Fatalf("second post: %d %s", r.status, r.raw)
		}
		wait(2)
		again := sightings(t, db, ind.ID)
		for m, byHour := range again {
			for h, n := range byHour {
				if n != 2*want[h] {
					t.Fatalf("member %d hour %s after a second batch: %d, want %d", m, h, n, 2*want[h])
				}
			}
		}
		if src := e.source(t); src.Health.ProcessedBatches != 2 || src.Health.Backlog != 0 {
			t.Fatalf("health %+v: want 2 processed batches (the redelivery is not counted)", src.Health)
		}
	})
}

// An indicator added while the pipeline runs is matched from the next
// batches on, without a restart and without an SQL query per event.
func TestPipelineReloadsIndicators(t *testing.T) {
	e := newEnv(t, testkit.NewSQLite(t))
	ctx := context.Background()
	wait := e.run(t)
	for e.App.Pipeline.Indicators() != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	line := []byte(genericLine("8.42.77.50") + "\n")
	if r := e.post(t, post{body: line, key: "before"}); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	wait(1)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	ind, err := e.App.Intel.Create(ctx, e.Sys, intel.Input{OwnerOrgID: nat.ID, Value: "8.42.77.50", TLP: policy.TLPGreen})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; e.App.Pipeline.Indicators() != 1; i++ {
		if i > 500 {
			t.Fatal("the matcher was not rebuilt after an indicator was added")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := e.post(t, post{body: line, key: "after"}); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	wait(2)
	got := sightings(t, e.DB, ind.ID)
	var total int64
	for _, byHour := range got {
		for _, n := range byHour {
			total += n
		}
	}
	// One event after the indicator came, seen at both members.
	if total != 2 || len(got) != 2 {
		t.Fatalf("sightings %v: want the later batch's event once per member", got)
	}
}
