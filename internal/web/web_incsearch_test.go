package web_test

import (
	"net/http"
	"strings"
	"testing"

	"certnet/internal/org"
	"certnet/internal/policy"
)

// TestWebIncidentSearch: the list's search ignores diacritics and finds the
// organisation's name; the new filters keep their values in the form and
// the pager; an unreadable date is refused next to its field.
func TestWebIncidentSearch(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	member := e.Org("HNI-SO-TC", "Sở Tài chính Hà Nội", n.hanoi.ID, org.RoleSystemOwner)
	e.User(member.ID, "baocao.tc", policy.RoleReporter)
	mb := newOrgBrowser(t, e)
	mb.login("baocao.tc")
	if p := mb.post("/incidents", incForm("Mã độc trên cổng thông tin")); p.Status != http.StatusSeeOther && p.Status != http.StatusOK {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	p := mb.get("/incidents?q=so+tai+chinh")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Mã độc trên cổng thông tin") {
		t.Fatalf("search by organisation name: %d", p.Status)
	}
	p = mb.get("/incidents?rsit=malicious-code&from=2020-01-01&dto=2030-12-31")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Mã độc trên cổng thông tin") ||
		!strings.Contains(p.Body, `value="2020-01-01"`) || !strings.Contains(p.Body, `value="malicious-code" selected`) {
		t.Fatalf("filters: %d", p.Status)
	}
	if p := mb.get("/incidents?rsit=fraud"); p.Status != http.StatusOK || strings.Contains(p.Body, "Mã độc trên cổng thông tin") {
		t.Fatalf("rsit fraud: %d", p.Status)
	}
	if p := mb.get("/incidents?from=hôm+qua"); p.Status != http.StatusBadRequest {
		t.Fatalf("bad date: %d", p.Status)
	}
	if p := mb.get("/incidents.csv?sector=finance"); p.Status != http.StatusOK {
		t.Fatalf("export with sector: %d", p.Status)
	}
}
