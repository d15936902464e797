package intel

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// advFixture adds to the fixture: provinces HN and DN, members in sectors,
// and ranges for whois.
//
//	VNCERT (national)
//	├── HN (provincial response unit, province HN)
//	│   ├── HNM  (system owner, banking, HN)
//	│   └── HNB  (ISP, energy, HN, range 198.51.100.0/24)
//	└── DN (provincial response unit, province DN)
//	    └── DNB  (system owner, banking, DN)
type advFixture struct {
	*fixture
	hnb, dnb org.Org
}

func newAdvFixture(t *testing.T, db *store.DB) *advFixture {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, db)
	f.s.Whois = f.orgs.WhoisIndex
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north"}, {Code: "DN", Name: "Đà Nẵng", Region: "central"}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	set := func(o org.Org, province string, sector org.Sector) org.Org {
		in := org.InputOf(o)
		in.ProvinceCode, in.Sector = province, sector
		u, err := f.orgs.Update(ctx, f.sys, o.ID, in)
		if err != nil {
			t.Fatalf("update %s: %v", o.Code, err)
		}
		return u
	}
	f.hn = set(f.hn, "HN", "")
	f.dn = set(f.dn, "DN", "")
	f.hnm = set(f.hnm, "HN", org.SectorBanking)
	af := &advFixture{fixture: f}
	af.hnb = f.create(org.Input{Code: "HNB", Name: "Điện lực Hà Nội", ParentID: f.hn.ID, ProvinceCode: "HN", Sector: org.SectorEnergy,
		Roles: []org.Role{org.RoleISP}, Active: true})
	af.dnb = f.create(org.Input{Code: "DNB", Name: "Ngân hàng Đà Nẵng", ParentID: f.dn.ID, ProvinceCode: "DN", Sector: org.SectorBanking,
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	if _, err := f.orgs.AddRange(ctx, f.sys, af.hnb.ID, "198.51.100.0/24", ""); err != nil {
		t.Fatal(err)
	}
	return af
}

func (f *advFixture) draft(a policy.Actor, in AdvisoryInput) Advisory {
	f.t.Helper()
	if in.Title == "" {
		in.Title = "Lỗ hổng nghiêm trọng trong phần mềm VPN"
	}
	if in.Summary == "" {
		in.Summary = "Khai thác từ xa không cần xác thực."
	}
	if in.Actions == "" {
		in.Actions = "Cập nhật bản vá ngay."
	}
	if in.TLP == "" {
		in.TLP = policy.TLPAmber
	}
	if in.DeadlineAt.IsZero() {
		in.DeadlineAt = f.clock.Now().Add(72 * time.Hour)
	}
	v, err := f.s.CreateAdvisory(context.Background(), a, in)
	if err != nil {
		f.t.Fatalf("draft: %v", err)
	}
	return v
}

func orgIDs(os ...org.Org) []int64 {
	var out []int64
	for _, o := range os {
		out = append(out, o.ID)
	}
	slices.Sort(out)
	return out
}

func TestAdvisoryTargeting(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		hn := f.actor(f.hn, policy.RoleCoordinator)
		ind, err := f.s.Create(ctx, f.sys, Input{OwnerOrgID: f.national.ID, Value: "198.51.100.23", TLP: policy.TLPAmber})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			actor  policy.Actor
			tlp    policy.TLP
			target Targeting
			links  []int64
			want   []int64
		}{
			{"whole network", nat, policy.TLPGreen, Targeting{All: true}, nil, orgIDs(f.hn, f.hnm, f.dn, f.hnb, f.dnb)},
			{"sector", nat, policy.TLPAmber, Targeting{Sectors: []string{"banking"}}, nil, orgIDs(f.hnm, f.dnb)},
			{"province", nat, policy.TLPAmber, Targeting{Provinces: []string{"DN"}}, nil, orgIDs(f.dn, f.dnb)},
			{"region", nat, policy.TLPAmber, Targeting{Regions: []string{"central"}}, nil, orgIDs(f.dn, f.dnb)},
			{"role", nat, policy.TLPAmber, Targeting{Roles: []string{"provincial_response_unit"}}, nil, orgIDs(f.hn, f.dn)},
			{"ranges", nat, policy.TLPAmber, Targeting{Ranges: true}, []int64{ind.ID}, orgIDs(f.hnb)},
			{"union", nat, policy.TLPAmber, Targeting{Sectors: []string{"energy"}, Orgs: []int64{f.dnb.ID}}, nil, orgIDs(f.hnb, f.dnb)},
			{"named under RED", nat, policy.TLPRed, Targeting{Orgs: []int64{f.dnb.ID}}, nil, orgIDs(f.dnb)},
			// A province reaches only its subtree: the whole network and a
			// sector are cut to it.
			{"province scope: all", hn, policy.TLPAmber, Targeting{All: true}, nil, orgIDs(f.hnm, f.hnb)},
			{"province scope: sector", hn, policy.TLPAmber, Targeting{Sectors: []string{"banking"}}, nil, orgIDs(f.hnm)},
		} {
			t.Run(c.name, func(t *testing.T) {
				v := f.draft(c.actor, AdvisoryInput{TLP: c.tlp, Targeting: c.target, IndicatorIDs: c.links})
				v, err := f.s.Publish(ctx, c.actor, v.ID)
				if err != nil {
					t.Fatalf("publish: %v", err)
				}
				got := slices.Clone(v.RecipientOrgs)
				slices.Sort(got)
				if !slices.Equal(got, c.want) {
					t.Fatalf("recipients %v, want %v", got, c.want)
				}
			})
		}

		// Refused: RED beyond named organisations, a named organisation
		// outside the province's scope, nothing matching; nothing saved.
		before := f.count("advisory_recipients")
		if _, err := f.s.CreateAdvisory(ctx, nat, AdvisoryInput{Title: "x", Summary: "x", Actions: "x", TLP: policy.TLPRed,
			Targeting: Targeting{Sectors: []string{"banking"}}}); !fieldErr(err, "targeting") {
			t.Fatalf("RED to a sector: %v", err)
		}
		v := f.draft(hn, AdvisoryInput{Targeting: Targeting{Orgs: []int64{f.dnb.ID}}})
		if _, err := f.s.Publish(ctx, hn, v.ID); !fieldErr(err, "targeting") {
			t.Fatalf("named outside scope: %v", err)
		}
		v = f.draft(nat, AdvisoryInput{Targeting: Targeting{Sectors: []string{"health"}}})
		if _, err := f.s.Publish(ctx, nat, v.ID); !fieldErr(err, "targeting") {
			t.Fatalf("no recipients: %v", err)
		}
		v = f.draft(nat, AdvisoryInput{Targeting: Targeting{Ranges: true}})
		if _, err := f.s.Publish(ctx, nat, v.ID); !fieldErr(err, "targeting") {
			t.Fatalf("ranges without addresses: %v", err)
		}
		if _, err := f.s.CreateAdvisory(ctx, nat, AdvisoryInput{Title: "x", Summary: "x", Actions: "x", TLP: policy.TLPAmber,
			Targeting: Targeting{Sectors: []string{"nope"}, Provinces: []string{"ZZ"}}}); !fieldErr(err, "targeting") {
			t.Fatalf("unknown sector and province: %v", err)
		}
		// An indicator under a stricter label than the advisory's.
		red, err := f.s.Create(ctx, f.sys, Input{OwnerOrgID: f.national.ID, Value: "evil.example.net", TLP: policy.TLPRed})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CreateAdvisory(ctx, nat, AdvisoryInput{Title: "x", Summary: "x", Actions: "x", TLP: policy.TLPGreen,
			IndicatorIDs: []int64{red.ID}, Targeting: Targeting{All: true}}); !fieldErr(err, "indicators") {
			t.Fatalf("RED indicator in a GREEN advisory: %v", err)
		}
		if n := f.count("advisory_recipients"); n != before {
			t.Fatalf("refused publishes wrote recipients: %d → %d", before, n)
		}
		// A member organisation may not publish; a viewer may not write.
		if _, err := f.s.CreateAdvisory(ctx, f.actor(f.hnm, policy.RoleCoordinator), AdvisoryInput{Title: "x", Summary: "x", Actions: "x",
			TLP: policy.TLPAmber, Targeting: Targeting{All: true}}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("member publishes: %v", err)
		}
		if _, err := f.s.CreateAdvisory(ctx, f.actor(f.national, policy.RoleViewer), AdvisoryInput{Title: "x", Summary: "x", Actions: "x",
			TLP: policy.TLPAmber, Targeting: Targeting{All: true}}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer writes: %v", err)
		}
		// An analyst drafts, only a coordinator publishes.
		v = f.draft(f.actor(f.national, policy.RoleAnalyst), AdvisoryInput{Targeting: Targeting{All: true}})
		if _, err := f.s.Publish(ctx, f.actor(f.national, policy.RoleAnalyst), v.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("analyst publishes: %v", err)
		}
		f.verifyAudit()
	})
}

