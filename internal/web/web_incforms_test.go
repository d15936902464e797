package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"certnet/internal/coord"
	"certnet/internal/i18n"
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
		"GET /incidents/summary": {
			req:    wmGet(func(c *wmCase) string { return c.summaryPath("/incidents/summary") }),
			decide: onSummary,
		},
		"GET /incidents/summary/form05": {
			req:    wmGet(func(c *wmCase) string { return c.summaryPath("/incidents/summary/form05") }),
			decide: onSummary,
		},
		"GET /incidents/summary.csv": {
			req:    wmGet(func(c *wmCase) string { return c.summaryPath("/incidents/summary.csv") }),
			decide: onSummary,
			ctype:  "text/csv",
		},
		"GET /incidents/summary.xlsx": {
			req:    wmGet(func(c *wmCase) string { return c.summaryPath("/incidents/summary.xlsx") }),
			decide: onSummary,
			ctype:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		},
		"POST /incident-filters": {
			// One's own filter: every signed-in actor.
			req: wmPost(wmPath("/incident-filters"), func(c *wmCase) url.Values {
				return url.Values{"name": {fmt.Sprintf("Bộ lọc %d", c.n)}, "query": {"type=ddos&status=received"}}
			}),
			decide: func(c *wmCase) error {
				u := c.a.user
				return c.check(policy.IncidentFilterWrite, incident.SavedFilter{UserID: u.ID, OrgID: u.OrgID}.Resource())
			},
		},
		"POST /incident-filters/{id}/rename": {
			// A filter the target's user shared with the target: only its
			// owner may rename it.
			req: func(t *testing.T, c *wmCase) wmReq {
				return wmReq{method: http.MethodPost, path: fmt.Sprintf("/incident-filters/%d/rename", c.sharedFilter(t).ID),
					form: url.Values{"name": {fmt.Sprintf("Tên mới %d", c.n)}}}
			},
			decide: func(c *wmCase) error {
				res := incident.SavedFilter{UserID: c.t.user.ID, OrgID: c.t.org.ID, Shared: true}.Resource()
				if err := c.check(policy.IncidentFilterRead, res); err != nil {
					return err
				}
				return c.check(policy.IncidentFilterWrite, res)
			},
		},
		"POST /incident-filters/{id}/delete": {
			// A filter the target's user shared with the target.
			req: func(t *testing.T, c *wmCase) wmReq {
				return wmReq{method: http.MethodPost, path: fmt.Sprintf("/incident-filters/%d/delete", c.sharedFilter(t).ID),
					form: url.Values{}}
			},
			decide: func(c *wmCase) error {
				res := incident.SavedFilter{UserID: c.t.user.ID, OrgID: c.t.org.ID, Shared: true}.Resource()
				if err := c.check(policy.IncidentFilterRead, res); err != nil {
					return err
				}
				return c.check(policy.IncidentFilterManage, res)
			},
		},
	})
}

// summaryPath asks for the target's summary of this year.
func (c *wmCase) summaryPath(p string) string {
	return fmt.Sprintf("%s?year=%d&half=1&org=%d", p, c.m.e.App.Incidents.Now().Year(), c.t.org.ID)
}

// onSummary: the summary is an incident read of the organisation it is
// about, whose name it shows.
func onSummary(c *wmCase) error {
	if err := c.check(policy.IncidentRead, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}); err != nil {
		return err
	}
	return c.check(policy.OrgRead, c.t.org.Resource())
}

