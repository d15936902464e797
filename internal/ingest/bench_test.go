package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// eveBatch makes n Suricata EVE alerts between member addresses and
// outside ones, one in 50 from an address some indicator lists.
func eveBatch(n, seed int) []byte {
	var b bytes.Buffer
	ts := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range n {
		k := seed*n + i
		src := fmt.Sprintf("198.51.%d.%d", (k/250)%250, k%250+1)
		if k%50 == 0 {
			src = fmt.Sprintf("203.0.113.%d", k%100+1)
		}
		fmt.Fprintf(&b, `{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"alert","src_ip":"%s","src_port":%d,"dest_ip":"10.%d.%d.%d","dest_port":443,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2024897,"rev":3,"signature":"ET MALWARE Observed Malicious SSL Cert (CVE-2021-44228 callback)","category":"A Network Trojan was detected","severity":1},"tls":{"sni":"c%d.example.net"}}`+"\n",
			ts.Add(time.Duration(k)*time.Millisecond).Format("2006-01-02T15:04:05.000000-0700"), k, src, 40000+k%20000, k%4, (k/4)%250, k%250+1, k%1000)
	}
	return b.Bytes()
}

// BenchmarkIngestHTTP drives POST /ingest/v1/events end to end on SQLite:
// gzip NDJSON batches of 5 000 EVE alerts through decode, JetStream
// (embedded, fsync), the batch record, and the pipeline's matching and
// sightings, until every batch is counted. It reports alerts/s (acked and
// counted) and the acknowledgement latency of a batch (p50, p99).
// With CERTNET_TEST_POSTGRES set it runs on PostgreSQL too.
func BenchmarkIngestHTTP(b *testing.B) {
	for _, eng := range testkit.Engines(b) {
		b.Run(string(eng.Name), func(b *testing.B) { benchIngestHTTP(b, apptest.Start(b, eng.Open(b))) })
	}
}

func benchIngestHTTP(b *testing.B, e *apptest.Env) {
	const perBatch = 5000
	ctx := context.Background()
	if err := e.App.OpenBus(ctx); err != nil {
		b.Fatal(err)
	}
	defer e.App.Bus.Close()
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	soc := e.Org("SOC1", "SOC", nat.ID, org.RoleProvincialSOC)
	for i := range 4 {
		m := e.Org(fmt.Sprintf("M%d", i), fmt.Sprintf("Thành viên %d", i), nat.ID, org.RoleSystemOwner)
		if _, err := e.App.Orgs.AddRange(ctx, e.Sys, m.ID, fmt.Sprintf("10.%d.0.0/16", i), ""); err != nil {
			b.Fatal(err)
		}
	}
	for i := 1; i <= 100; i++ {
		if _, err := e.App.Intel.Create(ctx, e.Sys, intel.Input{OwnerOrgID: nat.ID, Value: fmt.Sprintf("203.0.113.%d", i), TLP: policy.TLPGreen}); err != nil {
			b.Fatal(err)
		}
	}
	// CERTNET_BENCH_INDICATORS=N adds N IPv4, N domain and N SHA-256
	// indicators no alert has, so the matcher is measured at size.
	if n, _ := strconv.Atoi(os.Getenv("CERTNET_BENCH_INDICATORS")); n > 0 {
		bulkIndicators(b, e, nat.ID, n)
	}
	src, tok, err := e.App.Ingest.CreateSource(ctx, e.Sys, ingest.SourceInput{OrgID: soc.ID, Name: "bench", Quota: 100_000_000})
	if err != nil {
		b.Fatal(err)
	}
	const distinct = 8
	var bodies [distinct][]byte
	for i := range bodies {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(eveBatch(perBatch, i))
		zw.Close()
		bodies[i] = z.Bytes()
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	p := e.App.Pipeline
	go func() { defer close(done); p.Run(pctx) }()
	defer func() { cancel(); <-done }()
	// The matcher is built before the clock starts.
	for p.Indicators() < 0 {
		time.Sleep(10 * time.Millisecond)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	b.ResetTimer()
	start := time.Now()
	var mu sync.Mutex
	var lat []time.Duration
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			t0 := time.Now()
			i++
			req, _ := http.NewRequest("POST", e.URL+"/ingest/v1/events", bytes.NewReader(bodies[i%distinct]))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
			req.Header.Set("X-Certnet-Format", "suricata")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			d := time.Since(t0)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	acked := time.Since(start)
	for {
		w, f, err := p.Backlog(ctx)
		if err == nil && w == 0 && f == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	total := time.Since(start)
	b.StopTimer()
	alerts := float64(b.N * perBatch)
	b.ReportMetric(alerts/acked.Seconds(), "acked-alerts/s")
	b.ReportMetric(alerts/total.Seconds(), "alerts/s")
	b.ReportMetric(0, "ns/op")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ack-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ack-p99-ms")
	// Every alert was counted, and the indicators matched.
	got, err := e.App.Ingest.Source(ctx, e.Sys, src.ID)
	if err != nil {
		b.Fatal(err)
	}
	if got.Health.ProcessedEvents != int64(alerts) || got.Health.Matches != int64(alerts)/50 {
		b.Fatalf("processed %d events with %d matches, want %d and %d", got.Health.ProcessedEvents, got.Health.Matches, int64(alerts), int64(alerts)/50)
	}
}

// bulkIndicators inserts n indicators of three kinds straight into the
// store (the service's validation is not what is measured here).
func bulkIndicators(b *testing.B, e *apptest.Env, owner int64, n int) {
	ctx := context.Background()
	now := e.Clock.Now().Add(-time.Hour)
	err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		const per = 100
		q := "INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, confidence, valid_from, tlp, stix_id, created_at, updated_at) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, '', 50, ?, 'GREEN', '', ?, ?), ", per), ", ")
		args := make([]any, 0, per*6)
		for k, kind := range []string{"ipv4", "domain", "sha256"} {
			for i := 0; i < n; i += per {
				args = args[:0]
				for j := i; j < i+per; j++ {
					var v string
					switch kind {
					case "ipv4":
						v = fmt.Sprintf("100.%d.%d.%d", 64+(j>>16)%64, (j>>8)&255, j&255)
					case "domain":
						v = fmt.Sprintf("bad%d.example.org", j)
					default:
						sum := sha256.Sum256([]byte{byte(k), byte(j), byte(j >> 8), byte(j >> 16), byte(j >> 24)})
						v = hex.EncodeToString(sum[:])
					}
					args = append(args, owner, kind, v, now, now, now)
				}
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
