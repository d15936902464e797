package org

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestCreateAndGet(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		prof := Profile{
			SecurityLead:     Person{Name: "Nguyễn Văn A", Email: "a@hn.gov.vn", Phone: "+84 24 3640 4424"},
			Capabilities:     []string{"monitoring", "incident_handling"},
			Staff:            []StaffCount{{Field: "monitoring", Count: 4}, {Field: "forensics", Count: 1}},
			Certificates:     []CertCount{{Name: "CEH", Count: 2}},
			ExpertGroups:     []ExpertGroup{{Name: "Phân tích mã độc", Members: 3}},
			ResponseTeamSize: 5, SystemsByLevel: [5]int{3, 2, 1, 0, 0},
		}
		o, err := f.s.Create(ctx, f.sys, Input{Code: " soc-hn ", Name: "  SOC Hà Nội ", ParentID: f.hn.ID,
			ProvinceCode: "HN", Roles: []Role{RoleProvincialSOC, RoleProvincialSOC}, IntakeEmail: "SOC@HN.gov.vn",
			Website: "https://soc.hanoi.gov.vn", Profile: prof, ProfileYear: 2026, RequireMFA: true, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if o.Code != "SOC-HN" || o.Name != "SOC Hà Nội" || o.IntakeEmail != "soc@hn.gov.vn" {
			t.Errorf("not normalised: %+v", o)
		}
		if o.Region != "north" {
			t.Errorf("region not taken from the province: %q", o.Region)
		}
		if o.TLP != policy.TLPGreen || !slices.Equal(o.Roles, []Role{RoleProvincialSOC}) {
			t.Errorf("tlp %s roles %v", o.TLP, o.Roles)
		}
		if o.ParentName != f.hn.Name || o.ProvinceName != "Hà Nội" || !o.CreatedAt.Equal(t0) {
			t.Errorf("read fields: %q %q %v", o.ParentName, o.ProvinceName, o.CreatedAt)
		}
		got, err := f.s.Get(ctx, f.actor(f.bank, policy.RoleViewer), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Profile.SecurityLead.Name != "Nguyễn Văn A" || got.Profile.SystemsByLevel[1] != 2 || !got.RequireMFA {
			t.Errorf("profile not kept: %+v", got.Profile)
		}
		byCode, err := f.s.GetByCode(ctx, f.sys, "soc-hn")
		if err != nil || byCode.ID != o.ID {
			t.Fatalf("by code: %v %v", byCode.ID, err)
		}
		if _, err := f.s.Get(ctx, f.sys, 99999); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("missing org: %v", err)
		}
		if _, err := f.s.GetByCode(ctx, f.sys, "NOPE"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("missing code: %v", err)
		}
		if name, err := f.s.Name(ctx, o.ID); err != nil || name != "SOC Hà Nội" {
			t.Errorf("Name: %q %v", name, err)
		}
		if req, err := f.s.RequiresMFA(ctx, o.ID); err != nil || !req {
			t.Errorf("RequiresMFA: %v %v", req, err)
		}
		if _, err := f.s.Name(ctx, 424242); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Name of nobody: %v", err)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		base := func() Input {
			return Input{Code: "NEW", Name: "Đơn vị mới", ParentID: f.national.ID, Roles: []Role{RoleSystemOwner}, Active: true}
		}
		cases := []struct {
			name  string
			edit  func(*Input)
			kind  errs.Kind
			field string
			key   string
		}{
			{"duplicate code", func(in *Input) { in.Code = "hn" }, errs.KindConflict, "code", "org.err.code_taken"},
			{"no code", func(in *Input) { in.Code = "" }, errs.KindInvalid, "code", "field.required"},
			{"bad code", func(in *Input) { in.Code = "a b" }, errs.KindInvalid, "code", "org.err.code_format"},
			{"no name", func(in *Input) { in.Name = " " }, errs.KindInvalid, "name", "field.required"},
			{"long name", func(in *Input) { in.Name = strings.Repeat("ắ", 301) }, errs.KindInvalid, "name", "field.too_long"},
			{"control char", func(in *Input) { in.Name = "a\x00b" }, errs.KindInvalid, "name", "org.err.bad_characters"},
			{"no role", func(in *Input) { in.Roles = nil }, errs.KindInvalid, "roles", "org.err.role_required"},
			{"unknown role", func(in *Input) { in.Roles = []Role{"pirate"} }, errs.KindInvalid, "roles", "org.err.role_unknown"},
			{"sector cert without sector", func(in *Input) { in.Roles = []Role{RoleSectorCERT} }, errs.KindInvalid, "sector", "org.err.sector_required"},
			{"unknown sector", func(in *Input) { in.Sector = "space" }, errs.KindInvalid, "sector", "field.invalid_choice"},
			{"unknown region", func(in *Input) { in.Region = "west" }, errs.KindInvalid, "region", "field.invalid_choice"},
			{"unknown province", func(in *Input) { in.ProvinceCode = "XX" }, errs.KindInvalid, "province_code", "org.err.province_not_found"},
			{"unknown cluster", func(in *Input) { in.ClusterID = 77 }, errs.KindInvalid, "cluster_id", "org.err.cluster_not_found"},
			{"unknown parent", func(in *Input) { in.ParentID = 9999 }, errs.KindInvalid, "parent_id", "org.err.parent_not_found"},
			{"bad email", func(in *Input) { in.IntakeEmail = "not-an-email" }, errs.KindInvalid, "intake_email", "field.invalid_email"},
			{"bad phone", func(in *Input) { in.IntakePhone = "call me" }, errs.KindInvalid, "intake_phone", "org.err.phone_format"},
			{"bad website", func(in *Input) { in.Website = "javascript:alert(1)" }, errs.KindInvalid, "website", "org.err.website_format"},
			{"red tlp", func(in *Input) { in.TLP = policy.TLPRed }, errs.KindInvalid, "tlp", "org.err.tlp_red"},
			{"profile year", func(in *Input) { in.ProfileYear = 1990 }, errs.KindInvalid, "profile_year", "org.err.profile_year"},
			{"unknown capability", func(in *Input) { in.Profile.Capabilities = []string{"magic"} }, errs.KindInvalid, "profile.capabilities", "org.err.capability_unknown"},
			{"negative staff", func(in *Input) { in.Profile.Staff = []StaffCount{{Field: "other", Count: -1}} }, errs.KindInvalid, "profile.staff", "org.err.count_range"},
			{"lead email", func(in *Input) { in.Profile.SecurityLead.Email = "x@" }, errs.KindInvalid, "profile.security_lead.email", "field.invalid_email"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := base()
				c.edit(&in)
				_, err := f.s.Create(ctx, f.sys, in)
				wantKind(t, err, c.kind, c.field, c.key)
			})
		}
		// Nothing of the above was written.
		if _, total, _ := f.s.List(ctx, f.sys, ListFilter{}); total != 6 {
			t.Errorf("total after refused creates: %d", total)
		}
	})
}