// sharedFilter is a new filter the target's user shares with the target.
func (c *wmCase) sharedFilter(t *testing.T) incident.SavedFilter {
	t.Helper()
	a, err := c.m.e.App.Auth.ActorFor(c.m.ctx, c.t.user, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.m.e.App.Incidents.SaveFilter(c.m.ctx, a, fmt.Sprintf("Dùng chung %d", c.n), "severity=high", true)
	if err != nil {
		t.Fatal(err)
	}
	return f
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

// incFormsNet: a Hà Nội member with two incidents of the first half (one
// closed with a damage estimate), and one in Đà Nẵng.
type incFormsNet struct {
	*orgNet
	member, dnMember int64
	incs             []incident.Incident
}

func newIncFormsNet(t *testing.T) *incFormsNet {
	t.Helper()
	n := &incFormsNet{orgNet: newOrgNet(t)}
	e := n.e
	ctx := context.Background()
	m := e.Org("HNI-CTY", "Công ty Cổng thông tin Hà Nội", n.hanoi.ID, "system_owner")
	d := e.Org("DNG-CTY", "Công ty Đà Nẵng", n.danang.ID, "system_owner")
	n.member, n.dnMember = m.ID, d.ID
	e.User(m.ID, "cty.hn", policy.RoleAnalyst)
	e.User(m.ID, "cty.hn2", policy.RoleViewer)
	e.User(m.ID, "cty.admin", policy.RoleAdmin)
	e.User(d.ID, "cty.dn", policy.RoleAnalyst)
	mk := func(orgID int64, typ incident.Type, title string, at time.Time) incident.Incident {
		inc, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: title, Description: "Mô tả sự cố.",
			Type: typ, ReporterOrgID: orgID, DetectedAt: at, Contact: incident.Contact{Name: "An", Email: "an@example.vn"},
			System: incident.System{Name: "Cổng thông tin"}, DetectedBy: incident.DetectIDS})
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	now := e.App.Incidents.Now()
	h1 := time.Date(now.Year(), 3, 10, 3, 0, 0, 0, time.UTC)
	i1 := mk(m.ID, incident.TypeRansomware, "Mã độc tống tiền", h1)
	i2 := mk(m.ID, incident.TypeDDoS, "Tấn công từ chối dịch vụ", h1.Add(24*time.Hour))
	i3 := mk(d.ID, incident.TypeDDoS, "Từ chối dịch vụ Đà Nẵng", h1)
	for _, st := range []incident.Status{incident.StatusVerified, incident.StatusContainment, incident.StatusRecovery} {
		if _, err := e.App.Incidents.Transition(ctx, e.Sys, i1.Ref, st, incident.TransitionInput{}); err != nil {
			t.Fatal(err)
		}
	}
	n.incs = []incident.Incident{i1, i2, i3}
	return n
}

// The closure report's handling and damage, through the incident page's
// form, appear on the printable form 04; a damage that is not a number is
// refused next to its field and nothing is filed.
func TestWebClosureHandlingAndDamage(t *testing.T) {
	n := newIncFormsNet(t)
	inc := n.incs[0]
	b := newOrgBrowser(t, n.e)
	b.login("cty.hn")
	path := "/incidents/" + url.PathEscape(inc.Ref)
	page := b.get(path)
	orgWant(t, "incident page", page.Body, `name="handling"`, `name="damage_vnd"`, "Có hỗ trợ trong nước")
	form := url.Values{"kind": {"closure"}, "result": {"Đã khôi phục"}, "lessons": {"Sao lưu"},
		"handling": {"domestic_help"}, "damage_vnd": {"15 triệu"}, "damage_note": {"Chi phí khôi phục"}}
	if p := b.post(path+"/reports", form); p.Status != http.StatusBadRequest {
		t.Fatalf("bad damage: %d", p.Status)
	} else {
		orgWant(t, "bad damage", p.Body, "Thiệt hại phải là số đồng nguyên")
	}
	form.Set("damage_vnd", "15.000.000")
	if p := b.post(path+"/reports", form); p.Status != http.StatusSeeOther {
		t.Fatalf("closure report: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "incident page after closure", b.get(path).Body, "Hình thức xử lý sự cố: Có hỗ trợ trong nước",
		"Thiệt hại ước tính (đồng): 15.000.000")
	p := b.get(path + "/form04")
	orgWant(t, "form 04", p.Body, "Hình thức xử lý sự cố", "Có hỗ trợ trong nước", "15.000.000 đồng", "Chi phí khôi phục")
	got, err := n.e.App.Incidents.Get(context.Background(), n.e.Sys, inc.Ref)
	if err != nil {
		t.Fatal(err)
	}
	closures := 0
	for _, r := range got.Reports {
		if r.Kind == incident.ReportClosure {
			closures++
		}
	}
	if closures != 1 {
		t.Errorf("%d closure reports filed, want 1 (the refused one changed something)", closures)
	}
}

// The summary page, the printable form 05 and the downloads hold the rows
// of the member's incidents; another member sees none of them.
func TestWebSummary(t *testing.T) {
	n := newIncFormsNet(t)
	e := n.e
	ctx := context.Background()
	v := int64(2_000_000)
	if _, err := e.App.Incidents.AddReport(ctx, e.Sys, n.incs[0].Ref, incident.ReportClosure, incident.ReportInput{
		Result: "Đã khôi phục", Lessons: "Sao lưu", Handling: incident.HandledInHouse, DamageVND: &v}); err != nil {
		t.Fatal(err)
	}
	year := e.App.Incidents.Now().Year()
	if _, err := e.App.Coord.AddEffort(ctx, e.Sys, n.incs[0].Ref, coord.EffortInput{OrgID: n.isp.ID,
		Date: e.App.Incidents.Now().Format(time.DateOnly), People: 2, Hours: 6, CostVND: 750_000, Description: "Lọc lưu lượng"}); err != nil {
		t.Fatal(err)
	}
	b := newOrgBrowser(t, e)
	b.login("cty.hn")
	if p := b.get("/incidents"); !strings.Contains(p.Body, `href="/incidents/summary"`) {
		t.Error("the incident list does not link the summary")
	}
	q := fmt.Sprintf("?year=%d&half=1", year)
	p := b.get("/incidents/summary" + q)
	if p.Status != http.StatusOK {
		t.Fatalf("summary: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "summary", p.Body, fmt.Sprintf("6 tháng đầu năm %d", year), "Công ty Cổng thông tin Hà Nội",
		"Tấn công từ chối dịch vụ", "<svg class=\"chart\"", "Tổng cộng", "2.000.000",
		fmt.Sprintf(`href="/incidents/summary/form05?half=1&amp;year=%d"`, year), fmt.Sprintf(`href="/incidents/summary.csv?half=1&amp;year=%d"`, year))
	p = b.get("/incidents/summary/form05" + q)
	orgWant(t, "form 05", p.Body, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO TỔNG HỢP TÌNH HÌNH SỰ CỐ",
		"Công ty Cổng thông tin Hà Nội", "HNI-CTY", "Tự xử lý", "Đề nghị cơ quan điều phối hỗ trợ", "2.000.000",
		"Công ty Viễn thông Sao Mai: hỗ trợ 1 sự cố · chi phí ghi nhận 750.000 đồng")
	for _, typ := range incident.Types {
		if !strings.Contains(p.Body, html.EscapeString(i18n.T(i18n.VI, typ.LabelKey()))) {
			t.Errorf("form 05 lacks the row %s", typ)
		}
	}
	p = b.get("/incidents/summary.csv" + q)
	if p.Status != http.StatusOK || !strings.Contains(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	// Ransomware: 1, in house 1, damage 2 000 000 on one; DDoS: 1; totals 2.
	orgWant(t, "csv", p.Body, ",1,1,0,0,0,2000000,1", ",2,1,0,0,0,2000000,1", "Công ty Viễn thông Sao Mai,1,750000")
	if p := b.get("/incidents/summary.xlsx" + q); p.Status != http.StatusOK || !strings.HasPrefix(p.Body, "PK") {
		t.Errorf("xlsx: %d", p.Status)
	}
	// Bad periods are refused with what is wrong.
	if p := b.get("/incidents/summary?year=1800"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Năm không hợp lệ") {
		t.Errorf("year 1800: %d", p.Status)
	}
	if p := b.get(fmt.Sprintf("/incidents/summary?year=%d&half=7", year)); p.Status != http.StatusBadRequest {
		t.Errorf("half 7: %d", p.Status)
	}
	// Another member: its own numbers only, and not the Hà Nội member's.
	o := newOrgBrowser(t, e)
	o.login("cty.dn")
	p = o.get("/incidents/summary.csv" + q)
	orgWant(t, "other member's csv", p.Body, ",1,0,0,0,0,0,0")
	orgWantNot(t, "other member's csv", p.Body, "2000000", "Hà Nội")
	if p := o.get(fmt.Sprintf("/incidents/summary%s&org=%d", q, n.member)); p.Status != http.StatusNotFound {
		t.Errorf("another member's summary by id: %d", p.Status)
	}
}

// Saving the list's filter, applying it, sharing, refusing a taken name
// and a bad query, deleting.
func TestWebSavedFilters(t *testing.T) {
	n := newIncFormsNet(t)
	b := newOrgBrowser(t, n.e)
	b.login("cty.hn")
	p := b.get("/incidents?type=ransomware")
	orgWant(t, "list", p.Body, "Bộ lọc đã lưu", `name="query" value="type=ransomware"`)
	p = b.post("/incident-filters", url.Values{"name": {"Mã hoá dữ liệu"}, "query": {"type=ransomware"}, "shared": {"1"}})
	if p.Status != http.StatusSeeOther || p.Location != "/incidents?type=ransomware" {
		t.Fatalf("save: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	p = b.get("/incidents")
	orgWant(t, "list with a saved filter", p.Body, `<a href="/incidents?type=ransomware">Mã hoá dữ liệu</a>`, "dùng chung")
	// Applying it: the link's list.
	p = b.get("/incidents?type=ransomware")
	orgWant(t, "applied", p.Body, n.incs[0].Ref, `aria-current="true"`)
	orgWantNot(t, "applied", p.Body, n.incs[1].Ref)
	// The same name again: refused next to the field, what was typed kept.
	p = b.post("/incident-filters", url.Values{"name": {"Mã hoá dữ liệu"}, "query": {"type=ddos"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("same name: %d", p.Status)
	}
	orgWant(t, "same name", p.Body, "Bạn đã có một bộ lọc trùng tên này.", `value="Mã hoá dữ liệu"`, n.incs[1].Ref)
	p = b.post("/incident-filters", url.Values{"name": {"Sâu"}, "query": {"type=worm"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Chuỗi lọc có giá trị không hợp lệ") {
		t.Errorf("bad query: %d", p.Status)
	}
	// Rename: a taken name is refused next to the field.
	m := savedRenameRe.FindStringSubmatch(b.get("/incidents").Body)
	if m == nil {
		t.Fatal("the owner has no rename form")
	}
	if p := b.post(m[1], url.Values{"name": {""}}); p.Status != http.StatusBadRequest {
		t.Errorf("rename to nothing: %d", p.Status)
	}
	if p := b.post(m[1], url.Values{"name": {"Tống tiền"}}); p.Status != http.StatusSeeOther {
		t.Errorf("rename: %d", p.Status)
	}
	orgWant(t, "renamed", b.get("/incidents").Body, `<a href="/incidents?type=ransomware">Tống tiền</a>`)
	// A colleague sees the shared filter, without a delete button; the
	// organisation's administrator may delete it.
	c := newOrgBrowser(t, n.e)
	c.login("cty.hn2")
	p = c.get("/incidents")
	orgWant(t, "colleague", p.Body, "Tống tiền")
	orgWantNot(t, "colleague", p.Body, "/incident-filters/")
	if p := c.post(m[1], url.Values{"name": {"Của tôi"}}); p.Status != http.StatusForbidden {
		t.Errorf("a colleague renames a shared filter: %d", p.Status)
	}
	o := newOrgBrowser(t, n.e)
	o.login("cty.dn")
	orgWantNot(t, "other organisation", o.get("/incidents").Body, "Tống tiền")
	a := newOrgBrowser(t, n.e)
	a.login("cty.admin")
	p = a.get("/incidents")
	m = savedDeleteRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the administrator has no delete button\n%s", p.Body)
	}
	if p := c.post(m[1], nil); p.Status != http.StatusForbidden {
		t.Errorf("colleague deletes: %d", p.Status)
	}
	if p := a.post(m[1], nil); p.Status != http.StatusSeeOther {
		t.Errorf("admin deletes: %d", p.Status)
	}
	orgWantNot(t, "after delete", b.get("/incidents").Body, "Tống tiền")
	if p := a.post(m[1], nil); p.Status != http.StatusNotFound {
		t.Errorf("deleted twice: %d", p.Status)
	}
}

var savedDeleteRe = regexp.MustCompile(`action="(/incident-filters/\d+/delete)"`)

var savedRenameRe = regexp.MustCompile(`action="(/incident-filters/\d+/rename)"`)
