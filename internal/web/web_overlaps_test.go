package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// Overlaps left in the data (here written past the service, as an old
// import might have) are listed for the coordinator to settle.
func TestOverlapsPage(t *testing.T) {
	n := newOrgNet(t)
	ctx := context.Background()
	if _, err := n.e.App.Orgs.AddRange(ctx, n.e.Sys, n.isp.ID, "10.0.0.0/8", "khối ISP"); err != nil {
		t.Fatal(err)
	}
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)
	p := b.get("/orgs/overlaps")
	if p.Status != http.StatusOK {
		t.Fatalf("overlaps page: %d", p.Status)
	}
	orgWant(t, "no overlaps", p.Body, "status-ok")

	if _, err := n.e.DB.Exec(ctx, `INSERT INTO org_ranges (org_id, cidr, family, start_key, end_key, note, created_at)
		VALUES (?, ?, 4, ?, ?, '', ?)`, n.hanoi.ID, "10.1.0.0/16",
		"00000000000000000000ffff0a010000", "00000000000000000000ffff0a01ffff", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	n.e.App.Orgs.Invalidate()
	p = b.get("/orgs/overlaps")
	orgWant(t, "overlap listed", p.Body, "10.0.0.0/8", "10.1.0.0/16", n.isp.Name, n.hanoi.Name)
	orgWantNot(t, "overlap listed", p.Body, "status-ok")
}