func TestUpdateAndCycles(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.clock.Advance(time.Hour)
		in := InputOf(f.hn)
		in.Name = "Sở Khoa học và Công nghệ TP Hà Nội"
		in.Roles = append(in.Roles, RoleVoluntaryMember)
		o, err := f.s.Update(ctx, f.actor(f.hn, policy.RoleAdmin), f.hn.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != in.Name || !o.UpdatedAt.Equal(t0.Add(time.Hour)) || !o.CreatedAt.Equal(t0) || len(o.Roles) != 2 {
			t.Errorf("update: %+v", o)
		}
		// The search text follows the name.
		list, _, err := f.s.List(ctx, f.sys, ListFilter{Q: "tp ha noi"})
		if err != nil || len(list) != 1 || list[0].ID != f.hn.ID {
			t.Errorf("search after rename: %v %v", codes(list), err)
		}

		cycles := []struct {
			name   string
			id     int64
			parent int64
		}{
			{"own parent", f.hn.ID, f.hn.ID},
			{"child as parent", f.hn.ID, f.hnioc.ID},
			{"grandchild as parent", f.national.ID, f.hnioc.ID},
		}
		for _, c := range cycles {
			t.Run(c.name, func(t *testing.T) {
				cur, err := f.s.Get(ctx, f.sys, c.id)
				if err != nil {
					t.Fatal(err)
				}
				in := InputOf(cur)
				in.ParentID = c.parent
				_, err = f.s.Update(ctx, f.sys, c.id, in)
				wantKind(t, err, errs.KindInvalid, "parent_id", "org.err.parent_cycle")
			})
		}
		// A legal move: the IOC goes under the ISP.
		in = InputOf(f.hnioc)
		in.ParentID = f.isp.ID
		if _, err := f.s.Update(ctx, f.sys, f.hnioc.ID, in); err != nil {
			t.Fatal(err)
		}
		chain, err := f.s.Chain(ctx, f.sys, f.hnioc.ID)
		if err != nil || !slices.Equal(codes(chain), []string{"HNIOC", "ISP", "VNCERT"}) {
			t.Errorf("chain after move: %v %v", codes(chain), err)
		}
		// Code clash on update.
		in = InputOf(f.bank)
		in.Code = "ISP"
		_, err = f.s.Update(ctx, f.sys, f.bank.ID, in)
		wantKind(t, err, errs.KindConflict, "code", "org.err.code_taken")
		if _, err := f.s.Update(ctx, f.sys, 98765, in); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("update of nobody: %v", err)
		}
	})
}

