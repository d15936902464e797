package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"

	"certnet/internal/ingest"
	"certnet/internal/ingest/decode"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// activity reads the pipeline's counters: events and matches per minute
// (summed), per source and per organisation hour (summed), and the
// signature counts by key.
type activityCounts struct {
	minuteEvents, minuteMatches int64
	sourceEvents                int64
	orgMatches                  map[int64]int64
	signatures                  map[string]int64
}

func readActivity(t *testing.T, db *store.DB, src int64) activityCounts {
	t.Helper()
	ctx := context.Background()
	var a activityCounts
	if err := db.QueryRow(ctx, "SELECT COALESCE(SUM(events), 0), COALESCE(SUM(matches), 0) FROM ingest_minutes WHERE source_id = ?", src).
		Scan(&a.minuteEvents, &a.minuteMatches); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, "SELECT COALESCE(SUM(events), 0) FROM ingest_rates WHERE subject = 'source' AND subject_id = ?", src).
		Scan(&a.sourceEvents); err != nil {
		t.Fatal(err)
	}
	a.orgMatches = map[int64]int64{}
	rows, err := db.Query(ctx, "SELECT subject_id, matches FROM ingest_rates WHERE subject = 'org'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		a.orgMatches[id] += n
	}
	rows.Close()
	a.signatures = map[string]int64{}
	rows, err = db.Query(ctx, "SELECT key, count FROM ingest_signals WHERE kind = ?", ingest.SignalSignature)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		a.signatures[k] += n
	}
	return a
}

// The pipeline keeps the early warning's and the 24/7 view's counters in
// the batch's transaction: exactly once, a redelivery counts nothing.
func TestPipelineActivityCounters(t *testing.T) {
	body, err := os.ReadFile(testkit.SharedData(t, "suricata/honeypot-2018.alerts-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := decode.Decode(decode.Suricata, body, nil)
	if err != nil || len(evs) == 0 {
		t.Fatalf("decode the sample: %d events, %v", len(evs), err)
	}
	const scanner = "8.42.77.171"
	sigs := map[string]int64{}
	var scans int64
	for _, ev := range evs {
		if ev.SignatureID != 0 {
			sigs[strconv.FormatInt(ev.SignatureID, 10)]++
		}
		if ev.Src.String() == scanner || ev.Dst.String() == scanner {
			scans++
		}
	}
	if len(sigs) == 0 || scans == 0 {
		t.Fatal("the sample has no signatures or no alert of the scanner")
	}
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
		if _, err := e.App.Intel.Create(ctx, e.Sys, intel.Input{OwnerOrgID: nat.ID, Value: scanner, TLP: policy.TLPGreen}); err != nil {
			t.Fatal(err)
		}
		wait := e.run(t)
		if r := e.post(t, post{body: body, key: "act-1", format: "eve"}); r.status != 202 {
			t.Fatalf("post: %d %s", r.status, r.raw)
		}
		wait(1)
		got := readActivity(t, db, e.src.ID)
		if got.minuteEvents != int64(len(evs)) || got.sourceEvents != int64(len(evs)) || got.minuteMatches != scans {
			t.Fatalf("counters %+v, want %d events and %d matches", got, len(evs), scans)
		}
		// The scanner's alerts go from member B's address to member A's.
		if got.orgMatches[e.memberA.ID] != scans || got.orgMatches[e.memberB.ID] != scans || len(got.orgMatches) != 2 {
			t.Fatalf("members' matched events %v, want %d each for A and B", got.orgMatches, scans)
		}
		if fmt.Sprint(got.signatures) != fmt.Sprint(sigs) {
			t.Fatalf("signatures %v, want %v", got.signatures, sigs)
		}
		// Redelivered: nothing counted twice.
		data, _ := json.Marshal(evs)
		if _, err := e.App.Bus.Publish(ctx, e.App.Bus.Subject(e.src.ID), "act-again", append([]byte{'J'}, data...), map[string]string{
			"Certnet-Source": fmt.Sprint(e.src.ID), "Certnet-Key": "act-1"}); err != nil {
			t.Fatal(err)
		}
		e.settle(t)
		if again := readActivity(t, db, e.src.ID); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("after a redelivery %+v, want %+v", again, got)
		}
		// The warning job reads them: the scanner's signature came from one
		// SOC organisation, nothing is raised at the default thresholds.
		if r, err := e.App.Warning.Evaluate(ctx); err != nil || r.Raised != 0 {
			t.Fatalf("evaluate: %+v %v", r, err)
		}
	})
}
