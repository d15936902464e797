package org

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestContactsAndHistory(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.hn, policy.RoleCoordinator)
		coord.UserID = 77
		if f.hn.ContactsUpdatedAt != (time.Time{}) {
			t.Fatalf("no contacts yet, got %v", f.hn.ContactsUpdatedAt)
		}
		f.clock.Advance(time.Hour)
		backup, err := f.s.SaveContact(ctx, coord, f.hn.ID, ContactInput{Kind: " Backup ", Name: "Trần Thị B",
			Email: "B@HANOI.gov.vn", Phone247: "+84 912 345 678"})
		if err != nil {
			t.Fatal(err)
		}
		primary, err := f.s.SaveContact(ctx, coord, f.hn.ID, ContactInput{Kind: "primary", Name: "Nguyễn Văn A",
			Title: "Trưởng phòng", Phone: "024 3640 4424",
			PGPKey: "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567"})
		if err != nil {
			t.Fatal(err)
		}
		if backup.Email != "b@hanoi.gov.vn" || backup.Kind != "backup" || !backup.CreatedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("saved: %+v", backup)
		}
		f.clock.Advance(time.Hour)
		primary.Title = "Phó Giám đốc"
		in := ContactInput{ID: primary.ID, Kind: primary.Kind, Name: primary.Name, Title: "Phó Giám đốc",
			Phone: primary.Phone, PGPKey: primary.PGPKey}
		upd, err := f.s.SaveContact(ctx, coord, f.hn.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if !upd.CreatedAt.Equal(primary.CreatedAt) || !upd.UpdatedAt.Equal(t0.Add(2*time.Hour)) || upd.ID != primary.ID {
			t.Errorf("updated: %+v", upd)
		}
		list, err := f.s.Contacts(ctx, f.actor(f.bank, policy.RoleViewer), f.hn.ID)
		if err != nil || len(list) != 2 || list[0].Kind != "primary" || list[0].Title != "Phó Giám đốc" {
			t.Fatalf("contacts: %+v %v", list, err)
		}
		f.clock.Advance(time.Hour)
		if err := f.s.DeleteContact(ctx, coord, f.hn.ID, backup.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteContact(ctx, coord, f.hn.ID, backup.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		o, _ := f.s.Get(ctx, f.sys, f.hn.ID)
		if !o.ContactsUpdatedAt.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("contacts updated at %v", o.ContactsUpdatedAt)
		}
		hist, err := f.s.ContactHistory(ctx, coord, f.hn.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hist {
			s := h.Change
			if h.Before != nil {
				s += " before:" + h.Before.Name + "/" + h.Before.Title
			}
			if h.After != nil {
				s += " after:" + h.After.Name + "/" + h.After.Title
			}
			got = append(got, fmt.Sprintf("%s@%v by %d", s, h.ChangedAt.Sub(t0), h.ChangedBy))
		}
		want := []string{
			"delete before:Trần Thị B/@3h0m0s by 77",
			"update before:Nguyễn Văn A/Trưởng phòng after:Nguyễn Văn A/Phó Giám đốc@2h0m0s by 77",
			"create after:Nguyễn Văn A/Trưởng phòng@1h0m0s by 77",
			"create after:Trần Thị B/@1h0m0s by 77",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The auditor of the organisation reads the history; another member does not.
		if _, err := f.s.ContactHistory(ctx, f.actor(f.hn, policy.RoleAuditor), f.hn.ID); err != nil {
			t.Errorf("auditor: %v", err)
		}
		if _, err := f.s.ContactHistory(ctx, f.actor(f.bank, policy.RoleAdmin), f.hn.ID); err == nil {
			t.Error("another org's admin read the history")
		}

		bad := []struct {
			in         ContactInput
			field, key string
		}{
			{ContactInput{Kind: "boss", Name: "X", Email: "x@y.vn"}, "kind", "field.invalid_choice"},
			{ContactInput{Kind: "primary", Email: "x@y.vn"}, "name", "field.required"},
			{ContactInput{Kind: "primary", Name: "X"}, "email", "org.err.contact_unreachable"},
			{ContactInput{Kind: "primary", Name: "X", Email: "x@"}, "email", "field.invalid_email"},
			{ContactInput{Kind: "primary", Name: "X", Phone: "12ab"}, "phone", "org.err.phone_format"},
			{ContactInput{Kind: "primary", Name: "X", Email: "x@y.vn", PGPKey: "my key"}, "pgp_key", "org.err.pgp_key_format"},
		}
		for _, b := range bad {
			_, err := f.s.SaveContact(ctx, coord, f.hn.ID, b.in)
			wantKind(t, err, errs.KindInvalid, b.field, b.key)
		}
		_, err = f.s.SaveContact(ctx, coord, f.hn.ID, ContactInput{ID: 999, Kind: "primary", Name: "X", Email: "x@y.vn"})
		wantKind(t, err, errs.KindNotFound, "", "")
		// A contact of another organisation cannot be changed through this one.
		ispContact, err := f.s.SaveContact(ctx, f.sys, f.isp.ID, ContactInput{Kind: "primary", Name: "ISP", Email: "noc@isp.vn"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.s.SaveContact(ctx, coord, f.hn.ID, ContactInput{ID: ispContact.ID, Kind: "primary", Name: "X", Email: "x@y.vn"})
		wantKind(t, err, errs.KindNotFound, "", "")
		f.verifyAudit()
	})
}

// Readers of the whois index never see a half-built index while writers
// add ranges (run with -race).
func TestWhoisConcurrent(t *testing.T) {
	db := testkit.NewSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.s.Whois(ctx, f.sys, "100.64.1.1"); err != nil && !errs.Is(err, errs.KindNotFound) {
					t.Error(err)
					return
				}
				if _, err := f.s.ScopeOf(ctx, f.hn.ID); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if _, err := f.s.AddRange(ctx, f.sys, f.isp.ID, fmt.Sprintf("100.64.%d.0/24", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	res, err := f.s.Whois(ctx, f.sys, "100.64.19.1")
	if err != nil || res.Org.ID != f.isp.ID {
		t.Fatalf("after: %+v %v", res, err)
	}
}