func TestListFiltersSearchAndPaging(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		cl, err := f.s.SaveCluster(ctx, f.sys, Cluster{Code: "C1", Name: "Cụm 1", HeadOrgID: f.hn.ID, HeadYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		extra := f.create(Input{Code: "DNSOC", Name: "Trung tâm Giám sát Đà Nẵng", ParentID: f.national.ID,
			ProvinceCode: "DN", ClusterID: cl.ID, Roles: []Role{RoleProvincialSOC, RoleIOCCity}, Active: true})
		viewer := f.actor(f.cust, policy.RoleViewer)
		cases := []struct {
			name string
			f    ListFilter
			want []string
		}{
			{"all by name", ListFilter{}, []string{"BANK", "CUST", "HN", "ISP", "HNIOC", "DNSOC", "VNCERT"}},
			{"by code", ListFilter{Sort: "code"}, []string{"BANK", "CUST", "DNSOC", "HN", "HNIOC", "ISP", "VNCERT"}},
			{"diacritics ignored", ListFilter{Q: "ha noi", Sort: "code"}, []string{"HN", "HNIOC"}},
			{"query with diacritics", ListFilter{Q: "Hà Nội", Sort: "code"}, []string{"HN", "HNIOC"}},
			{"đ folds to d", ListFilter{Q: "da nang", Sort: "code"}, []string{"CUST", "DNSOC"}},
			{"words in any order", ListFilter{Q: "noi trung tam"}, []string{"HNIOC"}},
			{"english name", ListFilter{Q: "emergency"}, []string{"VNCERT"}},
			{"short name and code", ListFilter{Q: "vt"}, []string{"ISP"}},
			{"like wildcards are literal", ListFilter{Q: "%"}, []string{}},
			{"role", ListFilter{Role: RoleProvincialSOC}, []string{"DNSOC"}},
			{"province", ListFilter{ProvinceCode: "HN", Sort: "code"}, []string{"HN", "HNIOC"}},
			{"sector", ListFilter{Sector: SectorBanking}, []string{"BANK"}},
			{"cluster", ListFilter{ClusterID: cl.ID}, []string{"DNSOC"}},
			{"parent", ListFilter{ParentID: f.isp.ID}, []string{"CUST"}},
			{"region", ListFilter{Region: "central", Sort: "code"}, []string{"CUST", "DNSOC"}},
			{"province order", ListFilter{Sort: "province", Q: "a"}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, total, err := f.s.List(ctx, viewer, c.f)
				if err != nil {
					t.Fatal(err)
				}
				if c.want != nil && (!slices.Equal(codes(got), c.want) || total != len(c.want)) {
					t.Errorf("got %v (total %d), want %v", codes(got), total, c.want)
				}
			})
		}
		// Province order: HN (1) before HCM (2) before DN (3), then none.
		got, _, err := f.s.List(ctx, viewer, ListFilter{Sort: "province"})
		if err != nil {
			t.Fatal(err)
		}
		var provs []string
		for _, o := range got {
			provs = append(provs, o.ProvinceCode)
		}
		if !slices.Equal(provs, []string{"HN", "HN", "HCM", "DN", "DN", "", ""}) {
			t.Errorf("province order: %v", provs)
		}
		// Paging keeps the total.
		var seen []string
		for off := 0; off < 7; off += 3 {
			page, total, err := f.s.List(ctx, viewer, ListFilter{Sort: "code", Limit: 3, Offset: off})
			if err != nil || total != 7 {
				t.Fatalf("page at %d: total %d, %v", off, total, err)
			}
			seen = append(seen, codes(page)...)
		}
		if !slices.Equal(seen, []string{"BANK", "CUST", "DNSOC", "HN", "HNIOC", "ISP", "VNCERT"}) {
			t.Errorf("pages: %v", seen)
		}
		page, total, err := f.s.List(ctx, viewer, ListFilter{Offset: 50})
		if err != nil || len(page) != 0 || total != 7 {
			t.Errorf("past the end: %d %d %v", len(page), total, err)
		}
		// Fields filled on reads.
		for _, o := range got {
			if o.ID == extra.ID && (o.ClusterName != "Cụm 1" || o.ParentName == "" || len(o.Roles) != 2) {
				t.Errorf("read fields: %+v", o)
			}
		}
		// Newest first.
		f.clock.Advance(time.Minute)
		in := InputOf(f.bank)
		in.Address = "Hà Nội"
		if _, err := f.s.Update(ctx, f.sys, f.bank.ID, in); err != nil {
			t.Fatal(err)
		}
		got, _, _ = f.s.List(ctx, viewer, ListFilter{Sort: "updated", Limit: 1})
		if len(got) != 1 || got[0].Code != "BANK" {
			t.Errorf("updated first: %v", codes(got))
		}
		for _, bad := range []ListFilter{{Sort: "size"}, {Role: "x"}, {Sector: "x"}, {Region: "x"}, {Offset: -1}} {
			if _, _, err := f.s.List(ctx, viewer, bad); !errs.Is(err, errs.KindInvalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		children, err := f.s.Children(ctx, viewer, f.national.ID)
		if err != nil || !slices.Equal(codes(children), []string{"BANK", "HN", "ISP", "DNSOC"}) {
			t.Errorf("children: %v %v", codes(children), err)
		}
	})
}

func TestTLPHidesOrganisations(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		secret := f.create(Input{Code: "SECRET", Name: "Đơn vị AMBER", ParentID: f.hn.ID, TLP: policy.TLPAmber,
			Roles: []Role{RoleSystemOwner}, Active: true})
		strict := f.create(Input{Code: "STRICT", Name: "Đơn vị AMBER+STRICT", ParentID: f.hn.ID,
			TLP: policy.TLPAmberStrict, Roles: []Role{RoleSystemOwner}, Active: true})
		child := f.create(Input{Code: "UNDER", Name: "Con của AMBER", ParentID: secret.ID,
			Roles: []Role{RoleSystemOwner}, Active: true})
		outsider := f.actor(f.bank, policy.RoleViewer)
		insider := f.actor(f.hn, policy.RoleViewer)
		own := f.actor(strict, policy.RoleViewer)
		national := f.actor(f.national, policy.RoleViewer)

		_, total, _ := f.s.List(ctx, outsider, ListFilter{})
		if total != 7 {
			t.Errorf("outsider sees %d, want 7 (no AMBER)", total)
		}
		if _, err := f.s.Get(ctx, outsider, secret.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("outsider get AMBER: %v", err)
		}
		got, _ := f.s.Get(ctx, outsider, child.ID)
		if got.ParentName != "" {
			t.Errorf("parent name of an AMBER parent shown to an outsider: %q", got.ParentName)
		}
		_, total, _ = f.s.List(ctx, insider, ListFilter{})
		if total != 8 {
			t.Errorf("insider sees %d, want 8 (AMBER, not AMBER+STRICT)", total)
		}
		_, total, _ = f.s.List(ctx, own, ListFilter{})
		if total != 8 {
			t.Errorf("strict org itself sees %d, want 8", total)
		}
		if _, err := f.s.Get(ctx, own, strict.ID); err != nil {
			t.Errorf("own AMBER+STRICT: %v", err)
		}
		_, total, _ = f.s.List(ctx, national, ListFilter{})
		if total != 8 {
			t.Errorf("national sees %d, want 8", total)
		}
		_, total, _ = f.s.List(ctx, f.sys, ListFilter{})
		if total != 9 {
			t.Errorf("system sees %d, want 9", total)
		}
		chain, err := f.s.Chain(ctx, outsider, child.ID)
		if err != nil || !slices.Equal(codes(chain), []string{"UNDER", "HN", "VNCERT"}) {
			t.Errorf("chain skips the hidden parent: %v %v", codes(chain), err)
		}
		if _, _, err := f.s.List(ctx, policy.Actor{}, ListFilter{}); err == nil {
			t.Error("anonymous list allowed")
		}
	})
}

