package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// incForm is a valid form 03 as a member types it.
func incForm(title string) url.Values {
	return url.Values{"title": {title}, "description": {"Máy chủ cổng thông tin bị cài mã độc, kết nối tới 198.51.100.23."},
		"type": {"malware"}, "severity": {"high"}, "tlp": {"AMBER"}, "detected_at": {"2020-01-02T08:30"},
		"contact.name": {"Nguyễn Văn An"}, "contact.email": {"an@thanhvien.vn"}, "system.name": {"Cổng thông tin điện tử"},
		"system.level": {"3"}, "detected_by": {"ids"}, "already_notified": {"member", "isp"}}
}

func TestWebIncidents(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	member := e.Org("HNI-SO-TC", "Sở Tài chính Hà Nội", n.hanoi.ID, org.RoleSystemOwner)
	e.User(member.ID, "baocao.tc", policy.RoleReporter)
	e.User(n.nat.ID, "dieuphoi", policy.RoleCoordinator)
	e.User(n.danang.ID, "xem.danang", policy.RoleViewer)

	mb := newOrgBrowser(t, e)
	mb.login("baocao.tc")
	if p := mb.get("/incidents/new"); p.Status != http.StatusOK {
		t.Fatalf("GET /incidents/new: %d", p.Status)
	}

	// A missing required field: its error next to it, what was typed kept,
	// nothing created.
	f := incForm("Mã độc trên cổng thông tin")
	f.Del("system.name")
	p := mb.post("/incidents", f)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("missing system name: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "form shown again", p.Body, `id="system-name-err"`, `value="Mã độc trên cổng thông tin"`, `value="an@thanhvien.vn"`)
	f = incForm("Mã độc trên cổng thông tin")
	f.Set("detected_at", "hôm qua")
	f.Set("detected_by", "other")
	p = mb.post("/incidents", f)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("unreadable detection time: %d", p.Status)
	}
	orgWant(t, "unreadable time", p.Body, `id="detected_at-err"`, `value="hôm qua"`, `id="detected_by_text-err"`)
	f = incForm("Mã độc trên cổng thông tin")
	f.Set("system.level", "ba")
	if p := mb.post("/incidents", f); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="system-level-err"`) {
		t.Fatalf("unreadable level: %d", p.Status)
	}
	if _, total, err := e.App.Incidents.List(context.Background(), e.Sys, incident.Filter{}); err != nil || total != 0 {
		t.Fatalf("after a refused form: %d incidents (%v)", total, err)
	}

	p = mb.post("/incidents", incForm("Mã độc trên cổng thông tin"))
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/incidents/") {
		t.Fatalf("report: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	incPath := p.Location
	ref, _ := url.PathUnescape(strings.TrimPrefix(incPath, "/incidents/"))
	p = mb.get(incPath)
	orgWant(t, "incident page", p.Body, ref, "Mã độc trên cổng thông tin", "TLP:AMBER", "198.51.100.23")

	// The national coordinator's coordinator sees it in the list and
	// verifies it.
	cb := newOrgBrowser(t, e)
	cb.login("dieuphoi")
	p = cb.get("/incidents?status=received&q=" + url.QueryEscape("ma doc cong"))
	if p.Status != http.StatusOK {
		t.Fatalf("list: %d", p.Status)
	}
	orgWant(t, "list", p.Body, ref, "Sở Tài chính Hà Nội", "TLP:AMBER")
	p = cb.get(incPath)
	orgWant(t, "coordinator's page", p.Body, `name="to" value="verified"`)
	p = cb.post(incPath+"/transition", url.Values{"to": {"verified"}, "reason": {"Đã xác minh nhật ký"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("verify: %d\n%s", p.Status, p.Body)
	}
	inc, err := e.App.Incidents.Get(context.Background(), e.Sys, ref)
	if err != nil || inc.Status != incident.StatusVerified {
		t.Fatalf("after verify: %v %v", inc.Status, err)
	}

	// A forbidden transition is refused with the reason.
	cb.get(incPath)
	p = cb.post(incPath+"/transition", url.Values{"to": {"closed"}})
	if p.Status != http.StatusConflict {
		t.Fatalf("verified → closed: %d", p.Status)
	}
	orgWant(t, "refused transition", p.Body, `role="alert"`, "verified", "closed")

	// A sibling province does not learn it exists.
	sb := newOrgBrowser(t, e)
	sb.login("xem.danang")
	if p := sb.get(incPath); p.Status != http.StatusNotFound {
		t.Fatalf("sibling province: %d", p.Status)
	}

	// What needs me now: the report waiting for its acknowledgement.
	home := cb.get("/").Body
	orgWant(t, "home", home, ref)
	if !strings.Contains(home, "còn ") && !strings.Contains(home, "quá hạn ") {
		t.Error("home: the deadline should say how long is left")
	}

	// The member reports progress, the coordinator acknowledges it,
	// classifies the incident and comments.
	mb.get(incPath)
	if p := mb.post(incPath+"/reports", url.Values{"kind": {"progress"}, "summary": {"Đã cô lập máy chủ"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("progress report: %d\n%s", p.Status, p.Body)
	}
	inc, _ = e.App.Incidents.Get(context.Background(), e.Sys, ref)
	last := inc.Reports[len(inc.Reports)-1]
	p = cb.get(incPath)
	orgWant(t, "reports", p.Body, "Đã cô lập máy chủ", fmt.Sprintf("/reports/%d/ack", last.ID))
	if p := cb.post(incPath+fmt.Sprintf("/reports/%d/ack", last.ID), nil); p.Status != http.StatusSeeOther {
		t.Fatalf("ack: %d\n%s", p.Status, p.Body)
	}
	cb.get(incPath)
	if p := cb.post(incPath+"/classify", url.Values{"type": {"ransomware"}, "severity": {"critical"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("classify: %d", p.Status)
	}
	cb.get(incPath)
	if p := cb.post(incPath+"/comments", url.Values{"text": {""}}); p.Status != http.StatusBadRequest {
		t.Fatalf("empty comment: %d", p.Status)
	}
	if p := cb.post(incPath+"/comments", url.Values{"text": {"Đề nghị gửi mẫu mã độc"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("comment: %d", p.Status)
	}
	p = cb.get(incPath)
	orgWant(t, "after classify and comment", p.Body, "sev-critical", "Đề nghị gửi mẫu mã độc", "status-ok")
	p = cb.get("/incidents?severity=critical&type=ransomware")
	orgWant(t, "filtered list", p.Body, ref)
	p = cb.get("/incidents.csv?severity=critical")
	orgWant(t, "csv", p.Body, "TLP:AMBER,"+ref+",")
	if p := cb.get("/incidents?severity=low"); strings.Contains(p.Body, ref) {
		t.Errorf("severity=low lists the critical incident")
	}

	// The national coordinator proposes the serious class, with a reason.
	p = cb.get(incPath)
	orgWant(t, "propose form", p.Body, "/serious/propose")
	if p := cb.post(incPath+"/serious/propose", url.Values{"reason": {""}}); p.Status != http.StatusBadRequest {
		t.Fatalf("proposal without a reason: %d", p.Status)
	}
	if p := cb.post(incPath+"/serious/propose", url.Values{"reason": {"Hệ thống cấp độ 4, gián đoạn dịch vụ"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("proposal: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "proposed", cb.get(incPath).Body, "Đã đề xuất nghiêm trọng")

	// A viewer of the province reads it without the buttons to act.
	vb := newOrgBrowser(t, e)
	vb.login(n.viewerHN)
	p = vb.get(incPath)
	if p.Status != http.StatusOK || strings.Contains(p.Body, `name="to"`) || strings.Contains(p.Body, "/classify") {
		t.Errorf("viewer: %d, with buttons to act", p.Status)
	}

	// Form 03, printable.
	p = mb.get(incPath + "/form03")
	orgWant(t, "form 03", p.Body, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", ref)
}

// --- the matrix's incident routes ---

// wmIncidents holds the incident of each target organisation and label.
var wmIncidents sync.Map

type wmIncKey struct {
	org int64
	tlp policy.TLP
}

func (c *wmCase) incident(t *testing.T) incident.Incident {
	t.Helper()
	k := wmIncKey{c.t.org.ID, c.t.org.TLP}
	if v, ok := wmIncidents.Load(k); ok {
		return v.(incident.Incident)
	}
	e := c.m.e
	inc, err := e.App.Incidents.Create(c.m.ctx, e.Sys, incident.Input{Title: fmt.Sprintf("Sự cố ma trận %d", c.n),
		Description: "Mã độc trên máy chủ.", Type: incident.TypeMalware, ReporterOrgID: c.t.org.ID, TLP: c.t.org.TLP,
		DetectedAt: e.App.Incidents.Now().Add(-3600e9), Contact: incident.Contact{Name: "An", Email: "an@matrix.vn"},
		System: incident.System{Name: "Cổng"}, DetectedBy: incident.DetectIDS})
	if err != nil {
		t.Fatalf("matrix incident: %v", err)
	}
	wmIncidents.Store(k, inc)
	return inc
}

func (c *wmCase) incPath(t *testing.T, rest string) string {
	return "/incidents/" + url.PathEscape(c.incident(t).Ref) + rest
}

// onIncident is the service's decision: an incident the actor may not read
// is not found, then act decides.
func onIncident(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		v, _ := wmIncidents.Load(wmIncKey{c.t.org.ID, c.t.org.TLP})
		inc, _ := v.(incident.Incident)
		res := inc.Resource()
		if err := c.check(policy.IncidentRead, res); err != nil {
			return errs.NotFound("matrix: incident")
		}
		return c.check(act, res)
	}
}

// systemReport files a progress report as the system, for the case to
// acknowledge.
func (c *wmCase) systemReport(t *testing.T) int64 {
	t.Helper()
	r, err := c.m.e.App.Incidents.AddReport(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, incident.ReportProgress,
		incident.ReportInput{Summary: fmt.Sprintf("Báo cáo %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// onIncidentOrgRole: act, then the organisation role the service requires,
// which no organisation of the matrix holds.
func onIncidentOrgRole(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		if err := onIncident(act)(c); err != nil {
			return err
		}
		return errs.Forbidden("matrix: organisation role")
	}
}

func init() {
	addWMRoutes(map[string]wmRoute{
		"POST /incidents/{ref}/watch": {
			req: func(t *testing.T, c *wmCase) wmReq {
				return wmReq{method: http.MethodPost, path: c.incPath(t, "/watch"), form: url.Values{"on": {"1"}}}
			},
			decide: onIncident(policy.IncidentRead),
		},
	})
}

// The reporter follows the incident from its page, is counted, and stops.
func TestWebIncidentFollow(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	member := e.Org("HNI-SO-XD", "Sở Xây dựng Hà Nội", n.hanoi.ID, org.RoleSystemOwner)
	u := e.User(member.ID, "baocao.xd", policy.RoleReporter)
	mb := newOrgBrowser(t, e)
	mb.login("baocao.xd")
	p := mb.post("/incidents", incForm("Tấn công dò mật khẩu"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("report: %d", p.Status)
	}
	incPath := p.Location
	ref, _ := url.PathUnescape(strings.TrimPrefix(incPath, "/incidents/"))
	p = mb.get(incPath)
	orgWant(t, "follow button", p.Body, `action="`+incPath+`/watch"`, `name="on" value="1"`)
	if p = mb.post(incPath+"/watch", url.Values{"on": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("follow: %d\n%s", p.Status, p.Body)
	}
	ids, err := e.App.Incidents.Watchers(context.Background(), e.Sys, ref)
	if err != nil || len(ids) != 1 || ids[0] != u.ID {
		t.Fatalf("watchers after follow: %v %v", ids, err)
	}
	p = mb.get(incPath)
	orgWant(t, "stop button", p.Body, `name="on" value="0"`, "1 người đang theo dõi")
	if p = mb.post(incPath+"/watch", url.Values{"on": {"0"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("unfollow: %d", p.Status)
	}
	if ids, err := e.App.Incidents.Watchers(context.Background(), e.Sys, ref); err != nil || len(ids) != 0 {
		t.Fatalf("watchers after stop: %v %v", ids, err)
	}
}

// The list's "overdue" badge follows the incident's open deadlines: a
// closure report filed late, once filed and acknowledged, leaves nothing
// overdue (the list reads no reports).
func TestWebIncidentListOverdue(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	inc, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: "Sự cố đã báo cáo kết thúc",
		Description: "Mã độc trên máy chủ.", Type: incident.TypeMalware, ReporterOrgID: n.hanoi.ID,
		DetectedAt: e.App.Incidents.Now().Add(-time.Hour), Contact: incident.Contact{Name: "An", Email: "an@hn.vn"},
		System: incident.System{Name: "Cổng"}, DetectedBy: incident.DetectIDS})
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []incident.Status{incident.StatusVerified, incident.StatusContainment, incident.StatusRecovery, incident.StatusReview} {
		if _, err := e.App.Incidents.Transition(ctx, e.Sys, inc.Ref, to, incident.TransitionInput{}); err != nil {
			t.Fatalf("%s: %v", to, err)
		}
	}
	e.User(n.nat.ID, "dieuphoi", policy.RoleCoordinator)
	e.Clock.Advance(incident.ClosurePeriod + 24*time.Hour)
	b := newOrgBrowser(t, e)
	b.login("dieuphoi")
	orgWant(t, "closure report late", b.get("/incidents").Body, "Quá hạn</span>")
	if _, err := e.App.Incidents.AddReport(ctx, e.Sys, inc.Ref, incident.ReportClosure, incident.ReportInput{Result: "Đã khôi phục.", Lessons: "Vá kịp thời."}); err != nil {
		t.Fatal(err)
	}
	got, err := e.App.Incidents.Get(ctx, e.Sys, inc.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got.Reports {
		if _, err := e.App.Incidents.Acknowledge(ctx, e.Sys, inc.Ref, r.ID); err != nil && !errs.Is(err, errs.KindConflict) {
			t.Fatalf("ack %d: %v", r.ID, err)
		}
	}
	p := b.get("/incidents")
	orgWant(t, "list", p.Body, inc.Ref)
	orgWantNot(t, "nothing overdue", p.Body, "Quá hạn</span>")
}