func fieldErr(err error, field string) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == errs.KindInvalid && e.Has(field)
}

func TestAdvisoryVisibility(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		// AMBER to the banks: the banks, their response units and the
		// publisher see it; the ISP does not.
		v := f.draft(nat, AdvisoryInput{Targeting: Targeting{Sectors: []string{"banking"}}})
		if _, err := f.s.Advisory(ctx, f.actor(f.hnm, policy.RoleViewer), v.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("draft seen by a recipient-to-be: %v", err)
		}
		if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who  policy.Actor
			sees bool
		}{
			{f.actor(f.hnm, policy.RoleViewer), true},
			{f.actor(f.dnb, policy.RoleReporter), true},
			{f.actor(f.hn, policy.RoleViewer), true},
			{f.actor(f.hnb, policy.RoleCoordinator), false},
		} {
			_, err := f.s.Advisory(ctx, c.who, v.ID)
			if (err == nil) != c.sees {
				t.Errorf("%s sees AMBER advisory: %v, want %v", c.who.Username, err, c.sees)
			}
			list, err := f.s.Advisories(ctx, c.who, AdvisoryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if (len(list) == 1) != c.sees {
				t.Errorf("%s lists %d advisories", c.who.Username, len(list))
			}
		}
		// A province following the national advisory sees only its
		// members' rows.
		rs, err := f.s.Recipients(ctx, f.actor(f.hn, policy.RoleViewer), v.ID, RecipientFilter{})
		if err != nil || len(rs) != 1 || rs[0].OrgID != f.hnm.ID {
			t.Fatalf("province's view of recipients: %v %v", rs, err)
		}
		// AMBER+STRICT: the response unit of a recipient does not see it.
		s := f.draft(nat, AdvisoryInput{TLP: policy.TLPAmberStrict, Targeting: Targeting{Orgs: []int64{f.hnm.ID}}})
		if _, err := f.s.Publish(ctx, nat, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Advisory(ctx, f.actor(f.hn, policy.RoleViewer), s.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("AMBER+STRICT seen by the recipient's response unit: %v", err)
		}
		if _, err := f.s.Advisory(ctx, f.actor(f.hnm, policy.RoleViewer), s.ID); err != nil {
			t.Fatalf("AMBER+STRICT recipient: %v", err)
		}
	})
}