func TestPolicyDenials(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		hnAdmin := f.actor(f.hn, policy.RoleAdmin)
		auditor := f.actor(f.national, policy.RoleAuditor)
		viewer := f.actor(f.hn, policy.RoleViewer)
		before := f.auditCount()

		denied := func(name string, err error) {
			t.Helper()
			if k := errs.KindOf(err); k != errs.KindForbidden && k != errs.KindNotFound {
				t.Errorf("%s: got %v, want forbidden or not found", name, err)
			}
		}
		in := InputOf(f.isp)
		in.Name = "Bị sửa"
		_, err := f.s.Update(ctx, hnAdmin, f.isp.ID, in)
		denied("member admin edits another org", err)
		_, err = f.s.Update(ctx, auditor, f.hn.ID, InputOf(f.hn))
		denied("auditor updates", err)
		_, err = f.s.Create(ctx, auditor, Input{Code: "X1", Name: "x", ParentID: f.hn.ID, Roles: []Role{RoleSystemOwner}})
		denied("auditor creates", err)
		_, err = f.s.Create(ctx, viewer, Input{Code: "X2", Name: "x", ParentID: f.hn.ID, Roles: []Role{RoleSystemOwner}})
		denied("viewer creates", err)
		_, err = f.s.Create(ctx, hnAdmin, Input{Code: "X3", Name: "x", Roles: []Role{RoleSystemOwner}})
		denied("member admin creates a root org", err)
		_, err = f.s.Create(ctx, hnAdmin, Input{Code: "X4", Name: "x", ParentID: f.isp.ID, Roles: []Role{RoleSystemOwner}})
		denied("member admin creates under another org", err)
		_, err = f.s.Create(ctx, hnAdmin, Input{Code: "X5", Name: "x", ParentID: f.hn.ID, Roles: []Role{RoleNationalCoordinator}})
		wantKind(t, err, errs.KindForbidden, "roles", "org.err.role_national_forbidden")
		in = InputOf(f.hn)
		in.Roles = append(in.Roles, RoleStandingBody)
		_, err = f.s.Update(ctx, hnAdmin, f.hn.ID, in)
		wantKind(t, err, errs.KindForbidden, "roles", "org.err.role_national_forbidden")
		in = InputOf(f.hnioc)
		in.ParentID = f.isp.ID
		_, err = f.s.Update(ctx, hnAdmin, f.hnioc.ID, in)
		wantKind(t, err, errs.KindForbidden, "parent_id", "org.err.parent_forbidden")
		in = InputOf(f.hn)
		in.ParentID = 0
		_, err = f.s.Update(ctx, hnAdmin, f.hn.ID, in)
		wantKind(t, err, errs.KindForbidden, "parent_id", "org.err.parent_forbidden")
		_, err = f.s.AddRange(ctx, auditor, f.hn.ID, "198.51.100.0/24", "")
		denied("auditor adds a range", err)
		_, err = f.s.AddRange(ctx, hnAdmin, f.isp.ID, "198.51.100.0/24", "")
		denied("member admin adds a range to another org", err)
		_, err = f.s.SaveContact(ctx, auditor, f.hn.ID, ContactInput{Kind: "primary", Name: "A", Email: "a@b.vn"})
		denied("auditor saves a contact", err)
		_, err = f.s.SaveContact(ctx, hnAdmin, f.isp.ID, ContactInput{Kind: "primary", Name: "A", Email: "a@b.vn"})
		denied("member admin saves a contact elsewhere", err)
		err = f.s.SaveProvince(ctx, hnAdmin, Province{Code: "HP", Name: "Hải Phòng"})
		denied("member admin edits provinces", err)
		_, err = f.s.SaveCluster(ctx, hnAdmin, Cluster{Code: "C9", Name: "Cụm 9"})
		denied("member admin edits clusters", err)
		_, err = f.s.Import(ctx, viewer, strings.NewReader("code,name,roles\nA,B,isp\n"), ImportOptions{Kind: "orgs"})
		denied("viewer imports", err)
		if n := f.auditCount(); n != before {
			t.Errorf("denied actions wrote %d audit entries", n-before)
		}

		// What is allowed: the member admin edits its own org and its subtree,
		// a coordinator edits, any member reads.
		in = InputOf(f.hnioc)
		in.Address = "Số 1 Tràng Tiền"
		if _, err := f.s.Update(ctx, hnAdmin, f.hnioc.ID, in); err != nil {
			t.Errorf("admin edits a child: %v", err)
		}
		if _, err := f.s.Create(ctx, hnAdmin, Input{Code: "HNCHILD", Name: "Đơn vị con", ParentID: f.hn.ID,
			Roles: []Role{RoleSystemOwner}, Active: true}); err != nil {
			t.Errorf("admin creates a child: %v", err)
		}
		if _, err := f.s.Update(ctx, f.actor(f.hn, policy.RoleCoordinator), f.hn.ID, InputOf(f.hn)); err != nil {
			t.Errorf("coordinator edits own org: %v", err)
		}
		if _, err := f.s.Get(ctx, f.actor(f.cust, policy.RoleViewer), f.bank.ID); err != nil {
			t.Errorf("member reads the directory: %v", err)
		}
		if _, err := f.s.Create(ctx, f.actor(f.national, policy.RoleAdmin), Input{Code: "ROOT2", Name: "Gốc",
			Roles: []Role{RoleStandingBody}, Active: true}); err != nil {
			t.Errorf("national admin creates a root: %v", err)
		}
		f.verifyAudit()
	})
}

