package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// eveLines is the first n alerts of the shared honeypot capture as NDJSON
// (one compact object a line) with a malformed line put in as line bad.
func eveLines(t *testing.T, n, bad int) string {
	t.Helper()
	raw, err := os.ReadFile(testkit.SharedData(t, "suricata/honeypot-2018.alerts-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range all[:n] {
		var b bytes.Buffer
		if err := json.Compact(&b, m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b.String())
	}
	lines = append(lines[:bad-1], append([]string{`{"timestamp": "2019-01-02T03:50:12", "event_type": "alert", "src_ip": `}, lines[bad-1:]...)...)
	return strings.Join(lines, "\n") + "\n"
}

func TestImportEvents(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		// The honeypot's address is OTHER's for this test.
		if _, err := f.orgs.AddRange(ctx, f.sys, f.other.ID, "138.68.3.0/24", ""); err != nil {
			t.Fatal(err)
		}
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "amber")
		body := eveLines(t, 3, 3)

		// Preview: the honeypot (in OTHER's range) once, with its three
		// events; the scanner (no member's) left out; line 3 refused.
		rows, bad, err := f.s.EventRows(ctx, coord, c.ID, strings.NewReader(body), EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) != 1 || bad[0].Line != 3 || bad[0].Message == "" {
			t.Fatalf("refused %+v", bad)
		}
		if len(rows) != 1 || rows[0].IP.String() != "138.68.3.71" || rows[0].Events != 3 {
			t.Fatalf("rows %+v", rows)
		}
		first, last := time.Date(2019, 1, 2, 3, 50, 10, 386108000, time.UTC), time.Date(2019, 1, 2, 3, 50, 11, 315110000, time.UTC)
		if !rows[0].FirstSeen.Equal(first) || !rows[0].SeenAt.Equal(last) {
			t.Fatalf("seen %s – %s, want %s – %s", rows[0].FirstSeen, rows[0].SeenAt, first, last)
		}
		if f.count(`SELECT COUNT(*) FROM campaign_addresses`) != 0 {
			t.Fatal("the preview wrote")
		}

		// Filters: one signature id keeps one event; the scanner as the
		// indicator keeps all three; an address nobody sent keeps nothing.
		rows, _, err = f.s.EventRows(ctx, coord, c.ID, strings.NewReader(body), EventFilter{SignatureIDs: []int64{2001219}})
		if err != nil || len(rows) != 1 || rows[0].Events != 1 {
			t.Fatalf("by signature: %+v %v", rows, err)
		}
		rows, _, err = f.s.EventRows(ctx, coord, c.ID, strings.NewReader(body), EventFilter{Indicator: "8.42.77.171"})
		if err != nil || len(rows) != 1 || rows[0].Events != 3 {
			t.Fatalf("by indicator: %+v %v", rows, err)
		}
		_, err = f.s.ImportEvents(ctx, coord, c.ID, "eve", strings.NewReader(body), EventFilter{Indicator: "203.0.113.1"})
		if e, ok := errs.As(err); !ok || errs.KindOf(err) != errs.KindInvalid || e.Fields["file"].Key != "campaign.error.no_event_rows" {
			t.Fatalf("nothing kept: %v", err)
		}
		// Not an events file at all.
		_, _, err = f.s.EventRows(ctx, coord, c.ID, strings.NewReader("ip\n203.0.113.7\n"), EventFilter{})
		if errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("a CSV as events: %v", err)
		}

		// Import: routed like a CSV row, the first time seen kept.
		res, err := f.s.ImportEvents(ctx, coord, c.ID, "eve.json", strings.NewReader(body), EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 1 || res.New != 1 || res.Members != 1 || res.Unrouted != 0 || len(res.Errors) != 1 || res.Errors[0].Line != 3 {
			t.Fatalf("result %+v", res)
		}
		var member int64
		var firstAt, lastAt time.Time
		var note string
		if err := db.QueryRow(ctx, `SELECT member_org_id, first_seen_at, last_seen_at, note FROM campaign_addresses WHERE campaign_id = ? AND ip = ?`,
			c.ID, "138.68.3.71").Scan(&member, &firstAt, &lastAt, &note); err != nil {
			t.Fatal(err)
		}
		if member != f.other.ID || !firstAt.Equal(first) || !lastAt.Equal(last) || !strings.Contains(note, "suricata: 3") {
			t.Fatalf("stored member %d, %s – %s, note %q", member, firstAt, lastAt, note)
		}
		if f.count(`SELECT rows_bad FROM campaign_imports WHERE id = ?`, res.ImportID) != 1 {
			t.Fatal("refused lines not counted")
		}

		// A provincial unit of HN reaches no member of those ranges.
		hnu := f.actor(f.hnu, policy.RoleCoordinator)
		hc := f.campaign(hnu, "amber")
		rows, _, err = f.s.EventRows(ctx, hnu, hc.ID, strings.NewReader(body), EventFilter{})
		if err != nil || len(rows) != 0 {
			t.Fatalf("outside the unit's scope: %+v %v", rows, err)
		}
		f.verifyAudit()
	})
}

func FuzzEventLines(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/events-*")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(gz(`{"timestamp":"2019-01-02T03:50:11Z","event_type":"alert","src_ip":"100.64.7.9","dest_ip":"198.51.100.4"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, bad, err := EventLines(bytes.NewReader(data), EventFilter{}, nil)
		if err != nil {
			if rows != nil || bad != nil {
				t.Fatal("rows with an error")
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if !r.IP.IsValid() || r.IP.Is4In6() || r.IP.IsLoopback() || r.Events < 1 || len(r.Note) > 2000 || seen[r.IP.String()] {
				t.Fatalf("bad row kept: %+v", r)
			}
			seen[r.IP.String()] = true
			if !r.FirstSeen.IsZero() && r.SeenAt.Before(r.FirstSeen) {
				t.Fatalf("last seen before first: %+v", r)
			}
		}
		for _, e := range bad {
			if e.Message == "" || e.Line < 1 {
				t.Fatalf("refused line without a number or message: %+v", e)
			}
		}
	})
}
