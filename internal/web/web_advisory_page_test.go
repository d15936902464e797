package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/intel"
	"certnet/internal/policy"
)

// The advisory list pages 50 at a time with newer/older links that keep
// the filters.
func TestWebAdvisoryListPages(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := t.Context()
	for i := range 56 {
		sev := intel.SeverityHigh
		if i%8 == 7 {
			sev = intel.SeverityLow // 7 low, 49 high... plus the filter
		}
		v, err := e.App.Intel.CreateAdvisory(ctx, e.Sys, intel.AdvisoryInput{OwnerOrgID: n.nat.ID, Title: fmt.Sprintf("Cảnh báo số %02d", i),
			Summary: "Tóm tắt", Actions: "Vá", TLP: policy.TLPGreen, Severity: sev, DeadlineAt: e.Clock.Now().Add(72 * time.Hour),
			Targeting: intel.Targeting{Orgs: []int64{n.hanoi.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Intel.Publish(ctx, e.Sys, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.User(n.nat.ID, "dieuphoi.page", policy.RoleCoordinator)
	b := newOrgBrowser(t, e)
	b.login("dieuphoi.page")
	p := b.get("/advisories")
	orgWant(t, "first page", p.Body, "Cảnh báo số 55", "Cảnh báo số 06", `id="adv-older"`)
	if strings.Contains(p.Body, "Cảnh báo số 05<") || strings.Contains(p.Body, `id="adv-newer"`) {
		t.Fatal("first page holds more than 50 or links a newer page")
	}
	older := strings.ReplaceAll(between(p.Body, `href="`, `" rel="next" id="adv-older"`), "&amp;", "&")
	p = b.get(older)
	orgWant(t, "older page", p.Body, "Cảnh báo số 05", "Cảnh báo số 00", `id="adv-newer"`)
	if strings.Contains(p.Body, "Cảnh báo số 06") || strings.Contains(p.Body, `id="adv-older"`) {
		t.Fatal("older page repeats or goes on")
	}
	newer := strings.ReplaceAll(between(p.Body, `href="`, `" rel="prev" id="adv-newer"`), "&amp;", "&")
	p = b.get(newer)
	orgWant(t, "back to the newest", p.Body, "Cảnh báo số 55", "Cảnh báo số 06")
	// The filters are kept on the links.
	p = b.get("/advisories?own=1&status=published")
	older = strings.ReplaceAll(between(p.Body, `href="`, `" rel="next" id="adv-older"`), "&amp;", "&")
	if !strings.Contains(older, "own=1") || !strings.Contains(older, "status=published") || !strings.Contains(older, "before=") {
		t.Fatalf("older link %q loses the filters", older)
	}
	p = b.get(older)
	orgWant(t, "own older page", p.Body, "Cảnh báo số 05", `id="adv-newer"`)
	// 49 high advisories fit one page.
	p = b.get("/advisories?severity=high")
	if strings.Contains(p.Body, `id="adv-older"`) || strings.Contains(p.Body, "Cảnh báo số 07<") {
		t.Fatal("high-only first page")
	}
	p = b.get("/advisories?severity=low&before=999999")
	orgWant(t, "low page", p.Body, "Cảnh báo số 55", "Cảnh báo số 07")
	if strings.Contains(p.Body, "Cảnh báo số 54") {
		t.Fatal("filter lost")
	}
	if p := b.get("/advisories?before=abc"); p.Status != http.StatusBadRequest {
		t.Fatalf("broken cursor: %d", p.Status)
	}
}