func TestScopeOf(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		sc, err := f.s.ScopeOf(ctx, f.national.ID)
		if err != nil || !sc.All {
			t.Fatalf("national: %+v %v", sc, err)
		}
		sc, err = f.s.ScopeOf(ctx, f.hn.ID)
		if err != nil || sc.All || len(sc.Orgs) != 2 || !sc.Contains(f.hn.ID) || !sc.Contains(f.hnioc.ID) {
			t.Fatalf("provincial: %+v %v", sc, err)
		}
		sc, _ = f.s.ScopeOf(ctx, f.cust.ID)
		if len(sc.Orgs) != 1 || !sc.Contains(f.cust.ID) {
			t.Errorf("leaf: %+v", sc)
		}
		if _, err := f.s.ScopeOf(ctx, 5555); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("unknown org: %v", err)
		}
		// The cached hierarchy follows this node's own writes at once.
		grand := f.create(Input{Code: "GRAND", Name: "Cháu", ParentID: f.hnioc.ID, Roles: []Role{RoleSystemOwner}, Active: true})
		sc, _ = f.s.ScopeOf(ctx, f.hn.ID)
		if !sc.Contains(grand.ID) || len(sc.Orgs) != 3 {
			t.Errorf("after create: %+v", sc)
		}
		// Mutating the returned map does not change the next answer.
		delete(sc.Orgs, grand.ID)
		sc, _ = f.s.ScopeOf(ctx, f.hn.ID)
		if !sc.Contains(grand.ID) {
			t.Error("scope map shared between callers")
		}
		// Granting the standing-body role gives the whole network.
		in := InputOf(f.bank)
		in.Roles = append(in.Roles, RoleStandingBody)
		if _, err := f.s.Update(ctx, f.sys, f.bank.ID, in); err != nil {
			t.Fatal(err)
		}
		if sc, _ = f.s.ScopeOf(ctx, f.bank.ID); !sc.All {
			t.Errorf("standing body: %+v", sc)
		}
	})
}

