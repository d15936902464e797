package readiness

import (
	"context"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestEditAndDeletePeopleAndCertificates(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.hn, policy.RoleAdmin)
		viewer := f.actor(f.hn, policy.RoleViewer)
		dnAdmin := f.actor(f.dn, policy.RoleAdmin)
		tm := f.team(admin, f.hn.ID, "Đội ứng cứu sự cố Hà Nội")
		p := f.person(admin, f.hn.ID, "Nguyễn Văn An")

		// Edit: bad input names its fields and changes nothing.
		_, err := f.s.UpdatePerson(ctx, admin, p.ID, PersonInput{FullName: " ", Email: "an@", IOCRole: "boss"})
		fieldErr(t, err, "full_name")
		fieldErr(t, err, "email")
		fieldErr(t, err, "ioc_role")
		if got, _ := f.s.Person(ctx, admin, p.ID); got.FullName != "Nguyễn Văn An" {
			t.Fatalf("person after bad edit: %+v", got)
		}
		if _, err := f.s.UpdatePerson(ctx, viewer, p.ID, PersonInput{FullName: "X"}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer edits: %v", err)
		}
		if _, err := f.s.UpdatePerson(ctx, dnAdmin, p.ID, PersonInput{FullName: "X"}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province edits: %v", err)
		}
		f.clock.Advance(time.Minute)
		up, err := f.s.UpdatePerson(ctx, admin, p.ID, PersonInput{OrgID: f.dn.ID, FullName: "Nguyễn Văn An", Title: "Trưởng nhóm",
			Email: "an@hn.gov.vn", IOCRole: IOCSecurity})
		if err != nil || up.OrgID != f.hn.ID || up.Title != "Trưởng nhóm" || up.IOCRole != IOCSecurity || !up.UpdatedAt.After(up.CreatedAt) {
			t.Fatalf("edit: %+v %v", up, err)
		}

		// Certificates: corrected, refused when wrong, deleted.
		c, err := f.s.AddCertificate(ctx, admin, p.ID, CertificateInput{Name: "CEH", ObtainedOn: t0.AddDate(-1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.s.UpdateCertificate(ctx, admin, p.ID, c.ID, CertificateInput{Name: "", ObtainedOn: t0, ExpiresOn: t0.AddDate(-1, 0, 0)})
		fieldErr(t, err, "name")
		fieldErr(t, err, "expires_on")
		other := f.person(admin, f.hn.ID, "Trần Thị Bình")
		if _, err := f.s.UpdateCertificate(ctx, admin, other.ID, c.ID, CertificateInput{Name: "X", ObtainedOn: t0}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("certificate through another person: %v", err)
		}
		c2, err := f.s.UpdateCertificate(ctx, admin, p.ID, c.ID, CertificateInput{Name: "CEH v12", Issuer: "EC-Council",
			ObtainedOn: t0.AddDate(-1, 0, 0), ExpiresOn: t0.AddDate(2, 0, 0)})
		if err != nil || c2.Name != "CEH v12" || !c2.ExpiresOn.Equal(day(t0.AddDate(2, 0, 0))) {
			t.Fatalf("certificate edit: %+v %v", c2, err)
		}
		if got, _ := f.s.Person(ctx, admin, p.ID); len(got.Certificates) != 1 || got.Certificates[0].Issuer != "EC-Council" {
			t.Fatalf("person's certificates: %+v", got.Certificates)
		}
		if err := f.s.DeleteCertificate(ctx, viewer, p.ID, c.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer deletes a certificate: %v", err)
		}
		if err := f.s.DeleteCertificate(ctx, admin, p.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteCertificate(ctx, admin, p.ID, c.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("delete twice: %v", err)
		}

		// Deleting a person takes them off the team and the rota.
		if _, err := f.s.AddMember(ctx, admin, tm.ID, p.ID, RoleLead); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: p.ID, StartsAt: t0, EndsAt: t0.Add(8 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddTraining(ctx, admin, p.ID, TrainingInput{Course: "Ứng cứu cơ bản", Level: LevelBasic, FinishedOn: t0}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeletePerson(ctx, viewer, p.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer deletes: %v", err)
		}
		if err := f.s.DeletePerson(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Person(ctx, admin, p.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("deleted person: %v", err)
		}
		for _, q := range []string{"SELECT COUNT(*) FROM readiness_members", "SELECT COUNT(*) FROM readiness_shifts",
			"SELECT COUNT(*) FROM readiness_trainings"} {
			if n := count(t, db, q); n != 0 {
				t.Fatalf("%s: %d", q, n)
			}
		}

		// A hospital person on the province's team (agreement): the hospital
		// cannot delete them until the province takes them off.
		if _, err := f.s.AddAgreement(ctx, admin, AgreementInput{OrgID: f.hn.ID, PartnerOrgID: f.hnm.ID, DocRef: "07/2026/TTHT",
			SignedOn: t0.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		hospital := f.actor(f.hnm, policy.RoleAdmin)
		hp := f.person(hospital, f.hnm.ID, "Đỗ Minh Châu")
		if _, err := f.s.AddMember(ctx, admin, tm.ID, hp.ID, RoleExpert); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeletePerson(ctx, hospital, hp.ID); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("hospital deletes a person on the province's team: %v", err)
		}
		if err := f.s.RemoveMember(ctx, admin, tm.ID, hp.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeletePerson(ctx, hospital, hp.ID); err != nil {
			t.Fatal(err)
		}
		f.verifyAudit()
	})
}

func TestShiftsList(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.hn, policy.RoleAdmin)
		tm := f.team(admin, f.hn.ID, "Đội")
		p := f.person(admin, f.hn.ID, "Nguyễn Văn An")
		if _, err := f.s.AddMember(ctx, admin, tm.ID, p.ID, RoleLead); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			s := t0.AddDate(0, 0, i)
			if _, err := f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: p.ID, StartsAt: s, EndsAt: s.Add(12 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		xs, err := f.s.Shifts(ctx, admin, tm.ID, t0.Add(13*time.Hour), t0.AddDate(0, 0, 7))
		if err != nil || len(xs) != 2 || !xs[0].StartsAt.Equal(t0.AddDate(0, 0, 1)) || xs[0].Name != p.FullName {
			t.Fatalf("shifts: %+v %v", xs, err)
		}
		_, err = f.s.Shifts(ctx, admin, tm.ID, t0, t0.AddDate(1, 0, 0))
		fieldErr(t, err, "to")
		_, err = f.s.Shifts(ctx, admin, tm.ID, t0, t0)
		fieldErr(t, err, "to")
		if _, err := f.s.Shifts(ctx, f.actor(f.dn, policy.RoleAdmin), tm.ID, t0, t0.AddDate(0, 0, 7)); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province lists shifts: %v", err)
		}
	})
}