func TestAdvisoryRespondAndRates(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		v := f.draft(nat, AdvisoryInput{Targeting: Targeting{Sectors: []string{"banking", "energy"}}})
		if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
			t.Fatal(err)
		}
		if n := f.count("notifications"); n != 1 {
			t.Fatalf("notifications after publish: %d", n)
		}
		if _, err := f.s.Publish(ctx, nat, v.ID); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("publish twice: %v", err)
		}
		hnm := f.actor(f.hnm, policy.RoleReporter)
		dnb := f.actor(f.dnb, policy.RoleAnalyst)
		hnb := f.actor(f.hnb, policy.RoleCoordinator)
		// Refused: a report before acknowledging, a viewer, an outsider,
		// a report without outcome or note.
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeRemediated, Note: "Đã vá"}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("report before ack: %v", err)
		}
		if _, err := f.s.Respond(ctx, f.actor(f.hnm, policy.RoleViewer), v.ID, RespondInput{Acknowledge: true}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer acknowledges: %v", err)
		}
		if _, err := f.s.Respond(ctx, f.actor(f.hn, policy.RoleCoordinator), v.ID, RespondInput{Acknowledge: true}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("non-recipient acknowledges: %v", err)
		}
		for _, who := range []policy.Actor{hnm, dnb, hnb} {
			if _, err := f.s.Respond(ctx, who, v.ID, RespondInput{Acknowledge: true}); err != nil {
				t.Fatalf("ack %s: %v", who.Username, err)
			}
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Acknowledge: true}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("ack twice: %v", err)
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeRemediated}); !fieldErr(err, "note") {
			t.Fatalf("remediated without note: %v", err)
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: "fixed", Note: "x"}); !fieldErr(err, "outcome") {
			t.Fatalf("unknown outcome: %v", err)
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeInProgress, Note: "Đang vá"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeRemediated, Note: "Đã vá xong"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeInProgress, Note: "lại"}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("report after final: %v", err)
		}
		if _, err := f.s.Respond(ctx, dnb, v.ID, RespondInput{Outcome: OutcomeNotAffected}); err != nil {
			t.Fatal(err)
		}
		rates, err := f.s.Rates(ctx, nat, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o := rates.Overall; o.Total != 3 || o.Acknowledged != 3 || o.Reported != 2 || o.Remediated != 1 || o.NotAffected != 1 || int(o.DoneRate()+0.5) != 67 {
			t.Fatalf("overall %+v", o)
		}
		want := map[string][2]int{"banking": {2, 2}, "energy": {1, 0}}
		for _, r := range rates.BySector {
			if w := want[r.Key]; r.Total != w[0] || r.Remediated+r.NotAffected != w[1] {
				t.Errorf("sector %s: %+v", r.Key, r)
			}
		}
		if len(rates.ByProvince) != 2 || rates.ByProvince[0].Key != "DN" || rates.ByProvince[0].Name != "Đà Nẵng" || rates.ByProvince[1].Total != 2 {
			t.Fatalf("by province %+v", rates.ByProvince)
		}
		rs, err := f.s.Recipients(ctx, nat, v.ID, RecipientFilter{Sector: "banking", Status: RecipientReported})
		if err != nil || len(rs) != 2 {
			t.Fatalf("filtered recipients %v %v", rs, err)
		}
		// Closed: nobody answers.
		if _, err := f.s.CloseAdvisory(ctx, hnm, v.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("recipient closes: %v", err)
		}
		if _, err := f.s.CloseAdvisory(ctx, nat, v.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Respond(ctx, hnb, v.ID, RespondInput{Outcome: OutcomeRemediated, Note: "x"}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("answer to a closed advisory: %v", err)
		}
		f.verifyAudit()
	})
}

