package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"certnet/internal/infosys"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmInfosysImportRoutes) }

// wmInventory is an inventory file with one system of the target.
func wmInventory(c *wmCase) []byte {
	return []byte(fmt.Sprintf("owner_code,name,data_kind\n%s,Hệ thống nhập %d,public\n", c.t.org.Code, c.n))
}

func wmAttachmentID(t *testing.T, c *wmCase) int64 {
	sys := wmSystem(t, c)
	x, err := c.m.e.App.Infosys.Attach(c.m.ctx, c.m.e.Sys, sys.ID, infosys.AttachmentInput{Name: "thiet-ke.txt", Kind: infosys.AttachDesign,
		Body: strings.NewReader("Thiết kế")})
	if err != nil {
		t.Fatal(err)
	}
	return x.ID
}

// wmHolidayDay is a day of its own per case, far from the clock.
func wmHolidayDay(c *wmCase) string {
	return time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, c.n%20000).Format(time.DateOnly)
}

var wmInfosysImportRoutes = map[string]wmRoute{
	"GET /infosys/import": {
		req:    wmGet(wmPath("/infosys/import")),
		decide: onOwn(policy.InfosysWrite, policy.TLPAmber),
	},
	"GET /infosys/import/template.xlsx": {
		req:    wmGet(wmPath("/infosys/import/template.xlsx")),
		decide: onOwn(policy.InfosysWrite, policy.TLPAmber),
		ctype:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	},
	"POST /infosys/import": {
		// The preview of a file with one system of the target: the
		// import is the actor's right; the row is checked against the
		// target (refused in the preview when the actor may not keep it).
		req: func(_ *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: "/infosys/import", form: url.Values{}, file: wmInventory(c)}
		},
		decide: onOwn(policy.InfosysWrite, policy.TLPAmber),
	},
	"POST /infosys/import/confirm": {
		req: func(_ *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: "/infosys/import/confirm", form: url.Values{"format": {"csv"},
				"file_name": {"he-thong.csv"}, "data": {base64.StdEncoding.EncodeToString(wmInventory(c))}}}
		},
		decide: onOwn(policy.InfosysWrite, policy.TLPAmber),
	},
	"GET /infosys/systems/{sid}/edit": {
		req:    wmInfosysReq(http.MethodGet, "/infosys/systems/%d/edit", wmSysID, nil),
		decide: onInfosys(policy.InfosysWrite),
	},
	"POST /infosys/systems/{sid}/edit": {
		req: wmInfosysReq(http.MethodPost, "/infosys/systems/%d/edit", wmSysID, func(c *wmCase) url.Values {
			return url.Values{"owner_org_id": {fmt.Sprint(c.t.org.ID)}, "name": {fmt.Sprintf("Hệ thống sửa %d", c.n)}, "data_kind": {"public"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"POST /infosys/systems/{sid}/attachments": {
		req: func(t *testing.T, c *wmCase) wmReq {
			rq := wmInfosysReq(http.MethodPost, "/infosys/systems/%d/attachments", wmSysID, func(c *wmCase) url.Values {
				return url.Values{"kind": {"design"}}
			})(t, c)
			rq.file = []byte("owner,name\n") // thanh-vien.csv: a type refused, after policy
			return rq
		},
		decide: onInfosys(policy.InfosysWrite),
	},
	"GET /infosys/attachments/{aid}": {
		req:    wmInfosysReq(http.MethodGet, "/infosys/attachments/%d", wmAttachmentID, nil),
		decide: onInfosys(),
		ctype:  "application/octet-stream",
	},
	"GET /infosys/holidays": {
		req:    wmGet(wmPath("/infosys/holidays?year=2026")),
		decide: onOwn(policy.InfosysRead, policy.TLPAmber),
	},
	"POST /infosys/holidays": {
		req: wmPost(wmPath("/infosys/holidays"), func(c *wmCase) url.Values {
			return url.Values{"day": {wmHolidayDay(c)}, "name": {"Ngày nghỉ thử"}}
		}),
		decide: onOwn(policy.RegistryEdit, policy.TLPGreen),
	},
	"POST /infosys/holidays/{day}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			day := wmHolidayDay(c)
			if !c.anon {
				if err := c.m.e.App.Infosys.SetHoliday(c.m.ctx, c.m.e.Sys, infosys.Holiday{Day: day, Name: "Ngày nghỉ thử"}); err != nil {
					t.Fatal(err)
				}
			}
			return wmReq{method: http.MethodPost, path: "/infosys/holidays/" + day + "/delete", form: url.Values{}}
		},
		decide: onOwn(policy.RegistryEdit, policy.TLPGreen),
	},
}

// TestInfosysImportPage: the template, a preview with a refused row and
// its line in Vietnamese (nothing written), the confirmation importing the
// good row; the edit page moving a level-bearing fact of a classified
// system (history and re-classification notice); a refused finding change
// saying why; a file attached and downloaded; the holidays page.
func TestInfosysImportPage(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.hanoiAdmin)
	b.get("/infosys/import")
	if p := b.get("/infosys/import/template.xlsx"); p.Status != http.StatusOK || !strings.HasPrefix(p.Body, "PK") {
		t.Fatalf("template: %d", p.Status)
	}
	// An XLSX workbook with a good row and a bad one (row 3: data kind).
	x := excelize.NewFile()
	for i, row := range [][]string{{"owner_code", "name", "data_kind", "users"}, {n.hanoi.Code, "Cổng dịch vụ công", "personal", "20000"},
		{n.hanoi.Code, "Hệ thống lỗi", "bí mật", ""}} {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			x.SetCellStr("Sheet1", cell, v)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	p := b.upload("/infosys/import", url.Values{}, "he-thong.xlsx", buf.Bytes())
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Xem trước") || !strings.Contains(p.Body, "<td>3</td>") ||
		!strings.Contains(p.Body, "Cột «Loại dữ liệu»") || !strings.Contains(p.Body, "1 dòng có lỗi") {
		t.Fatalf("preview: %d %s", p.Status, p.Body)
	}
	if xs, total, err := n.e.App.Infosys.List(context.Background(), n.e.Sys, infosys.Filter{Level: -1}); err != nil || total != 0 {
		t.Fatalf("preview wrote %v %d %v", xs, total, err)
	}
	data := formValue(t, p.Body, "data")
	p = b.upload("/infosys/import/confirm", url.Values{"data": {data}, "format": {"xlsx"}, "file_name": {"he-thong.xlsx"}}, "", nil)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "1 hệ thống được thêm") {
		t.Fatalf("confirm: %d %s", p.Status, p.Body)
	}
	xs, _, err := n.e.App.Infosys.List(context.Background(), n.e.Sys, infosys.Filter{Level: -1})
	if err != nil || len(xs) != 1 || xs[0].Users != 20000 {
		t.Fatalf("imported %+v %v", xs, err)
	}
	// A broken file: a clear message, nothing written.
	p = b.upload("/infosys/import", url.Values{}, "x.csv", []byte("owner_code,colour\nA,red\n"))
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Cột «colour»") {
		t.Fatalf("broken: %d %s", p.Status, p.Body)
	}

	// Classified (as the system actor), then edited: more users.
	sys := xs[0]
	d, err := n.e.App.Infosys.SaveDossier(context.Background(), n.e.Sys, sys.ID, 0, infosys.DossierInput{Answers: infosys.Answers{Scope: infosys.ScopeOrganisation,
		DataKind: infosys.DataPersonal, PersonalCount: 50_000, Harm: infosys.HarmOrg}, Overview: "o", Design: "d", Plan: fullPlanWeb()})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []infosys.Step{infosys.StepSubmit, infosys.StepAppraise, infosys.StepApprove} {
		if _, err := n.e.App.Infosys.Move(context.Background(), n.e.Sys, d.ID, st, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	n.e.Clock.Advance(time.Hour)
	sysPath := fmt.Sprintf("/infosys/systems/%d", sys.ID)
	if p := b.get(sysPath + "/edit"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Cổng dịch vụ công") {
		t.Fatalf("edit page: %d", p.Status)
	}
	p = b.post(sysPath+"/edit", url.Values{"owner_org_id": {fmt.Sprint(n.hanoi.ID)}, "name": {"Cổng dịch vụ công"}, "data_kind": {"personal"},
		"users": {"90000"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.Status, p.Body)
	}
	if p := b.get(sysPath); !strings.Contains(p.Body, "cần lập hồ sơ xác định lại cấp độ") || !strings.Contains(p.Body, "Thay đổi số người dùng") {
		t.Fatalf("history not shown: %s", p.Body)
	}

	// A finding moved to 'accepted' without a note: refused, saying why.
	if _, err := n.e.App.Infosys.ImportFindings(context.Background(), n.e.Sys, sys.ID, infosys.FormatCSV, strings.NewReader("host,name,severity\n198.51.100.9,OpenSSL cũ,high\n")); err != nil {
		t.Fatal(err)
	}
	fs, _ := n.e.App.Infosys.Findings(context.Background(), n.e.Sys, sys.ID, "")
	b.get(sysPath)
	p = b.post(fmt.Sprintf("/infosys/findings/%d/status", fs[0].ID), url.Values{"status": {"accepted"}})
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Không cập nhật được phát hiện «OpenSSL cũ»: cần ghi chú lý do") {
		t.Fatalf("refused finding: %d %s", p.Status, p.Body)
	}
	// An attachment, downloaded.
	b.get(sysPath)
	p = b.upload(sysPath+"/attachments", url.Values{"kind": {"design"}}, "thiet-ke.pdf", []byte("%PDF-1.7\n%%EOF\n"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("attach: %d %s", p.Status, p.Body)
	}
	p = b.get(sysPath)
	if !strings.Contains(p.Body, "thiet-ke.pdf") {
		t.Fatal("attachment not listed")
	}
	as, _ := n.e.App.Infosys.Attachments(context.Background(), n.e.Sys, sys.ID, 0)
	if p := b.get(fmt.Sprintf("/infosys/attachments/%d", as[0].ID)); p.Status != http.StatusOK || p.Body != "%PDF-1.7\n%%EOF\n" {
		t.Fatalf("download: %d %q", p.Status, p.Body)
	}
	p = b.upload(sysPath+"/attachments", url.Values{"kind": {"design"}}, "virus.exe", []byte("MZ"))
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Loại tệp không được nhận") {
		t.Fatalf("bad type: %d", p.Status)
	}

	// The holidays: seeded, and kept by the national administrator.
	if p := b.get("/infosys/holidays?year=2026"); !strings.Contains(p.Body, "2026-02-16") || strings.Contains(p.Body, "/delete") {
		t.Fatalf("holidays: %s", p.Body)
	}
	nb := newOrgBrowser(t, n.e)
	nb.login(n.adminName)
	nb.get("/infosys/holidays")
	if p := nb.post("/infosys/holidays", url.Values{"day": {"2026-12-31"}, "name": {"Nghỉ bù"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("add holiday: %d %s", p.Status, p.Body)
	}
	if p := nb.post("/infosys/holidays", url.Values{"day": {"31/12/2026"}, "name": {"x"}}); p.Status == http.StatusSeeOther {
		t.Fatal("bad day accepted")
	}
	if p := nb.get("/infosys/holidays?year=2026"); !strings.Contains(p.Body, "Nghỉ bù") {
		t.Fatal("holiday not added")
	}
}

func fullPlanWeb() map[string]string {
	p := map[string]string{}
	for _, k := range infosys.PlanSections {
		p[k] = "Phương án"
	}
	return p
}

// formValue is the value of the input named name in a page.
func formValue(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no input %s", name)
	}
	return html.UnescapeString(m[1])
}
