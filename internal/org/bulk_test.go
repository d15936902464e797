package org

import (
	"context"
	"fmt"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// A bulk load: checked whole first (a bad CIDR, an overlap inside the load
// or with a registered range, a range of an organisation the actor may not
// write: nothing stored), then stored in transactions of Batch ranges, one
// audit entry each; whois answers from the new ranges.
func TestBulkAddRanges(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if _, err := f.s.AddRange(ctx, f.sys, f.isp.ID, "198.51.100.0/24", ""); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM org_ranges").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var load []BulkRange
		for i := range 2500 {
			o := f.cust.ID
			if i%2 == 1 {
				o = f.bank.ID
			}
			load = append(load, BulkRange{OrgID: o, CIDR: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)})
		}
		load = append(load, BulkRange{OrgID: f.hn.ID, CIDR: "2001:db8:1::/48", Note: "IPv6"})

		bad := append(append([]BulkRange{}, load...), BulkRange{OrgID: f.hn.ID, CIDR: "10.0.0.300/24"})
		_, err := f.s.BulkAddRanges(ctx, f.sys, bad, BulkOptions{})
		wantKind(t, err, errs.KindInvalid, fmt.Sprintf("ranges[%d]", len(load)), "org.err.cidr_format")
		over := append(append([]BulkRange{}, load...), BulkRange{OrgID: f.cust.ID, CIDR: "10.0.0.128/25"})
		_, err = f.s.BulkAddRanges(ctx, f.sys, over, BulkOptions{})
		wantKind(t, err, errs.KindInvalid, fmt.Sprintf("ranges[%d]", len(load)), "org.err.range_overlaps_own")
		clash := append(append([]BulkRange{}, load...), BulkRange{OrgID: f.bank.ID, CIDR: "198.51.100.0/25"})
		_, err = f.s.BulkAddRanges(ctx, f.sys, clash, BulkOptions{})
		wantKind(t, err, errs.KindInvalid, fmt.Sprintf("ranges[%d]", len(load)), "org.err.range_overlaps_hidden")
		// A provincial administrator may not write the bank's ranges.
		_, err = f.s.BulkAddRanges(ctx, f.actor(f.hn, policy.RoleAdmin), load, BulkOptions{})
		if errs.KindOf(err) != errs.KindForbidden && errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("another organisation's ranges: %v", err)
		}
		if n := count(); n != 1 {
			t.Fatalf("refused loads stored ranges: %d", n)
		}

		audits := f.auditCount()
		var seen []int
		n, err := f.s.BulkAddRanges(ctx, f.sys, load, BulkOptions{Batch: 1000, Progress: func(done, total int) {
			if total != len(load) {
				t.Errorf("total %d", total)
			}
			seen = append(seen, done)
		}})
		if err != nil || n != len(load) {
			t.Fatalf("stored %d: %v", n, err)
		}
		if fmt.Sprint(seen) != "[1000 2000 2501]" {
			t.Fatalf("progress %v", seen)
		}
		if c := count(); c != len(load)+1 {
			t.Fatalf("%d ranges", c)
		}
		if d := f.auditCount() - audits; d != 3 {
			t.Fatalf("%d audit entries, want one per transaction (3)", d)
		}
		f.verifyAudit()
		for q, want := range map[string]int64{"10.9.195.7": f.bank.ID, "10.0.0.1": f.cust.ID, "2001:db8:1::5": f.hn.ID, "198.51.100.9": f.isp.ID} {
			res, err := f.s.Whois(ctx, f.sys, q)
			if err != nil || res.Org.ID != want {
				t.Fatalf("whois %s: %+v %v", q, res.Org, err)
			}
		}
		// Loading again refuses every range (already registered).
		_, err = f.s.BulkAddRanges(ctx, f.sys, load[:3], BulkOptions{})
		wantKind(t, err, errs.KindInvalid, "ranges[0]", "org.err.range_overlaps_own")
	})
}