func TestAdvisoryEscalation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		v := f.draft(nat, AdvisoryInput{DeadlineAt: f.clock.Now().Add(72 * time.Hour), Targeting: Targeting{Orgs: []int64{f.hnm.ID, f.dnb.ID}}})
		if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
			t.Fatal(err)
		}
		// DNB acknowledges and finishes; HNM says nothing.
		dnb := f.actor(f.dnb, policy.RoleCoordinator)
		if _, err := f.s.Respond(ctx, dnb, v.ID, RespondInput{Acknowledge: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Respond(ctx, dnb, v.ID, RespondInput{Outcome: OutcomeRemediated, Note: "Đã vá"}); err != nil {
			t.Fatal(err)
		}
		msgs := func(kind string, org int64) int {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE kind = ? AND org_ids = ?", kind, "["+itoa(org)+"]").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		step := func(d time.Duration, want int) {
			t.Helper()
			f.clock.Advance(d)
			for range 2 { // a second run changes nothing
				n, err := f.s.EscalateAdvisories(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Fatalf("at +%v: %d steps, want %d", f.clock.Now().Sub(t0), n, want)
				}
				want = 0
			}
		}
		step(23*time.Hour, 0)
		step(time.Hour, 1) // 24 h: reminder to HNM
		if msgs(KindAdvisoryReminder, f.hnm.ID) != 1 {
			t.Fatal("no ack reminder")
		}
		step(23*time.Hour, 0)
		step(time.Hour, 1) // 48 h: escalated to HN, its response unit
		if msgs(KindAdvisoryEscalated, f.hn.ID) != 1 {
			t.Fatal("ack not escalated to the response unit")
		}
		step(24*time.Hour, 1) // 72 h: deadline passed, reminder
		step(24*time.Hour, 1) // 96 h: deadline escalation
		step(240*time.Hour, 0)
		if msgs(KindAdvisoryReminder, f.hnm.ID) != 2 || msgs(KindAdvisoryEscalated, f.hn.ID) != 2 {
			t.Fatal("deadline reminder or escalation missing")
		}
		if msgs(KindAdvisoryReminder, f.dnb.ID) != 0 {
			t.Fatal("the recipient that finished was reminded")
		}
		f.verifyAudit()
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAdvisorySTIX(t *testing.T) {
	ctx := context.Background()
	f := newAdvFixture(t, testkit.NewSQLite(t))
	nat := f.actor(f.national, policy.RoleCoordinator)
	ind, err := f.s.Create(ctx, f.sys, Input{OwnerOrgID: f.national.ID, Value: "evil.example.org", TLP: policy.TLPGreen})
	if err != nil {
		t.Fatal(err)
	}
	v := f.draft(nat, AdvisoryInput{TLP: policy.TLPAmber, CVEs: []string{"cve-2023-0001"}, IndicatorIDs: []int64{ind.ID},
		Targeting: Targeting{Sectors: []string{"banking"}}})
	if _, err := f.s.AdvisorySTIX(ctx, nat, v.ID); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("draft exported: %v", err)
	}
	if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
		t.Fatal(err)
	}
	b, err := f.s.AdvisorySTIX(ctx, f.actor(f.hnm, policy.RoleViewer), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	val, err := stix.DefaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	if err := val.ValidateBundle(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, want := range []string{`"type":"report"`, `"external_id":"CVE-2023-0001"`, ind.STIXID, v.STIXID, stix.TLPMarkingID("AMBER")} {
		if !strings.Contains(string(b), want) {
			t.Errorf("bundle lacks %s", want)
		}
	}
	// The report itself names the CVE and the response deadline.
	var bundle struct{ Objects []map[string]any }
	json.Unmarshal(b, &bundle)
	for _, o := range bundle.Objects {
		if o["type"] != "report" {
			continue
		}
		ext, _ := json.Marshal(o["external_references"])
		if !strings.Contains(string(ext), `"external_id":"CVE-2023-0001"`) || o["x_certnet_deadline"] != stix.FormatTime(v.DeadlineAt) || v.DeadlineAt.IsZero() {
			t.Errorf("report: references %s, deadline %v (advisory's %v)", ext, o["x_certnet_deadline"], v.DeadlineAt)
		}
	}
	if _, err := f.s.AdvisorySTIX(ctx, f.actor(f.hnb, policy.RoleViewer), v.ID); !errs.Is(err, errs.KindNotFound) {
		t.Fatalf("non-recipient exports: %v", err)
	}
}

// An advisory exported as a STIX report and imported by another
// organisation becomes its draft, with the CVEs and the indicators.
func TestAdvisoryFromReport(t *testing.T) {
	ctx := context.Background()
	f := newAdvFixture(t, testkit.NewSQLite(t))
	nat := f.actor(f.national, policy.RoleCoordinator)
	ind, err := f.s.Create(ctx, f.sys, Input{OwnerOrgID: f.national.ID, Value: "203.0.113.9", TLP: policy.TLPGreen})
	if err != nil {
		t.Fatal(err)
	}
	v := f.draft(nat, AdvisoryInput{TLP: policy.TLPAmber, CVEs: []string{"CVE-2024-3400"}, IndicatorIDs: []int64{ind.ID},
		Targeting: Targeting{Orgs: []int64{f.hn.ID}}})
	if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
		t.Fatal(err)
	}
	hn := f.actor(f.hn, policy.RoleCoordinator)
	b, err := f.s.AdvisorySTIX(ctx, hn, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.s.ImportSTIX(ctx, hn, strings.NewReader(string(b)), ImportOptions{Name: "advisory.json", DefaultTLP: policy.TLPAmber})
	if err != nil || res.Rejected != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if _, err := f.s.AdvisoryFromReport(ctx, f.actor(f.dn, policy.RoleCoordinator), v.STIXID); !errs.Is(err, errs.KindNotFound) {
		t.Fatalf("a province reads another's AMBER import: %v", err)
	}
	d, err := f.s.AdvisoryFromReport(ctx, hn, v.STIXID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != AdvisoryDraft || d.OwnerOrgID != f.hn.ID || d.Title != v.Title || len(d.CVEs) != 1 || d.CVEs[0] != "CVE-2024-3400" ||
		len(d.IndicatorIDs) != 1 || d.TLP != policy.TLPAmber {
		t.Fatalf("draft %+v", d)
	}
	// The draft needs its actions (and a deadline) before it goes out.
	if _, err := f.s.Publish(ctx, hn, d.ID); !fieldErr(err, "actions") || !fieldErr(err, "deadline_at") {
		t.Fatalf("publish an incomplete draft: %v", err)
	}
}

// Under AMBER+STRICT the recipient's response unit may not read the
// advisory: escalations go to the publisher instead.
func TestAdvisoryEscalationStrict(t *testing.T) {
	ctx := context.Background()
	db := testkit.NewSQLite(t)
	f := newAdvFixture(t, db)
	nat := f.actor(f.national, policy.RoleCoordinator)
	v := f.draft(nat, AdvisoryInput{TLP: policy.TLPAmberStrict, Targeting: Targeting{Orgs: []int64{f.hnm.ID}}})
	if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(48 * time.Hour)
	if n, err := f.s.EscalateAdvisories(ctx); err != nil || n != 2 {
		t.Fatalf("steps %d %v", n, err)
	}
	var to string
	if err := db.QueryRow(ctx, "SELECT org_ids FROM notifications WHERE kind = ?", KindAdvisoryEscalated).Scan(&to); err != nil {
		t.Fatal(err)
	}
	if to != "["+itoa(f.national.ID)+"]" {
		t.Fatalf("escalated to %s, want the publisher %d", to, f.national.ID)
	}
}
