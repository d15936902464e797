package incident

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func publicInput(client string) PublicInput {
	return PublicInput{Name: "Phạm Thị D", Email: "d@example.com", Phone: "0912 345 678",
		Description: "Trang web hn-member.vn hiện nội dung cờ bạc.\nXin kiểm tra.",
		Addresses:   "http://www.hn-member.vn/index.php, 203.0.113.10", TypeGuess: TypeDefacement,
		HappenedAt: t0.Add(-time.Hour), ClientAddress: client}
}

func TestPublicReports(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		p := NewPublicReports(f.s)
		p.PerAddress, p.Global = 3, 5

		// Bad input: nothing stored, nothing counted.
		bad := publicInput("198.51.100.1")
		bad.Email, bad.Addresses, bad.Description = "not-an-email", "../etc/passwd", ""
		_, err := p.Submit(ctx, bad)
		if e, ok := errs.As(err); !ok || !e.Has("email") || !e.Has("addresses") || !e.Has("description") {
			t.Fatalf("bad input: %v", err)
		}
		// Honeypot: answered, not stored.
		hp := publicInput("198.51.100.1")
		hp.Honeypot = "http://spam"
		if ref, err := p.Submit(ctx, hp); err != nil || ref != "" {
			t.Fatalf("honeypot: %q %v", ref, err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM public_reports"); n != 0 {
			t.Fatalf("%d stored", n)
		}

		ref, err := p.Submit(ctx, publicInput("198.51.100.1"))
		if err != nil || ref != "PR-2026-000001" {
			t.Fatalf("submit: %q %v", ref, err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = 'public_report.received'"); n != 1 {
			t.Fatalf("%d notifications", n)
		}
		// Per address: 3 an hour.
		for i := 0; i < 2; i++ {
			if _, err := p.Submit(ctx, publicInput("198.51.100.1")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Submit(ctx, publicInput("198.51.100.1:4444")); !errs.Is(err, errs.KindTooMany) {
			t.Fatalf("fourth from one address: %v", err)
		}
		// Globally: 5 an hour.
		for i := 0; i < 2; i++ {
			if _, err := p.Submit(ctx, publicInput(fmt.Sprintf("192.0.2.%d", i+1))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Submit(ctx, publicInput("192.0.2.99")); !errs.Is(err, errs.KindTooMany) {
			t.Fatalf("sixth overall: %v", err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM public_reports"); n != 5 {
			t.Fatalf("%d stored", n)
		}
		// The next hour opens again.
		f.clock.Advance(time.Hour)
		if _, err := p.Submit(ctx, publicInput("198.51.100.1")); err != nil {
			t.Fatalf("next hour: %v", err)
		}

		// Routed to HN (its constituency holds the address): HN and the
		// national coordinator see it; Đà Nẵng and the member do not.
		hn := f.actor(f.hn, policy.RoleCoordinator)
		nat := f.actor(f.national, policy.RoleCoordinator)
		r, err := p.Get(ctx, hn, ref)
		if err != nil || r.RouteOrgID != f.hn.ID || len(r.Addresses) != 2 {
			t.Fatalf("get: %+v %v", r, err)
		}
		for _, a := range []policy.Actor{f.actor(f.dn, policy.RoleCoordinator), f.actor(f.hnm, policy.RoleAdmin)} {
			if _, err := p.Get(ctx, a, ref); !errs.Is(err, errs.KindNotFound) {
				t.Fatalf("outsider get: %v", err)
			}
			if l, err := p.List(ctx, a, PublicFilter{}); err != nil || len(l) != 0 {
				t.Fatalf("outsider list: %d %v", len(l), err)
			}
		}
		if l, _ := p.List(ctx, nat, PublicFilter{Status: PublicNew}); len(l) != 6 {
			t.Fatalf("national list: %d", len(l))
		}
		if n, _ := p.Waiting(ctx, nat); n != 6 {
			t.Fatalf("national waiting: %d", n)
		}
		if n, err := p.Waiting(ctx, f.actor(f.hn, policy.RoleViewer)); err != nil || n != 0 {
			t.Fatalf("viewer waiting: %d %v", n, err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM public_report_limits"); n != 6 {
			t.Fatalf("%d counters", n)
		}
		// A viewer of HN reads nothing of it either (role).
		if _, err := p.Dismiss(ctx, f.actor(f.hn, policy.RoleViewer), ref, DismissSpam, ""); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("viewer dismiss: %v", err)
		}

		// Convert: the draft proposes the member owning the address.
		in, _, err := p.Draft(ctx, hn, ref)
		if err != nil || in.AffectedOrgID != f.hnm.ID || in.Contact.Email != "d@example.com" || in.Type != TypeDefacement {
			t.Fatalf("draft: %+v %v", in, err)
		}
		r, inc, err := p.Convert(ctx, hn, ref, in)
		if err != nil || r.Status != PublicConverted || r.IncidentRef != inc.Ref {
			t.Fatalf("convert: %+v %v", r, err)
		}
		if _, _, err := p.Convert(ctx, hn, ref, in); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("second convert: %v", err)
		}
		evs, _ := loadEvents(ctx, db, inc.ID)
		if evs[len(evs)-1].Kind != EventFromPublicReport {
			t.Fatalf("no link back: %s", evs[len(evs)-1].Kind)
		}

		// Dismiss as a duplicate of that incident.
		l, _ := p.List(ctx, nat, PublicFilter{Status: PublicNew})
		other := l[0].Ref
		if _, err := p.Dismiss(ctx, nat, other, DismissDuplicate, ""); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("duplicate without ref: %v", err)
		}
		d, err := p.Dismiss(ctx, nat, other, DismissDuplicate, inc.Ref)
		if err != nil || d.Status != PublicDismissed || d.DuplicateOf != inc.Ref {
			t.Fatalf("dismiss: %+v %v", d, err)
		}
		// Counters of past hours are dropped.
		f.clock.Advance(3 * time.Hour)
		if _, err := p.Submit(ctx, publicInput("198.51.100.1")); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM public_report_limits"); n != 2 {
			t.Fatalf("%d counters kept", n)
		}
		f.verifyAudit()
	})
}

func TestSplitAddresses(t *testing.T) {
	got, bad := splitAddresses("203.0.113.10, 2001:db8::1\nhttps://x.example.com/a?b=1 evil[.]com 198.51.100.0/24 ../x")
	if len(got) != 5 || len(bad) != 1 || bad[0] != "../x" {
		t.Fatalf("%v %v", got, bad)
	}
}

// FuzzSplitAddresses: the public form's address field never panics, and
// every address it accepts is a valid IP, range, domain or web URL that
// reads back to itself.
func FuzzSplitAddresses(f *testing.F) {
	for _, s := range []string{"203.0.113.10", "2001:db8::1, evil[.]com", "https://x.example.com/a?b=1", "../x", "198.51.100.0/24\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := splitAddresses(s)
		for _, a := range got {
			again, bad := splitAddresses(a)
			if len(bad) != 0 || len(again) != 1 || again[0] != a {
				t.Fatalf("%q: accepted %q, which reads back as %v / %v", s, a, again, bad)
			}
		}
	})
}