// Two certnet nodes on one database see each other's changes within a
// second (the generation counter), with no SQL in between.
func TestGenerationAcrossNodes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		other := NewService(db, f.clock.Now, nil)
		if _, err := other.Whois(ctx, f.sys, "203.0.113.9"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("before: %v", err)
		}
		sc, _ := other.ScopeOf(ctx, f.hn.ID)
		if _, err := f.s.AddRange(ctx, f.sys, f.isp.ID, "203.0.113.0/24", ""); err != nil {
			t.Fatal(err)
		}
		g := f.create(Input{Code: "G2", Name: "Mới", ParentID: f.hn.ID, Roles: []Role{RoleSystemOwner}, Active: true})
		// The writing node sees it at once.
		if res, err := f.s.Whois(ctx, f.sys, "203.0.113.9"); err != nil || res.Org.ID != f.isp.ID {
			t.Fatalf("own node: %+v %v", res, err)
		}
		// The other node still answers from its index for up to a second…
		if _, err := other.Whois(ctx, f.sys, "203.0.113.9"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("other node within the second: %v", err)
		}
		if sc2, _ := other.ScopeOf(ctx, f.hn.ID); len(sc2.Orgs) != len(sc.Orgs) {
			t.Fatalf("other node's scope changed within the second")
		}
		// …then sees the change.
		f.clock.Advance(1100 * time.Millisecond)
		if res, err := other.Whois(ctx, f.sys, "203.0.113.9"); err != nil || res.Org.ID != f.isp.ID {
			t.Fatalf("other node after a second: %+v %v", res, err)
		}
		if sc2, _ := other.ScopeOf(ctx, f.hn.ID); !sc2.Contains(g.ID) {
			t.Errorf("other node's scope after a second: %+v", sc2)
		}
		x1, _ := other.WhoisIndex(ctx)
		x2, _ := other.WhoisIndex(ctx)
		if x1 != x2 {
			t.Error("index rebuilt without a change")
		}
	})
}

