package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(advEvidenceMatrixRoutes) }

func TestAdvisoryEvidenceAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	member := e.Org("HNM", "Thành viên", hn.ID, org.RoleSystemOwner)
	other := e.Org("DNM", "Thành viên Đà Nẵng", nat.ID, org.RoleSystemOwner)
	natc := e.Token(e.User(nat.ID, "natc", policy.RoleCoordinator))
	rep := e.Token(e.User(member.ID, "rep", policy.RoleReporter))
	dna := e.Token(e.User(other.ID, "dna", policy.RoleAnalyst))
	v, err := e.App.Intel.CreateAdvisory(context.Background(), e.Sys, intel.AdvisoryInput{OwnerOrgID: nat.ID, Title: "Lỗ hổng VPN", Summary: "Khai thác từ xa",
		Actions: "Vá", TLP: policy.TLPAmber, DeadlineAt: e.Clock.Now().Add(72 * time.Hour), Targeting: intel.Targeting{Orgs: []int64{member.ID, other.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Intel.Publish(context.Background(), e.Sys, v.ID); err != nil {
		t.Fatal(err)
	}
	rs, err := e.App.Intel.Recipients(context.Background(), e.Sys, v.ID, intel.RecipientFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rid := map[int64]int64{}
	for _, r := range rs {
		rid[r.OrgID] = r.ID
	}
	base := fmt.Sprintf("/api/v1/advisories/%d/recipients/%d/evidence", v.ID, rid[member.ID])
	// Refused: a type not accepted, too big, another organisation's answer.
	if r := call(t, e, "POST", base+"?name=va.exe", rep, "MZ", nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"file"`) {
		t.Fatalf("exe: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", base+"?name=big.txt", rep, strings.Repeat("a", intel.MaxAnswerEvidence+1), nil); r.Status != http.StatusBadRequest &&
		r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("too big: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", base+"?name=a.txt", dna, "Đã vá", nil); r.Status != http.StatusForbidden {
		t.Fatalf("another organisation: %d %s", r.Status, r.Body)
	}
	r := call(t, e, "POST", base+"?name=ket-qua.txt&note=Qu%C3%A9t+l%E1%BA%A1i", rep, "Đã vá, quét lại sạch", nil)
	var x intel.AnswerEvidence
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &x) != nil || x.Note != "Quét lại" || x.MediaType != "text/plain" {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	dl := fmt.Sprintf("%s/%d", base, x.ID)
	if r := call(t, e, "GET", dl, natc, "", nil); r.Status != http.StatusOK || string(r.Body) != "Đã vá, quét lại sạch" {
		t.Fatalf("publisher download: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", base, natc, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "ket-qua.txt") {
		t.Fatalf("publisher list: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{dl, base} {
		if r := call(t, e, "GET", p, dna, "", nil); r.Status != http.StatusNotFound {
			t.Fatalf("another organisation reads %s: %d", p, r.Status)
		}
	}
	// Taken off by the recipient's organisation, not by the publisher.
	if r := call(t, e, "DELETE", dl, natc, "", nil); r.Status != http.StatusForbidden {
		t.Fatalf("publisher removes: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "DELETE", dl, rep, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", dl, rep, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("removed file downloads: %d", r.Status)
	}
}

// --- the matrix ---

// decideAdvFollow: readers of the advisory on the publisher's side or
// whose scope holds the target follow the target's answer.
func decideAdvFollow(c *mCase) error {
	if err := decideAdvRead(c); err != nil {
		return err
	}
	if c.a.actor.Scope.Contains(c.matrixIssuer()) || c.a.actor.Scope.Contains(c.t.org.ID) || c.a.actor.OrgID == c.t.org.ID {
		return nil
	}
	return errs.NotFound("matrix: recipient")
}

func (c *mCase) advEvidencePath(t *testing.T, withFile bool) string {
	t.Helper()
	v := c.advisory(t)
	rs, err := c.m.e.App.Intel.Recipients(c.m.ctx, c.m.e.Sys, v.ID, intel.RecipientFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("matrix recipients: %v %v", rs, err)
	}
	p := fmt.Sprintf("/api/v1/advisories/%d/recipients/%d/evidence", v.ID, rs[0].ID)
	if withFile {
		sys := c.m.e.Sys
		sys.OrgID = c.t.org.ID
		x, err := c.m.e.App.Intel.AttachAnswerEvidence(c.m.ctx, sys, v.ID, rs[0].ID, intel.AnswerEvidenceInput{Name: "a.txt", Body: strings.NewReader("Đã vá")})
		if err != nil {
			t.Fatalf("matrix evidence: %v", err)
		}
		p += fmt.Sprintf("/%d", x.ID)
	}
	return p
}

var advEvidenceMatrixRoutes = map[string]mRoute{
	"GET /api/v1/advisories/{id}/recipients/{rid}/evidence": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.advEvidencePath(t, false), "" },
		decide: decideAdvFollow,
	},
	"POST /api/v1/advisories/{id}/recipients/{rid}/evidence": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.advEvidencePath(t, false) + "?name=ket-qua.txt", "Đã vá"
		},
		decide: decideAdvRespond,
	},
	"GET /api/v1/advisories/{id}/recipients/{rid}/evidence/{fid}": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.advEvidencePath(t, true), "" },
		decide: decideAdvFollow,
	},
	"DELETE /api/v1/advisories/{id}/recipients/{rid}/evidence/{fid}": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.advEvidencePath(t, true), "" },
		decide: decideAdvRespond,
	},
}
