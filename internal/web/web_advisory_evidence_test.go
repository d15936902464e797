package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmAdvEvidenceRoutes) }

// --- scenario: a bank attaches a patch report to its answer; the
// publisher downloads it from the recipient table, another recipient
// cannot ---

func TestWebAdvisoryEvidence(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	bank := e.Org("NH-HN", "Ngân hàng Thủ đô", n.hanoi.ID, org.RoleSystemOwner)
	other := e.Org("DN-SO", "Sở Thông tin Đà Nẵng", n.danang.ID, org.RoleSystemOwner)
	e.User(n.nat.ID, "canhbao", policy.RoleCoordinator)
	e.User(bank.ID, "nganhang.it", policy.RoleReporter)
	e.User(other.ID, "dn.it", policy.RoleAnalyst)
	v, err := e.App.Intel.CreateAdvisory(ctx, e.Sys, intel.AdvisoryInput{OwnerOrgID: n.nat.ID, Title: "Lỗ hổng cổng VPN", Summary: "Khai thác từ xa",
		Actions: "Vá", TLP: policy.TLPAmber, DeadlineAt: e.Clock.Now().Add(72 * time.Hour), Targeting: intel.Targeting{Orgs: []int64{bank.ID, other.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Intel.Publish(ctx, e.Sys, v.ID); err != nil {
		t.Fatal(err)
	}
	rs, err := e.App.Intel.Recipients(ctx, e.Sys, v.ID, intel.RecipientFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rid := map[int64]int64{}
	for _, r := range rs {
		rid[r.OrgID] = r.ID
	}
	path := advPath(v, "")
	up := fmt.Sprintf("%s/recipients/%d/evidence", path, rid[bank.ID])

	bb := newOrgBrowser(t, e)
	bb.login("nganhang.it")
	p := bb.get(path)
	orgWant(t, "answer card", p.Body, `enctype="multipart/form-data"`, up, "Chưa có tệp minh chứng.")
	// Refused with the page: a type not accepted, content not of its type.
	p = bb.upload(up, url.Values{}, "vá.exe", []byte("MZ"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="file-err"`) || !strings.Contains(p.Body, ".pdf") {
		t.Fatalf("exe: %d", p.Status)
	}
	bb.get(path)
	p = bb.upload(up, url.Values{}, "bao-cao.pdf", []byte("not a pdf"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="file-err"`) {
		t.Fatalf("fake pdf: %d", p.Status)
	}
	bb.get(path)
	pdf := []byte("%PDF-1.7\nBáo cáo vá\n")
	// A note with a control character is shown at the file's note.
	p = bb.upload(up, url.Values{"evidence_note": {"a\x01b"}}, "bao-cao-va.pdf", pdf)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="evidence_note-err"`) || strings.Contains(p.Body, `id="note-err"`) {
		t.Fatalf("bad note: %d", p.Status)
	}
	bb.get(path)
	p = bb.upload(up, url.Values{"evidence_note": {"Kết quả quét lại"}}, "bao-cao-va.pdf", pdf)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", p.Status, p.Body)
	}
	files, err := e.App.Intel.AnswerEvidenceList(ctx, e.Sys, v.ID, rid[bank.ID])
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v %v", files, err)
	}
	dl := fmt.Sprintf("%s/%d", up, files[0].ID)
	p = bb.get(path)
	orgWant(t, "answer card with the file", p.Body, dl, "bao-cao-va.pdf", "Kết quả quét lại")

	// The publisher sees it in the recipient table and downloads it.
	nb := newOrgBrowser(t, e)
	nb.login("canhbao")
	p = nb.get(path)
	orgWant(t, "recipient table", p.Body, dl, "bao-cao-va.pdf")
	p = nb.get(dl)
	if p.Status != http.StatusOK || p.Body != string(pdf) || !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("publisher download: %d %q", p.Status, p.Header.Get("Content-Disposition"))
	}
	// The other recipient neither sees nor downloads it, nor uploads to
	// the bank's answer.
	ob := newOrgBrowser(t, e)
	ob.login("dn.it")
	p = ob.get(path)
	orgWantNot(t, "other recipient's page", p.Body, "bao-cao-va.pdf")
	if p := ob.get(dl); p.Status != http.StatusNotFound {
		t.Fatalf("other recipient downloads: %d", p.Status)
	}
	if p := ob.upload(up, url.Values{}, "x.pdf", pdf); p.Status != http.StatusForbidden {
		t.Fatalf("other recipient uploads: %d", p.Status)
	}
	// The bank takes the file off its answer; the publisher cannot.
	rm := dl + "/remove"
	nb.get(path)
	if p := nb.post(rm, url.Values{}); p.Status != http.StatusForbidden {
		t.Fatalf("publisher removes: %d", p.Status)
	}
	p = bb.get(path)
	orgWant(t, "answer card with the remove button", p.Body, rm)
	if p := bb.post(rm, url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", p.Status, p.Body)
	}
	p = bb.get(path)
	orgWant(t, "answer card after the removal", p.Body, "Đã gỡ tệp minh chứng", "Chưa có tệp minh chứng.")
}

// --- the matrix ---

// wmAdvFollow decides who follows the target's answer to the national
// coordinator's advisory: readers of it on the publisher's side or whose
// scope holds the target.
func wmAdvFollow(c *wmCase) error {
	if err := wmAdvRead(c); err != nil {
		return err
	}
	if c.a.actor.Scope.Contains(wmAdvIssuer(c)) || c.a.actor.Scope.Contains(c.t.org.ID) || c.a.actor.OrgID == c.t.org.ID {
		return nil
	}
	return errs.NotFound("matrix: recipient")
}

// advRecipient is the target's recipient id on the advisory.
func (c *wmCase) advRecipient(t *testing.T, v intel.Advisory) int64 {
	t.Helper()
	rs, err := c.m.e.App.Intel.Recipients(c.m.ctx, c.m.e.Sys, v.ID, intel.RecipientFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("matrix recipients: %v %v", rs, err)
	}
	return rs[0].ID
}

// advEvidenceFile attaches a file to the target's answer and returns its
// path.
func (c *wmCase) advEvidenceFile(t *testing.T) string {
	t.Helper()
	v := c.advisory(t)
	r := c.advRecipient(t, v)
	x, err := c.m.e.App.Intel.AttachAnswerEvidence(c.m.ctx, c.intelActor(), v.ID, r,
		intel.AnswerEvidenceInput{Name: "ket-qua.txt", Body: strings.NewReader("Đã vá")})
	if err != nil {
		t.Fatalf("matrix evidence: %v", err)
	}
	return advPath(v, fmt.Sprintf("/recipients/%d/evidence/%d", r, x.ID))
}

var wmAdvEvidenceRoutes = map[string]wmRoute{
	"POST /advisories/{id}/recipients/{rid}/evidence": {
		req: func(t *testing.T, c *wmCase) wmReq {
			v := c.advisory(t)
			return wmReq{method: http.MethodPost, path: advPath(v, fmt.Sprintf("/recipients/%d/evidence", c.advRecipient(t, v))),
				form: url.Values{}, file: []byte("mã,trạng thái\n1,đã vá\n")}
		},
		decide: wmAdvRespond,
	},
	"GET /advisories/{id}/recipients/{rid}/evidence/{fid}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: c.advEvidenceFile(t)}
		},
		decide: wmAdvFollow,
		ctype:  "application/octet-stream",
	},
	"POST /advisories/{id}/recipients/{rid}/evidence/{fid}/remove": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.advEvidenceFile(t) + "/remove", form: url.Values{}}
		},
		decide: wmAdvRespond,
	},
}
