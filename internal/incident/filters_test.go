package incident

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func filterNames(fs []SavedFilter) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

func TestSavedFilters(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		an := f.actor(f.hnm, policy.RoleAnalyst)
		colleague := f.actor(f.hnm, policy.RoleViewer)
		admin := f.actor(f.hnm, policy.RoleAdmin)
		unit := f.actor(f.hn, policy.RoleAdmin) // the organisation above
		other := f.actor(f.dnm, policy.RoleAdmin)

		// Save: the query is checked and written in a fixed form.
		mine, err := f.s.SaveFilter(ctx, an, "  Mã độc quá hạn ", "?type=malware&overdue=1&page=3&q=c%E1%BB%95ng", false)
		if err != nil {
			t.Fatal(err)
		}
		if mine.Name != "Mã độc quá hạn" || mine.Query != "overdue=1&q=c%E1%BB%95ng&type=malware" || !mine.Mine || mine.Shared {
			t.Fatalf("saved %+v", mine)
		}
		// Applying it is reading the list with its query: the parser
		// gives the list's filter back.
		vals, _ := url.ParseQuery(mine.Query)
		lf, err := ParseQuery(vals)
		if err != nil || lf.Type != TypeMalware || !lf.Overdue || lf.Q != "cổng" {
			t.Fatalf("apply %+v: %v", lf, err)
		}
		shared, err := f.s.SaveFilter(ctx, an, "Nghiêm trọng", "class=serious&from=2026-01-01&to=2026-06-30", true)
		if err != nil {
			t.Fatal(err)
		}

		// The owner sees both; a colleague the shared one; the unit above,
		// another organisation: none.
		for _, c := range []struct {
			who  string
			a    policy.Actor
			want string
		}{{"owner", an, "Mã độc quá hạn,Nghiêm trọng"}, {"colleague", colleague, "Nghiêm trọng"},
			{"unit above", unit, ""}, {"other org", other, ""}} {
			got, err := f.s.Filters(ctx, c.a)
			if err != nil {
				t.Fatal(err)
			}
			if filterNames(got) != c.want {
				t.Errorf("%s sees %q, want %q", c.who, filterNames(got), c.want)
			}
		}
		got, _ := f.s.Filters(ctx, colleague)
		if len(got) == 1 && got[0].Mine {
			t.Error("a colleague's view marks the shared filter as theirs")
		}

		// Unique per user; another user may use the same name.
		if _, err := f.s.SaveFilter(ctx, an, "Nghiêm trọng", "", false); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("same name twice: %v", err)
		} else if e, _ := errs.As(err); e.Fields["name"].Key != "incfilter.err.name_taken" {
			t.Errorf("same name twice says %+v", e.Fields)
		}
		if _, err := f.s.SaveFilter(ctx, colleague, "Nghiêm trọng", "status=received", false); err != nil {
			t.Errorf("another user, same name: %v", err)
		}

		// Bad input is refused and nothing is saved.
		for name, c := range map[string][2]string{
			"empty name":     {"", "type=ddos"},
			"long name":      {strings.Repeat("đ", 81), "type=ddos"},
			"control name":   {"a\tb", "type=ddos"},
			"unknown type":   {"x1", "type=worm"},
			"unknown status": {"x2", "status=open"},
			"bad date":       {"x3", "from=2026-13-01"},
			"bad rsit":       {"x4", "rsit=nothing"},
			"bad overdue":    {"x5", "overdue=yes"},
			"unknown param":  {"x6", "type=ddos&drop=table"},
			"bad escape":     {"x7", "q=%zz"},
			"too long":       {"x8", "q=" + strings.Repeat("a", 2001)},
		} {
			if _, err := f.s.SaveFilter(ctx, an, c[0], c[1], false); !errs.Is(err, errs.KindInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if got, _ := f.s.Filters(ctx, an); len(got) != 2 {
			t.Errorf("refused filters were saved: %s", filterNames(got))
		}
		// A read-only token may not save.
		ro := an
		ro.TokenScopes = []string{"read"}
		if _, err := f.s.SaveFilter(ctx, ro, "Chỉ đọc", "", false); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("read-only token saves: %v", err)
		}

		// Rename: one's own only, the name still unique.
		if r, err := f.s.RenameFilter(ctx, an, mine.ID, "Mã độc"); err != nil || r.Name != "Mã độc" {
			t.Errorf("rename: %+v %v", r, err)
		}
		if _, err := f.s.RenameFilter(ctx, an, mine.ID, "Nghiêm trọng"); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("rename onto a taken name: %v", err)
		}
		if _, err := f.s.RenameFilter(ctx, colleague, shared.ID, "Của tôi"); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("a colleague renames a shared filter: %v", err)
		}
		if _, err := f.s.RenameFilter(ctx, colleague, mine.ID, "Của tôi"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("a colleague renames a private filter: %v", err)
		}

		// Delete: not another's private one (even an administrator), not a
		// shared one as a colleague; the organisation's administrator may
		// delete a shared one, the owner their own.
		if err := f.s.DeleteFilter(ctx, admin, mine.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("admin deletes a private filter: %v", err)
		}
		if err := f.s.DeleteFilter(ctx, colleague, shared.ID); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("colleague deletes a shared filter: %v", err)
		}
		if err := f.s.DeleteFilter(ctx, other, shared.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("another organisation's admin deletes a shared filter: %v", err)
		}
		if err := f.s.DeleteFilter(ctx, unit, shared.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("the unit above deletes a shared filter: %v", err)
		}
		if err := f.s.DeleteFilter(ctx, admin, shared.ID); err != nil {
			t.Errorf("admin deletes a shared filter: %v", err)
		}
		if err := f.s.DeleteFilter(ctx, an, mine.ID); err != nil {
			t.Errorf("owner deletes: %v", err)
		}
		if err := f.s.DeleteFilter(ctx, an, mine.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("deleted twice: %v", err)
		}
		if got, _ := f.s.Filters(ctx, an); len(got) != 0 {
			t.Errorf("left after deletes: %s", filterNames(got))
		}
		f.verifyAudit()
	})
}

func TestParseQuery(t *testing.T) {
	f, err := ParseQuery(url.Values{"status": {"received"}, "severity": {"high"}, "rsit": {"fraud"},
		"province": {"HN"}, "dfrom": {"2026-01-01"}, "dto": {"2026-01-31"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != StatusReceived || f.Severity != SeverityHigh || f.RSITClass != "fraud" || f.ProvinceCode != "HN" {
		t.Errorf("parsed %+v", f)
	}
	// The last day is included: the bound is the next midnight in Vietnam.
	if want := time.Date(2026, 2, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600)); !f.DetectedTo.Equal(want) {
		t.Errorf("dto %v, want %v", f.DetectedTo, want)
	}
	_, err = ParseQuery(url.Values{"status": {"x"}, "from": {"tomorrow"}, "class": {"grave"}})
	e, ok := errs.As(err)
	if !ok || !e.Has("status") || !e.Has("from") || !e.Has("class") {
		t.Errorf("bad values: %v", err)
	}
}