func TestAuditTrail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		n0 := f.auditCount()
		admin := f.actor(f.hn, policy.RoleAdmin)
		in := InputOf(f.hn)
		in.Website = "https://hanoi.gov.vn"
		if _, err := f.s.Update(ctx, admin, f.hn.ID, in); err != nil {
			t.Fatal(err)
		}
		c, err := f.s.SaveContact(ctx, admin, f.hn.ID, ContactInput{Kind: "primary", Name: "B", Phone: "0912345678"})
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.s.AddRange(ctx, admin, f.hn.ID, "198.51.100.0/24", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteRange(ctx, admin, f.hn.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteContact(ctx, admin, f.hn.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if n := f.auditCount(); n != n0+5 {
			t.Errorf("audit entries: %d new, want 5", n-n0)
		}
		var action, before, after string
		var actorOrg int64
		err = db.QueryRow(ctx, `SELECT action, before_json, after_json, COALESCE(actor_org_id, 0) FROM audit_log
			WHERE entity = 'organisation' ORDER BY seq DESC LIMIT 1`).Scan(&action, &before, &after, &actorOrg)
		if err != nil || action != "org.update" || !strings.Contains(after, "hanoi.gov.vn") ||
			strings.Contains(before, "hanoi.gov.vn") || actorOrg != f.hn.ID {
			t.Errorf("org.update entry: %s %s %s %d %v", action, before, after, actorOrg, err)
		}
		f.verifyAudit()
	})
}

func TestProvincesAndClusters(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ps, err := f.s.Provinces(ctx)
		if err != nil || len(ps) != 3 || ps[0].Code != "HN" || ps[2].Name != "Đà Nẵng" {
			t.Fatalf("provinces: %+v %v", ps, err)
		}
		// Renaming a province re-indexes its organisations for search.
		if err := f.s.SaveProvince(ctx, f.sys, Province{Code: "DN", Name: "Thành phố Đà Nẵng mới", Region: "central", SortOrder: 3}); err != nil {
			t.Fatal(err)
		}
		got, _, _ := f.s.List(ctx, f.sys, ListFilter{Q: "nang moi"})
		if !slices.Equal(codes(got), []string{"CUST"}) {
			t.Errorf("search after province rename: %v", codes(got))
		}
		err = f.s.SaveProvince(ctx, f.sys, Province{Code: "", Name: "x", Region: "east"})
		wantKind(t, err, errs.KindInvalid, "code", "field.required")
		national := f.actor(f.national, policy.RoleAdmin)
		c, err := f.s.SaveCluster(ctx, national, Cluster{Code: "C1", Name: "Cụm 1", HeadOrgID: f.hn.ID,
			DeputyOrgID: f.isp.ID, HeadYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		if c.HeadName != f.hn.Name || c.DeputyName != f.isp.Name || c.ID == 0 {
			t.Errorf("cluster: %+v", c)
		}
		c.HeadOrgID, c.DeputyOrgID, c.HeadYear = f.isp.ID, f.hn.ID, 2027
		if c, err = f.s.SaveCluster(ctx, national, c); err != nil || c.HeadName != f.isp.Name {
			t.Fatalf("rotate head: %+v %v", c, err)
		}
		_, err = f.s.SaveCluster(ctx, national, Cluster{Code: "C1", Name: "Trùng"})
		wantKind(t, err, errs.KindConflict, "code", "org.err.cluster_code_taken")
		_, err = f.s.SaveCluster(ctx, national, Cluster{Code: "C2", Name: "x", HeadOrgID: 9999})
		wantKind(t, err, errs.KindInvalid, "head_org_id", "org.err.org_not_found")
		_, err = f.s.SaveCluster(ctx, national, Cluster{ID: 9999, Code: "C3", Name: "x"})
		wantKind(t, err, errs.KindNotFound, "", "")
		cs, err := f.s.Clusters(ctx)
		if err != nil || len(cs) != 1 || cs[0].HeadYear != 2027 {
			t.Errorf("clusters: %+v %v", cs, err)
		}
		f.verifyAudit()
	})
}

