package infosys

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

func TestAttachments(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HIS", DataKind: DataPublic})
		if err != nil {
			t.Fatal(err)
		}
		pdf := []byte("%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		x, err := f.s.Attach(ctx, owner, sys.ID, AttachmentInput{Kind: AttachDesign, Name: "Thiết kế hệ thống.pdf", Note: "bản 2", Body: bytes.NewReader(pdf)})
		if err != nil {
			t.Fatal(err)
		}
		if x.Size != int64(len(pdf)) || x.MediaType != "application/pdf" || len(x.SHA256) != 64 {
			t.Fatalf("attachment %+v", x)
		}
		// Refused: a type not accepted, content that is not what the name
		// says, an empty file, a path for a name, a bad kind, too large, a
		// dossier of another system; nothing kept.
		for _, c := range []struct {
			in    AttachmentInput
			field string
		}{
			{AttachmentInput{Name: "run.exe", Body: bytes.NewReader([]byte("MZ"))}, "file"},
			{AttachmentInput{Name: "report.pdf", Body: strings.NewReader("<html>")}, "file"},
			{AttachmentInput{Name: "empty.txt", Body: strings.NewReader("")}, "file"},
			{AttachmentInput{Name: "../etc/passwd.txt", Body: strings.NewReader("x")}, "name"},
			{AttachmentInput{Name: "a.txt", Kind: "secret", Body: strings.NewReader("x")}, "kind"},
			{AttachmentInput{Name: "big.txt", Body: bytes.NewReader(bytes.Repeat([]byte("a"), MaxAttachment+1))}, "file"},
			{AttachmentInput{Name: "a.txt", DossierID: 999, Body: strings.NewReader("x")}, "dossier_id"},
		} {
			_, err := f.s.Attach(ctx, owner, sys.ID, c.in)
			wantField(t, err, c.field)
		}
		// Others: an analyst may not attach; another province does not see it.
		_, err = f.s.Attach(ctx, f.actor(f.hosp, policy.RoleAnalyst), sys.ID, AttachmentInput{Name: "a.txt", Body: strings.NewReader("x")})
		wantKind(t, err, errs.KindForbidden)
		_, _, err = f.s.OpenAttachment(ctx, f.actor(f.dn, policy.RoleAdmin), x.ID)
		wantKind(t, err, errs.KindNotFound)
		list, err := f.s.Attachments(ctx, f.actor(f.hn, policy.RoleViewer), sys.ID, 0)
		if err != nil || len(list) != 1 || list[0].Name != "Thiết kế hệ thống.pdf" || list[0].Note != "bản 2" {
			t.Fatalf("list %+v %v", list, err)
		}
		// The province's viewer downloads it: the same bytes, audited.
		got, data, err := f.s.OpenAttachment(ctx, f.actor(f.hn, policy.RoleViewer), x.ID)
		if err != nil || !bytes.Equal(data, pdf) || got.SHA256 != x.SHA256 {
			t.Fatalf("download %v %v", got, err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'infosys.attachment.download'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("download audited %d times: %v", n, err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_attachments").Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d attachments: %v", n, err)
		}
	})
}
