package intel

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestAdvisoryAnswerEvidence(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		v := f.draft(nat, AdvisoryInput{Targeting: Targeting{Sectors: []string{"banking", "energy"}}})
		if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
			t.Fatal(err)
		}
		hnm := f.actor(f.hnm, policy.RoleReporter)
		dnb := f.actor(f.dnb, policy.RoleAnalyst)
		rs, err := f.s.Recipients(ctx, nat, v.ID, RecipientFilter{})
		if err != nil {
			t.Fatal(err)
		}
		rid := map[int64]int64{}
		for _, r := range rs {
			rid[r.OrgID] = r.ID
		}
		mine, theirs := rid[f.hnm.ID], rid[f.dnb.ID]
		if mine == 0 || theirs == 0 {
			t.Fatalf("recipients: %+v", rs)
		}
		pdf := []byte("%PDF-1.7\nbáo cáo vá lỗi\n")
		up := func(a policy.Actor, r int64, name string, body []byte) (AnswerEvidence, error) {
			return f.s.AttachAnswerEvidence(ctx, a, v.ID, r, AnswerEvidenceInput{Name: name, Note: "Kết quả quét lại", Body: bytes.NewReader(body)})
		}
		// Refused, nothing stored: a type not accepted, content not of its
		// type, too big, empty, a path as name, another organisation's
		// answer, a viewer.
		for _, c := range []struct {
			name  string
			body  []byte
			field string
		}{
			{"patch.exe", []byte("MZ"), "file"},
			{"report.pdf", []byte("not a pdf"), "file"},
			{"big.txt", bytes.Repeat([]byte("a"), MaxAnswerEvidence+1), "file"},
			{"empty.txt", nil, "file"},
			{"../x.pdf", pdf, "name"},
		} {
			if _, err := up(hnm, mine, c.name, c.body); !fieldErr(err, c.field) {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		if _, err := up(hnm, theirs, "report.pdf", pdf); err == nil || !(errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindForbidden)) {
			t.Fatalf("another organisation's answer: %v", err)
		}
		if _, err := up(f.actor(f.hnm, policy.RoleViewer), mine, "report.pdf", pdf); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer uploads: %v", err)
		}
		if n := f.count("advisory_evidence"); n != 0 {
			t.Fatalf("stored after refusals: %d", n)
		}
		x, err := up(hnm, mine, "Báo cáo vá.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if x.MediaType != "application/pdf" || x.Size != int64(len(pdf)) || len(x.SHA256) != 64 || x.UploadedName == "" {
			t.Fatalf("stored: %+v", x)
		}
		// The recipient's organisation and the publisher download; another
		// recipient organisation does not see it.
		for _, who := range []policy.Actor{hnm, nat} {
			got, data, err := f.s.OpenAnswerEvidence(ctx, who, v.ID, mine, x.ID)
			if err != nil || !bytes.Equal(data, pdf) || got.Name != "Báo cáo vá.pdf" {
				t.Fatalf("download by %s: %v %q", who.Username, err, data)
			}
		}
		if _, _, err := f.s.OpenAnswerEvidence(ctx, dnb, v.ID, mine, x.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another organisation downloads: %v", err)
		}
		if _, err := f.s.AnswerEvidenceList(ctx, dnb, v.ID, mine); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another organisation lists: %v", err)
		}
		if _, _, err := f.s.OpenAnswerEvidence(ctx, hnm, v.ID, theirs, x.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("file through another recipient: %v", err)
		}
		l, err := f.s.AnswerEvidenceList(ctx, nat, v.ID, mine)
		if err != nil || len(l) != 1 || l[0].ID != x.ID {
			t.Fatalf("list: %v %+v", err, l)
		}
		by, err := f.s.AnswerEvidenceByRecipient(ctx, nat, v.ID)
		if err != nil || len(by[mine]) != 1 {
			t.Fatalf("by recipient (publisher): %v %+v", err, by)
		}
		by, err = f.s.AnswerEvidenceByRecipient(ctx, dnb, v.ID)
		if err != nil || len(by) != 0 {
			t.Fatalf("by recipient (other): %v %+v", err, by)
		}
		var add, dl int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'advisory.evidence.add'").Scan(&add); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'advisory.evidence.download'").Scan(&dl); err != nil {
			t.Fatal(err)
		}
		if add != 1 || dl != 2 {
			t.Fatalf("audit: %d uploads, %d downloads", add, dl)
		}
		// Removing: not by the publisher, another organisation or a viewer,
		// nor a file through another recipient; by the recipient's
		// organisation, audited with the file's hash.
		y, err := up(hnm, mine, "scan.txt", []byte("0 findings\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who      policy.Actor
			rid, fid int64
		}{{nat, mine, y.ID}, {dnb, mine, y.ID}, {f.actor(f.hnm, policy.RoleViewer), mine, y.ID}, {dnb, theirs, y.ID}, {hnm, mine, 999999}} {
			if err := f.s.RemoveAnswerEvidence(ctx, c.who, v.ID, c.rid, c.fid); err == nil {
				t.Fatalf("%s removed file %d of recipient %d", c.who.Username, c.fid, c.rid)
			}
		}
		if err := f.s.RemoveAnswerEvidence(ctx, hnm, v.ID, mine, y.ID); err != nil {
			t.Fatal(err)
		}
		if l, _ := f.s.AnswerEvidenceList(ctx, hnm, v.ID, mine); len(l) != 1 || l[0].ID != x.ID {
			t.Fatalf("after removal: %+v", l)
		}
		var before string
		if err := db.QueryRow(ctx, "SELECT before_json FROM audit_log WHERE action = 'advisory.evidence.remove'").Scan(&before); err != nil || !strings.Contains(before, y.SHA256) {
			t.Fatalf("removal audit: %q %v", before, err)
		}
		// A closed advisory takes no more files, and keeps those it has.
		if _, err := f.s.CloseAdvisory(ctx, nat, v.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := up(hnm, mine, "late.txt", []byte("x")); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("upload after close: %v", err)
		}
		if err := f.s.RemoveAnswerEvidence(ctx, hnm, v.ID, mine, x.ID); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("removal after close: %v", err)
		}
		if !strings.HasPrefix(x.Evidence().Name, "Báo cáo") {
			t.Fatal(x.Evidence())
		}
		f.verifyAudit()
	})
}