func TestCounts(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for _, o := range []Org{f.hn, f.isp} {
			if _, err := f.s.SaveContact(ctx, f.sys, o.ID, ContactInput{Kind: "primary", Name: "Đầu mối", Email: "a@b.vn"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.SaveContact(ctx, f.sys, f.bank.ID, ContactInput{Kind: "backup", Name: "Dự phòng", Email: "c@b.vn"}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(400 * 24 * time.Hour)
		if _, err := f.s.SaveContact(ctx, f.sys, f.isp.ID, ContactInput{Kind: "backup", Name: "Mới", Email: "d@b.vn"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddRange(ctx, f.sys, f.isp.ID, "203.0.113.0/24", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddASN(ctx, f.sys, f.isp.ID, "AS64500", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddDomain(ctx, f.sys, f.hn.ID, "hanoi.gov.vn", ""); err != nil {
			t.Fatal(err)
		}
		in := InputOf(f.cust)
		in.Active = false
		if _, err := f.s.Update(ctx, f.sys, f.cust.ID, in); err != nil {
			t.Fatal(err)
		}
		c, err := f.s.Counts(ctx, f.actor(f.bank, policy.RoleViewer))
		if err != nil {
			t.Fatal(err)
		}
		// Stale: VNCERT, HNIOC (no contacts), BANK (no primary), HN (400 days);
		// ISP changed today; CUST is inactive.
		want := Counts{Total: 6, Active: 5, Ranges: 1, ASNs: 1, Domains: 1, Contacts: 4, StaleContacts: 4}
		if c.Total != want.Total || c.Active != want.Active || c.Ranges != 1 || c.ASNs != 1 || c.Domains != 1 ||
			c.Contacts != 4 || c.StaleContacts != 4 {
			t.Errorf("counts: %+v", c)
		}
		if c.ByRole[RoleISP] != 1 || c.ByRole[RoleNationalCoordinator] != 1 || c.ByProvince["HN"] != 2 || c.ByProvince[""] != 2 {
			t.Errorf("breakdowns: %v %v", c.ByRole, c.ByProvince)
		}
	})
}

// Every message key the package uses exists in both catalogues.
func TestMessageKeysExist(t *testing.T) {
	keys := []string{}
	for _, r := range Roles {
		keys = append(keys, r.LabelKey())
	}
	for _, s := range Sectors {
		keys = append(keys, s.LabelKey())
	}
	for _, r := range Regions {
		keys = append(keys, RegionLabelKey(r))
	}
	for _, k := range ContactKinds {
		keys = append(keys, "org.contact_kind."+k)
	}
	for _, c := range Capabilities {
		keys = append(keys, "org.capability."+c)
	}
	for _, c := range StaffFields {
		keys = append(keys, "org.staff_field."+c)
	}
	keys = append(keys, usedKeys(t)...)
	for _, l := range i18n.Langs {
		for _, k := range keys {
			if !i18n.Has(l, k) {
				t.Errorf("%s: key %q missing", l, k)
			}
		}
	}
}

// usedKeys finds the "org.…" and "field.…" keys quoted in the package's
// source.
func usedKeys(t *testing.T) []string {
	t.Helper()
	var out []string
	files, err := listGoFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range files {
		for _, m := range keyRE.FindAllStringSubmatch(src, -1) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestProvinceMapTiles(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if err := f.s.SaveProvince(ctx, f.sys, Province{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1, Map: &MapTile{Col: 2, Row: 2}}); err != nil {
			t.Fatal(err)
		}
		ps, err := f.s.Provinces(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			switch {
			case p.Code == "HN" && (p.Map == nil || *p.Map != MapTile{Col: 2, Row: 2}):
				t.Errorf("HN tile: %+v", p.Map)
			case p.Code != "HN" && p.Map != nil:
				t.Errorf("%s should not be placed: %+v", p.Code, p.Map)
			}
		}
		// Two provinces cannot share a cell; a cell off the grid is refused.
		err = f.s.SaveProvince(ctx, f.sys, Province{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 3, Map: &MapTile{Col: 2, Row: 2}})
		wantKind(t, err, errs.KindInvalid, "map", "org.err.map_taken")
		err = f.s.SaveProvince(ctx, f.sys, Province{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 3, Map: &MapTile{Col: -1, Row: 99}})
		wantKind(t, err, errs.KindInvalid, "map", "org.err.count_range")
		// Moving a province to its own cell again is fine.
		if err := f.s.SaveProvince(ctx, f.sys, Province{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1, Map: &MapTile{Col: 2, Row: 2}}); err != nil {
			t.Fatal(err)
		}
	})
}
