package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmEvidenceRoutes) }

// --- scenario ---

func TestWebEvidenceTasksPublic(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	member := e.Org("HNI-SO-TC", "Sở Tài chính Hà Nội", n.hanoi.ID, org.RoleSystemOwner)
	if _, err := e.App.Orgs.AddRange(ctx, e.Sys, member.ID, "203.0.113.0/24", ""); err != nil {
		t.Fatal(err)
	}
	e.User(member.ID, "baocao.tc", policy.RoleReporter)
	e.User(n.hanoi.ID, "phantich.hn", policy.RoleAnalyst)
	e.User(n.danang.ID, "quantri.dn", policy.RoleAdmin)

	// A member reports an incident and uploads a file to it.
	mb := newOrgBrowser(t, e)
	mb.login("baocao.tc")
	mb.get("/incidents/new")
	p := mb.post("/incidents", incForm("Mã độc trên cổng thông tin"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("report: %d", p.Status)
	}
	incPath := p.Location
	p = mb.get(incPath)
	orgWant(t, "incident page", p.Body, `enctype="multipart/form-data"`, "/evidence")

	// The intake form takes a file too; a name that is a path is refused
	// with the form and creates nothing.
	mb.get("/incidents/new")
	p = mb.upload("/incidents", incForm("Tệp độc hại"), `C:\x.exe`, []byte("MZ"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="file-err"`) {
		t.Fatalf("intake with a path as file name: %d", p.Status)
	}
	if _, total, _ := e.App.Incidents.List(ctx, e.Sys, incident.Filter{}); total != 1 {
		t.Fatalf("%d incidents after a refused intake", total)
	}
	mb.get("/incidents/new")
	p = mb.upload("/incidents", incForm("Tệp độc hại"), "mau-doc.bin", []byte("MZ\x90"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("intake with a file: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "intake file listed", mb.get(p.Location).Body, "mau-doc.bin")
	content := []byte("pcap bytes from 198.51.100.77\n")
	p = mb.upload(incPath+"/evidence", url.Values{"note": {"Bản ghi lưu lượng"}}, "198.51.100.77_capture.pcap", content)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.Status, p.Body)
	}
	p = mb.get(incPath)
	sum := sha256.Sum256(content)
	orgWant(t, "evidence listed", p.Body, "198.51.100.77_capture.pcap", hex.EncodeToString(sum[:])[:16], "Bản ghi lưu lượng")
	files, _ := e.App.Evidence.List(ctx, e.Sys, strings.TrimPrefix(incPath, "/incidents/"))
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	evPath := fmt.Sprintf("/evidence/%d", files[0].ID)

	// Bad files: a path as the name, nothing stored.
	mb.get(incPath)
	p = mb.upload(incPath+"/evidence", url.Values{"name": {"../../etc/passwd"}}, "x.txt", []byte("x"))
	if p.Status != http.StatusBadRequest {
		t.Fatalf("path name: %d", p.Status)
	}
	for _, name := range []string{"../x", `C:\x`, "a/b"} {
		mb.get(incPath)
		p = mb.upload(incPath+"/evidence", url.Values{}, name, []byte("x"))
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="ev-file-err"`) {
			t.Fatalf("file name %q: %d", name, p.Status)
		}
	}
	if p := mb.upload(incPath+"/evidence", url.Values{"_csrf": {"sai"}}, "csrf.txt", []byte("x")); p.Status != http.StatusForbidden {
		t.Fatalf("upload without the CSRF token: %d", p.Status)
	}
	mb.get(incPath)
	p = mb.upload(incPath+"/evidence", url.Values{}, "empty.txt", nil)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("empty file: %d", p.Status)
	}
	// Over the size limit: refused, nothing kept.
	max := e.App.Evidence.Files.MaxSize
	e.App.Evidence.Files.MaxSize = 16
	mb.get(incPath)
	p = mb.upload(incPath+"/evidence", url.Values{}, "big.bin", bytes.Repeat([]byte{0}, 100))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="ev-file-err"`) {
		t.Fatalf("too large: %d", p.Status)
	}
	e.App.Evidence.Files.MaxSize = max
	if files, _ := e.App.Evidence.List(ctx, e.Sys, strings.TrimPrefix(incPath, "/incidents/")); len(files) != 1 {
		t.Fatalf("after refusals: %d files", len(files))
	}

	// Download: an attachment, bytes only, never inline.
	p = mb.get(evPath + "/download")
	if p.Status != http.StatusOK || p.Body != string(content) {
		t.Fatalf("download: %d %q", p.Status, p.Body)
	}
	for h, want := range map[string]string{"Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "sandbox", "Content-Disposition": `attachment; filename=198.51.100.77_capture.pcap`} {
		if got := p.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	p = mb.get(evPath)
	orgWant(t, "custody log", p.Body, "Thêm tệp", "Tải xuống", "Xem chi tiết", hex.EncodeToString(sum[:]))

	// Someone of another province: not found, download too.
	ob := newOrgBrowser(t, e)
	ob.login("quantri.dn")
	if p := ob.get(evPath + "/download"); p.Status != http.StatusNotFound {
		t.Fatalf("other province download: %d", p.Status)
	}

	// Tasks: the province's analyst gives one to the member's reporter,
	// who sees it on the home page.
	ab := newOrgBrowser(t, e)
	ab.login("phantich.hn")
	p = ab.get(incPath)
	orgWant(t, "task form", p.Body, "/tasks", "baocao.tc")
	owner := e.User(member.ID, "xuly.tc", policy.RoleReporter)
	ab.get(incPath)
	p = ab.post(incPath+"/tasks", url.Values{"title": {""}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="task-title-err"`) {
		t.Fatalf("task without a title: %d", p.Status)
	}
	p = ab.post(incPath+"/tasks", url.Values{"title": {"Cô lập máy chủ"}, "owner_id": {fmt.Sprint(owner.ID)}, "due_at": {e.Clock.Now().Add(48 * time.Hour).In(i18n.Zone).Format("2006-01-02T15:04")}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("task: %d\n%s", p.Status, p.Body)
	}
	xb := newOrgBrowser(t, e)
	xb.login("xuly.tc")
	orgWant(t, "my tasks", xb.get("/").Body, "Cô lập máy chủ")
	ref := strings.TrimPrefix(incPath, "/incidents/")
	ref, _ = url.PathUnescape(ref)
	tasks, _ := e.App.Incidents.Tasks(ctx, e.Sys, ref)
	ab.get(incPath)
	if p := ab.post(fmt.Sprintf("/tasks/%d/done", tasks[0].ID), url.Values{"done": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("done: %d", p.Status)
	}
	orgWant(t, "done", ab.get(incPath).Body, "Hoàn thành")

	// The public page: no login, a reference, nothing else.
	pb := newOrgBrowser(t, e)
	p = pb.get("/report")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /report: %d", p.Status)
	}
	form := url.Values{"name": {"Phạm Thị D"}, "email": {"d@example.com"}, "description": {"Trang 203.0.113.9 bị thay giao diện"},
		"addresses": {"203.0.113.9"}, "type_guess": {"defacement"}}
	bad := url.Values{"name": {"Phạm Thị D"}, "email": {"sai"}, "description": {"x"}}
	if p := pb.post("/report", bad); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="email-err"`) {
		t.Fatalf("bad public report: %d", p.Status)
	}
	if p := pb.post("/report", url.Values{"name": {"x"}, "email": {"d@example.com"}, "description": {"x"}, "_csrf": {""}}); p.Status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", p.Status)
	}
	pb.get("/report")
	p = pb.post("/report", form)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "PR-") {
		t.Fatalf("public report: %d\n%s", p.Status, p.Body)
	}
	hp := url.Values{"website": {"http://spam"}}
	for k, v := range form {
		hp[k] = v
	}
	pb.get("/report")
	if p := pb.post("/report", hp); p.Status != http.StatusOK || strings.Contains(p.Body, "PR-") {
		t.Fatalf("honeypot: %d", p.Status)
	}
	e.App.Public.PerAddress = 2
	pb.get("/report")
	pb.post("/report", form)
	pb.get("/report")
	if p := pb.post("/report", form); p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "thử lại sau") ||
		p.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d", p.Status)
	}

	// The province triages it: the draft proposes the member, the
	// incident links back.
	l, _ := e.App.Public.List(ctx, e.Sys, incident.PublicFilter{})
	prRef := l[len(l)-1].Ref
	hb := newOrgBrowser(t, e)
	e.User(n.hanoi.ID, "dieuphoi.hn", policy.RoleCoordinator)
	hb.login("dieuphoi.hn")
	orgWant(t, "queue", hb.get("/public-reports").Body, prRef)
	orgWant(t, "home", hb.get("/").Body, "báo cáo từ công chúng chờ xử lý")
	if p := ob.get("/public-reports/" + prRef); p.Status != http.StatusNotFound {
		t.Fatalf("other province: %d", p.Status)
	}
	orgWant(t, "may triage", hb.get("/public-reports/"+prRef).Body, `/public-reports/`+prRef+`/convert"`)
	p = hb.get("/public-reports/" + prRef + "/convert")
	orgWant(t, "draft", p.Body, fmt.Sprintf(`<option value="%d" selected>`, member.ID))
	f := url.Values{"title": {"Thay giao diện 203.0.113.9"}, "description": {"Trang 203.0.113.9 bị thay giao diện"},
		"type": {"defacement"}, "severity": {"medium"}, "tlp": {"AMBER"}, "affected_org_id": {fmt.Sprint(member.ID)},
		"system.name": {"203.0.113.9"}, "detected_at": {"2020-01-02T08:30"}}
	p = hb.post("/public-reports/"+prRef+"/convert", f)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/incidents/SC-") {
		t.Fatalf("convert: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "converted", hb.get("/public-reports/"+prRef).Body, "Đã tạo sự cố")
}

// --- the matrix's routes ---

var wmEvidence sync.Map // wmIncKey → incident.Evidence

// evidence is a file of the case's incident, uploaded as the system.
func (c *wmCase) evidence(t *testing.T) incident.Evidence {
	t.Helper()
	inc := c.incident(t)
	k := wmIncKey{c.t.org.ID, c.t.org.TLP}
	if v, ok := wmEvidence.Load(k); ok {
		return v.(incident.Evidence)
	}
	ev, err := c.m.e.App.Evidence.Add(c.m.ctx, c.m.e.Sys, inc.Ref, incident.EvidenceInput{Name: "matrix.log",
		Body: bytes.NewReader([]byte(fmt.Sprintf("matrix %d", c.n)))})
	if err != nil {
		t.Fatalf("matrix evidence: %v", err)
	}
	wmEvidence.Store(k, ev)
	return ev
}

// task is a new task of the case's incident.
func (c *wmCase) task(t *testing.T) incident.Task {
	t.Helper()
	task, err := c.m.e.App.Incidents.AddTask(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, incident.TaskInput{Title: fmt.Sprintf("Việc %d", c.n)})
	if err != nil {
		t.Fatalf("matrix task: %v", err)
	}
	return task
}

// publicReport is a new report routed to the target organisation.
func (c *wmCase) publicReport(t *testing.T) string {
	t.Helper()
	ref := fmt.Sprintf("PR-2099-%06d", c.n)
	_, err := c.m.e.DB.Exec(c.m.ctx, `INSERT INTO public_reports (ref, name, email, description, addresses, route_org_id, status, created_at)
		VALUES (?, 'Người dân', 'a@example.com', 'Ma trận', '[]', ?, 'new', ?)`, ref, c.t.org.ID, c.m.e.Clock.Now())
	if err != nil {
		t.Fatalf("matrix public report: %v", err)
	}
	return ref
}

// onEvidence: the incident must be readable, then act on the file (whose
// label is the incident's).
func onEvidence(act policy.Action) func(c *wmCase) error {
	return onIncident(act)
}

// onPublic decides a public report routed to the target: who may not read
// it learns nothing (not found).
func onPublic(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		res := policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}
		err := c.check(act, res)
		if err == nil {
			return nil
		}
		if act == policy.PublicReportRead || c.check(policy.PublicReportRead, res) != nil {
			return errs.NotFound("matrix: public report")
		}
		return err
	}
}

