package incident

import (
	"slices"
	"testing"
	"time"

	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func refsOf(list []Incident) []string {
	var out []string
	for _, i := range list {
		out = append(out, i.Ref)
	}
	return out
}

// TestFullTextSearch: the FTS index (FTS5 on SQLite, a 'simple' tsvector on
// PostgreSQL) finds words without diacritics, word prefixes, a reference,
// an address and the organisations' names; every word must match.
func TestFullTextSearch(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hn := f.actor(f.hnm, policy.RoleReporter)
		dn := f.actor(f.dnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleAnalyst)
		a := f.mustCreate(hn, func(in *Input) { in.Title = "Mã độc tống tiền tại Sở Y tế" })
		f.clock.Advance(time.Minute)
		b := f.mustCreate(dn, func(in *Input) {
			in.Title = "Lừa đảo trực tuyến"
			in.Description = "Máy chủ 198.51.100.77 phát tán thư giả mạo."
			in.System = System{Name: "Thư điện tử"}
		})
		cases := []struct {
			q    string
			want []string
		}{
			{"ha noi", []string{a.Ref}},           // the affected organisation's name
			{"HÀ NỘI", []string{a.Ref}},           // diacritics and case
			{"da nang", []string{b.Ref}},          // đ folds to d
			{"tong tie", []string{a.Ref}},         // prefixes
			{b.Ref, []string{b.Ref}},              // the reference, exactly
			{"sc-2026", []string{b.Ref, a.Ref}},   // a reference prefix
			{"198.51.100.77", []string{b.Ref}},    // an address in the text
			{"203.0.113.10", []string{a.Ref}},     // a public address of the system
			{"www.hn-member.vn", []string{a.Ref}}, // a domain
			{"lua dao ha noi", nil},               // every word must match
			{"\"*(", nil},                         // FTS syntax is not passed through
			{"gia mao", []string{b.Ref}},          // description
			{"  ", []string{b.Ref, a.Ref}},        // blank searches nothing
		}
		for _, tc := range cases {
			list, total, err := f.s.List(ctx, nc, Filter{Q: tc.q})
			if err != nil {
				t.Fatalf("%q: %v", tc.q, err)
			}
			if got := refsOf(list); !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("%q: got %v (%d), want %v", tc.q, got, total, tc.want)
			}
		}
		// Visibility still applies to search: the Đà Nẵng member does not
		// find the Hà Nội incident.
		if list, _, err := f.s.List(ctx, dn, Filter{Q: "tong tien"}); err != nil || len(list) != 0 {
			t.Errorf("dn sees %v (%v)", refsOf(list), err)
		}
	})
}

// TestListFiltersMore covers the filters added for finding at scale.
func TestListFiltersMore(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := ctx
		bank := f.create(org.Input{Code: "BANK", Name: "Ngân hàng", ParentID: f.national.ID, Sector: org.SectorFinance,
			Roles: []org.Role{org.RoleSystemOwner}, Active: true})
		hn := f.actor(f.hnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleCoordinator, policy.RoleAnalyst)
		a := f.mustCreate(hn, func(in *Input) { in.Type = TypeDDoS; in.DetectedAt = t0.Add(-48 * time.Hour) })
		f.clock.Advance(time.Hour)
		b := f.mustCreate(nc, func(in *Input) {
			in.Type = TypePhishing
			in.AffectedOrgID = bank.ID
			in.ReporterOrgID = f.national.ID
		})
		cases := []struct {
			name string
			f    Filter
			want []string
		}{
			{"rsit class", Filter{RSITClass: "availability"}, []string{a.Ref}},
			{"rsit fraud", Filter{RSITClass: "fraud"}, []string{b.Ref}},
			{"affected", Filter{AffectedOrgID: bank.ID}, []string{b.Ref}},
			{"reporter", Filter{ReporterOrgID: f.hnm.ID}, []string{a.Ref}},
			{"reporter national", Filter{ReporterOrgID: f.national.ID}, []string{b.Ref}},
			{"sector", Filter{Sector: string(org.SectorFinance)}, []string{b.Ref}},
			{"detected from", Filter{DetectedFrom: t0.Add(-24 * time.Hour)}, []string{b.Ref}},
			{"detected to", Filter{DetectedTo: t0.Add(-24 * time.Hour)}, []string{a.Ref}},
			{"combined", Filter{Sector: string(org.SectorFinance), Q: "ngan hang"}, []string{b.Ref}},
		}
		for _, tc := range cases {
			list, total, err := f.s.List(ctx, nc, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := refsOf(list); !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("%s: got %v (%d), want %v", tc.name, got, total, tc.want)
			}
		}
		if _, _, err := f.s.List(ctx, nc, Filter{RSITClass: "nope"}); err == nil {
			t.Error("unknown RSIT class accepted")
		}
	})
}
