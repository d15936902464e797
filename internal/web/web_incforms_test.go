package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"certnet/internal/incident"
	"certnet/internal/policy"
)

func init() {
	addWMRoutes(map[string]wmRoute{
		"GET /incidents/{ref}/form04": {
			req: func(t *testing.T, c *wmCase) wmReq {
				return wmReq{method: http.MethodGet, path: c.incPath(t, "/form04")}
			},
			decide: onIncident(policy.IncidentRead),
		},
	})
}

// Form 04 is filled from the incident alone before the closure report,
// and from the closure report once filed.
func TestWebIncidentForm04(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	e.User(n.hanoi.ID, "ucsc.hn", policy.RoleAnalyst)
	inc, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: "Mã độc tống tiền tại cổng thông tin", Description: "Máy chủ bị mã hóa dữ liệu.",
		Type: incident.TypeMalware, ReporterOrgID: n.hanoi.ID, DetectedAt: e.App.Incidents.Now().Add(-time.Hour),
		Contact: incident.Contact{Name: "An", Email: "an@example.vn"}, System: incident.System{Name: "Cổng thông tin Hà Nội", OwnerName: "UBND Hà Nội", Level: 3},
		DetectedBy: incident.DetectIDS})
	if err != nil {
		t.Fatal(err)
	}
	path := "/incidents/" + url.PathEscape(inc.Ref) + "/form04"
	b := newOrgBrowser(t, e)
	b.login("ucsc.hn")
	p := b.get(path)
	if p.Status != http.StatusOK {
		t.Fatalf("form 04: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "form 04 before closure", p.Body, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO KẾT THÚC ỨNG PHÓ SỰ CỐ",
		inc.Ref, "Cổng thông tin Hà Nội", "UBND Hà Nội", "Chưa có báo cáo kết thúc")

	for _, st := range []incident.Status{incident.StatusVerified, incident.StatusContainment, incident.StatusRecovery} {
		if _, err := e.App.Incidents.Transition(ctx, e.Sys, inc.Ref, st, incident.TransitionInput{}); err != nil {
			t.Fatalf("to %s: %v", st, err)
		}
	}
	if _, err := e.App.Incidents.AddReport(ctx, e.Sys, inc.Ref, incident.ReportClosure,
		incident.ReportInput{Result: "Đã khôi phục từ bản sao lưu", Lessons: "Sao lưu ngoại tuyến hằng ngày"}); err != nil {
		t.Fatal(err)
	}
	p = b.get(path)
	orgWant(t, "form 04 after closure", p.Body, "Đã khôi phục từ bản sao lưu", "Sao lưu ngoại tuyến hằng ngày", "Cổng thông tin Hà Nội")
	orgWantNot(t, "form 04 after closure", p.Body, "Chưa có báo cáo kết thúc")

	// Someone outside the incident's scope does not see it.
	e.User(n.danang.ID, "ucsc.dn", policy.RoleAnalyst)
	o := newOrgBrowser(t, e)
	o.login("ucsc.dn")
	if p := o.get(path); p.Status == http.StatusOK {
		t.Errorf("other province reads form 04: %d", p.Status)
	}
}