// noLimit lifts the public page's limits for the matrix (every case posts
// from the same address).
func noLimit(c *wmCase) {
	c.m.e.App.Public.PerAddress, c.m.e.App.Public.Global = 1<<30, 1<<30
}

var wmEvidenceRoutes = map[string]wmRoute{
	"POST /incidents/{ref}/evidence": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/evidence"), form: url.Values{"note": {"ma trận"}},
				file: []byte(fmt.Sprintf("evidence %d", c.n))}
		},
		decide: onIncident(policy.EvidenceAdd),
	},
	"GET /evidence/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/evidence/%d", c.evidence(t).ID)}
		},
		decide: onEvidence(policy.EvidenceRead),
	},
	"GET /evidence/{id}/download": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/evidence/%d/download", c.evidence(t).ID)}
		},
		decide: onEvidence(policy.EvidenceDownload),
		ctype:  "application/octet-stream",
	},
	"POST /incidents/{ref}/tasks": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/tasks"), form: url.Values{"title": {fmt.Sprintf("Nhiệm vụ %d", c.n)}}}
		},
		decide: onIncident(policy.TaskWrite),
	},
	"POST /tasks/{id}/done": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/tasks/%d/done", c.task(t).ID), form: url.Values{"done": {"1"}}}
		},
		decide: onIncident(policy.TaskWrite),
	},
	"POST /tasks/{id}/assign": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/tasks/%d/assign", c.task(t).ID), form: url.Values{"owner_id": {"0"}}}
		},
		decide: onIncident(policy.TaskWrite),
	},
	"GET /report": {
		req:  wmGet(wmPath("/report")),
		anon: wmAnon{status: http.StatusOK},
	},
	"POST /report": {
		req: func(_ *testing.T, c *wmCase) wmReq {
			noLimit(c)
			return wmReq{method: http.MethodPost, path: "/report", form: url.Values{"name": {"Người dân"}, "email": {"a@example.com"},
				"description": {fmt.Sprintf("Trang web bị tấn công %d", c.n)}}}
		},
		anon: wmAnon{status: http.StatusOK},
	},
	"GET /public-reports": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.publicReport(t)
			return wmReq{method: http.MethodGet, path: "/public-reports?status=new"}
		},
		shows: onPublic(policy.PublicReportRead),
		seen:  contains(func(c *wmCase) string { return fmt.Sprintf("PR-2099-%06d", c.n) }),
	},
	"GET /public-reports/{ref}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: "/public-reports/" + c.publicReport(t)}
		},
		decide: onPublic(policy.PublicReportRead),
	},
	"GET /public-reports/{ref}/convert": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: "/public-reports/" + c.publicReport(t) + "/convert"}
		},
		decide: onPublic(policy.PublicReportTriage),
	},
	"POST /public-reports/{ref}/convert": {
		// An empty title: the form comes back with its errors once policy
		// let the request through.
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: "/public-reports/" + c.publicReport(t) + "/convert", form: url.Values{"title": {""}}}
		},
		decide: onPublic(policy.PublicReportTriage),
	},
	"POST /public-reports/{ref}/dismiss": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: "/public-reports/" + c.publicReport(t) + "/dismiss", form: url.Values{"reason": {"spam"}}}
		},
		decide: onPublic(policy.PublicReportTriage),
	},
}
