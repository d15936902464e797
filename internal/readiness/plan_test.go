package readiness

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// planKit is what a plan of an organisation names: a scenario, a person on
// a team, a contact point and a system.
type planKit struct {
	scenario Scenario
	person   Person
	team     Team
	contact  org.Contact
	system   int64
}

func (f *fixture) planKit(o org.Org) planKit {
	f.t.Helper()
	ctx := context.Background()
	var k planKit
	var err error
	if k.scenario, err = f.s.CreateScenario(ctx, f.sys, ScenarioInput{OrgID: o.ID, Title: "Mã độc mã hóa dữ liệu (ransomware)",
		Category: CategoryAttack, Likelihood: 4, Impact: 5}); err != nil {
		f.t.Fatal(err)
	}
	k.team = f.team(f.sys, o.ID, "Đội ứng cứu "+o.Code)
	k.person = f.person(f.sys, o.ID, "Lê Văn Cường "+o.Code)
	if _, err := f.s.AddMember(ctx, f.sys, k.team.ID, k.person.ID, RoleLead); err != nil {
		f.t.Fatal(err)
	}
	if k.contact, err = f.orgs.SaveContact(ctx, f.sys, o.ID, org.ContactInput{Kind: org.ContactPrimary, Name: "Phạm Thị Dung",
		Phone247: "0912345678", Email: "dau-moi@" + strings.ToLower(o.Code) + ".gov.vn"}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.QueryRow(ctx, `INSERT INTO infosys_systems (owner_org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)
		RETURNING id`, o.ID, "Cổng dịch vụ công "+o.Code, t0, t0).Scan(&k.system); err != nil {
		f.t.Fatal(err)
	}
	return k
}

func (k planKit) input(title string) PlanInput {
	return PlanInput{Title: title, SystemID: k.system, Scope: "Hệ thống thông tin của Sở và cổng dịch vụ công.",
		SystemIDs: []int64{k.system},
		Options: []OptionInput{{ScenarioID: k.scenario.ID, Steps: "1. Cô lập máy bị nhiễm.\n2. Khôi phục từ bản sao lưu.",
			PersonIDs: []int64{k.person.ID}, Equipment: "Máy chủ dự phòng", BudgetVND: 150_000_000}},
		Priorities: "Ưu tiên duy trì cổng dịch vụ công.", ContactIDs: []int64{k.contact.ID}, TeamIDs: []int64{k.team.ID},
		Escalation: "Báo cáo Cơ quan điều phối quốc gia khi vượt khả năng xử lý."}
}

func wantKind(t *testing.T, err error, k errs.Kind, what string) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("%s: want %v, got %v", what, k, err)
	}
}

func TestPlanWorkflowAndVersions(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		k := f.planKit(f.hn)
		coord := f.actor(f.hn, policy.RoleCoordinator)
		admin := f.actor(f.hn, policy.RoleAdmin)
		viewer := f.actor(f.hn, policy.RoleViewer)

		// A draft with only a title cannot go to the approver yet.
		d, err := f.s.CreatePlan(ctx, coord, f.hn.ID, PlanInput{Title: "Phương án ứng cứu sự cố Hà Nội"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Latest.Version != 1 || d.Latest.Status != PlanDraft || d.InForce != nil || len(d.Versions) != 1 {
			t.Fatalf("new plan: %+v", d)
		}
		_, err = f.s.SubmitPlan(ctx, coord, d.ID)
		fieldErr(t, err, "scope")
		fieldErr(t, err, "scenarios")
		fieldErr(t, err, "contacts")
		if _, err := f.s.CreatePlan(ctx, viewer, f.hn.ID, k.input("X")); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer creates: %v", err)
		}

		// The draft is completed in place, then submitted.
		d, err = f.s.UpdatePlan(ctx, coord, d.ID, k.input("Phương án ứng cứu sự cố Hà Nội"))
		if err != nil || len(d.Versions) != 1 || len(d.Latest.Content.Options) != 1 || d.Latest.Content.Budget() != 150_000_000 {
			t.Fatalf("update draft: %+v %v", d, err)
		}
		if o := d.Latest.Content.Options[0]; o.Title != k.scenario.Title || o.Score != 20 || len(o.People) != 1 || o.People[0].Name != k.person.FullName {
			t.Fatalf("option snapshot: %+v", o)
		}
		if d, err = f.s.SubmitPlan(ctx, coord, d.ID); err != nil || d.Latest.Status != PlanSubmitted {
			t.Fatalf("submit: %+v %v", d.Latest, err)
		}
		// Submitted: not changed, not submitted twice, not approved by a coordinator.
		_, err = f.s.UpdatePlan(ctx, coord, d.ID, k.input("Khác"))
		wantKind(t, err, errs.KindConflict, "update submitted")
		_, err = f.s.SubmitPlan(ctx, coord, d.ID)
		wantKind(t, err, errs.KindConflict, "submit twice")
		_, err = f.s.ApprovePlan(ctx, coord, d.ID, "")
		wantKind(t, err, errs.KindForbidden, "coordinator approves")
		// Returned with a reason (required), edited in place, submitted again.
		_, err = f.s.ReturnPlan(ctx, admin, d.ID, "  ")
		fieldErr(t, err, "reason")
		d, err = f.s.ReturnPlan(ctx, admin, d.ID, "Bổ sung kinh phí dự phòng.")
		if err != nil || d.Latest.Status != PlanReturned || d.Latest.ReturnReason != "Bổ sung kinh phí dự phòng." {
			t.Fatalf("return: %+v %v", d.Latest, err)
		}
		_, err = f.s.ApprovePlan(ctx, admin, d.ID, "")
		wantKind(t, err, errs.KindConflict, "approve a returned plan")
		f.clock.Advance(time.Hour)
		in := k.input("Phương án ứng cứu sự cố Hà Nội")
		in.Options[0].BudgetVND = 200_000_000
		if d, err = f.s.UpdatePlan(ctx, coord, d.ID, in); err != nil || d.Latest.Version != 1 || d.Latest.Status != PlanDraft ||
			d.Latest.ReturnReason != "" {
			t.Fatalf("edit returned: %+v %v", d.Latest, err)
		}
		if _, err = f.s.SubmitPlan(ctx, coord, d.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		approvedAt := f.clock.Now()
		d, err = f.s.ApprovePlan(ctx, admin, d.ID, "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC")
		if err != nil || d.Latest.Status != PlanApproved || d.InForce == nil || d.InForce.Version != 1 {
			t.Fatalf("approve: %+v %v", d, err)
		}
		if want := approvedAt.AddDate(1, 0, 0); !d.InForce.ReviewDue.Equal(want) || d.InForce.DecidedBy != admin.Username ||
			d.InForce.ApproverOrgID != f.hn.ID {
			t.Fatalf("approved version: %+v (review due want %v)", d.InForce, want)
		}
		_, err = f.s.ApprovePlan(ctx, admin, d.ID, "")
		wantKind(t, err, errs.KindConflict, "approve twice")
		wantKind(t, f.s.DeletePlan(ctx, coord, d.ID), errs.KindConflict, "delete an approved plan")

		// Saved unchanged, the approved plan gets no new version.
		if d, err = f.s.UpdatePlan(ctx, coord, d.ID, in); err != nil || len(d.Versions) != 1 {
			t.Fatalf("unchanged save: %d versions, %v", len(d.Versions), err)
		}
		// A change to the approved plan is a new draft version; version 1
		// stays in force, unchanged.
		in.Options[0].Steps += "\n3. Báo cáo sự cố."
		d, err = f.s.UpdatePlan(ctx, coord, d.ID, in)
		if err != nil || len(d.Versions) != 2 || d.Latest.Version != 2 || d.Latest.Status != PlanDraft ||
			d.InForce == nil || d.InForce.Version != 1 {
			t.Fatalf("new version: %+v %v", d, err)
		}
		v1, _ := d.Version(1)
		if strings.Contains(v1.Content.Options[0].Steps, "3. Báo cáo") || v1.Content.Options[0].BudgetVND != 200_000_000 {
			t.Fatalf("approved version changed: %+v", v1.Content.Options[0])
		}
		// The national coordinator's administrator approves version 2; version 1 is superseded.
		if _, err = f.s.SubmitPlan(ctx, coord, d.ID); err != nil {
			t.Fatal(err)
		}
		natAdmin := f.actor(f.national, policy.RoleAdmin)
		if d, err = f.s.ApprovePlan(ctx, natAdmin, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		v1, _ = d.Version(1)
		if v1.Status != PlanSuperseded || d.InForce.Version != 2 || d.InForce.ApproverOrgID != f.national.ID {
			t.Fatalf("after second approval: v1 %s, in force %+v", v1.Status, d.InForce)
		}
		// The comparison of the two versions shows the added step.
		lbl := func(k string) string { return k }
		num := func(n int64) string { return strconv.FormatInt(n, 10) }
		var added []string
		for _, l := range Diff(PlanLines(v1.Content, lbl, num), PlanLines(d.InForce.Content, lbl, num)) {
			if l.Changed() {
				added = append(added, string(l.Op)+l.Text)
			}
		}
		if len(added) != 1 || added[0] != "+     3. Báo cáo sự cố." {
			t.Fatalf("diff: %q", added)
		}
		// Notifications: three submissions; a return and two approvals.
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = ?", NotifyPlanSubmitted); n != 3 {
			t.Fatalf("submitted notifications: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = ?", NotifyPlanDecided); n != 3 {
			t.Fatalf("decision notifications: %d", n)
		}
		f.verifyAudit()
	})
}

func TestPlanApproversAndScope(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		k := f.planKit(f.hnm)
		// The hospital's plan: its own administrator or the province's
		// (its parent) approves; not its coordinator, not another province.
		hospital := f.actor(f.hnm, policy.RoleCoordinator)
		d, err := f.s.CreatePlan(ctx, hospital, f.hnm.ID, k.input("Phương án ứng cứu Bệnh viện"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SubmitPlan(ctx, hospital, d.ID); err != nil {
			t.Fatal(err)
		}
		dnAdmin := f.actor(f.dn, policy.RoleAdmin)
		_, err = f.s.ApprovePlan(ctx, dnAdmin, d.ID, "")
		wantKind(t, err, errs.KindNotFound, "another province approves")
		_, err = f.s.Plan(ctx, dnAdmin, d.ID)
		wantKind(t, err, errs.KindNotFound, "another province reads")
		if ps, err := f.s.Plans(ctx, dnAdmin, 0); err != nil || len(ps) != 0 {
			t.Fatalf("another province lists: %v %v", ps, err)
		}
		_, err = f.s.UpdatePlan(ctx, dnAdmin, d.ID, k.input("X"))
		wantKind(t, err, errs.KindNotFound, "another province edits")
		_, err = f.s.ReturnPlan(ctx, f.actor(f.hn, policy.RoleAnalyst), d.ID, "Không")
		wantKind(t, err, errs.KindForbidden, "provincial analyst returns")
		province := f.actor(f.hn, policy.RoleAdmin)
		if ws, err := f.s.PlansAwaiting(ctx, province); err != nil || len(ws) != 1 || ws[0].ID != d.ID {
			t.Fatalf("awaiting the province: %v %v", ws, err)
		}
		if ws, _ := f.s.PlansAwaiting(ctx, hospital); len(ws) != 0 {
			t.Fatalf("awaiting the hospital's coordinator: %v", ws)
		}
		if d, err = f.s.ApprovePlan(ctx, province, d.ID, "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"); err != nil || d.InForce.ApproverOrgID != f.hn.ID {
			t.Fatalf("province approves: %+v %v", d.InForce, err)
		}
		if ps, err := f.s.Plans(ctx, province, 0); err != nil || len(ps) != 1 {
			t.Fatalf("province lists: %v %v", ps, err)
		}
	})
}

func TestPlanRefusesOtherOrganisationsRecords(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		own := f.planKit(f.hn)
		other := f.planKit(f.dn)
		admin := f.actor(f.hn, policy.RoleAdmin)
		sid := own.scenario.ID
		bad := own.input("Phương án")
		bad.SystemID = other.system
		bad.SystemIDs = []int64{own.system, own.system}
		bad.Options = append(bad.Options, OptionInput{ScenarioID: other.scenario.ID, Steps: "x"})
		bad.Options[0].PersonIDs = []int64{other.person.ID}
		bad.Options[0].BudgetVND = -1
		bad.ContactIDs = []int64{other.contact.ID}
		bad.TeamIDs = []int64{other.team.ID}
		bad.Escalation = strings.Repeat("x", maxPlanText+1)
		_, err := f.s.CreatePlan(ctx, admin, f.hn.ID, bad)
		for _, field := range []string{"system_id", "systems", "scenarios", "people_" + strconv.FormatInt(sid, 10),
			"budget_" + strconv.FormatInt(sid, 10), "contacts", "teams", "escalation"} {
			fieldErr(t, err, field)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM readiness_plans"); n != 0 {
			t.Fatalf("plans after bad input: %d", n)
		}
		// A catalogue scenario must be copied to the organisation first.
		cat, err := f.s.CreateScenario(ctx, f.sys, ScenarioInput{Title: "Lũ lụt", Category: CategoryDisaster, Likelihood: 3, Impact: 4})
		if err != nil {
			t.Fatal(err)
		}
		in := own.input("Phương án")
		in.Options = []OptionInput{{ScenarioID: cat.ID, Steps: "x"}}
		_, err = f.s.CreatePlan(ctx, admin, f.hn.ID, in)
		fieldErr(t, err, "scenarios")
		// Another province's plan cannot be created in Hà Nội's name.
		_, err = f.s.CreatePlan(ctx, f.actor(f.dn, policy.RoleAdmin), f.hn.ID, own.input("Phương án"))
		wantKind(t, err, errs.KindNotFound, "another province creates")
		// A draft is deleted; the deletion is audited.
		d, err := f.s.CreatePlan(ctx, admin, f.hn.ID, own.input("Phương án"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeletePlan(ctx, f.actor(f.dn, policy.RoleAdmin), d.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province deletes: %v", err)
		}
		if err := f.s.DeletePlan(ctx, admin, d.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM readiness_plan_versions"); n != 0 {
			t.Fatalf("versions after delete: %d", n)
		}
		f.verifyAudit()
	})
}

func TestPlanReviewDue(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		k := f.planKit(f.hn)
		admin := f.actor(f.hn, policy.RoleAdmin)
		d, err := f.s.CreatePlan(ctx, admin, f.hn.ID, k.input("Phương án ứng cứu sự cố Hà Nội"))
		if err == nil {
			_, err = f.s.SubmitPlan(ctx, admin, d.ID)
		}
		if err == nil {
			d, err = f.s.ApprovePlan(ctx, admin, d.ID, "")
		}
		if err != nil {
			t.Fatal(err)
		}
		due := d.InForce.ReviewDue
		if d.Review(f.clock.Now()) != ReviewOK {
			t.Fatalf("fresh plan: %s", d.Review(f.clock.Now()))
		}
		if ps, err := f.s.PlansToReview(ctx, admin); err != nil || len(ps) != 0 {
			t.Fatalf("to review, fresh: %v %v", ps, err)
		}
		if n, err := f.s.remindPlans(ctx, f.clock.Now()); err != nil || n != 0 {
			t.Fatalf("remind, fresh: %d %v", n, err)
		}
		// A month before the date: due soon, reminded once.
		f.clock.Set(due.Add(-29 * 24 * time.Hour))
		ps, err := f.s.PlansToReview(ctx, admin)
		if err != nil || len(ps) != 1 || ps[0].Review(f.clock.Now()) != ReviewDueSoon {
			t.Fatalf("to review, due soon: %v %v", ps, err)
		}
		if ps, _ := f.s.PlansToReview(ctx, f.actor(f.dn, policy.RoleAdmin)); len(ps) != 0 {
			t.Fatalf("another province sees the review: %v", ps)
		}
		f.s.Remind(ctx)
		f.s.Remind(ctx)
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = ?", NotifyPlanReview); n != 1 {
			t.Fatalf("review reminders, due soon: %d", n)
		}
		// Past the date: overdue, reminded once more.
		f.clock.Set(due.Add(time.Minute))
		if ps, _ := f.s.PlansToReview(ctx, admin); len(ps) != 1 || ps[0].Review(f.clock.Now()) != ReviewOverdue {
			t.Fatalf("overdue: %v", ps)
		}
		f.s.Remind(ctx)
		f.s.Remind(ctx)
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = ?", NotifyPlanReview); n != 2 {
			t.Fatalf("review reminders, overdue: %d", n)
		}
		// A new version approved: reviewed, nothing due.
		reviewed := k.input("Phương án ứng cứu sự cố Hà Nội")
		reviewed.Priorities += " Rà soát năm 2027."
		if _, err := f.s.UpdatePlan(ctx, admin, d.ID, reviewed); err != nil {
			t.Fatal(err)
		}
		if ps, _ := f.s.PlansToReview(ctx, admin); len(ps) != 1 {
			t.Fatalf("a new draft does not review the plan: %v", ps)
		}
		if _, err := f.s.SubmitPlan(ctx, admin, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ApprovePlan(ctx, admin, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		if ps, _ := f.s.PlansToReview(ctx, admin); len(ps) != 0 {
			t.Fatalf("reviewed plan still due: %v", ps)
		}
	})
}

func TestDiff(t *testing.T) {
	for _, c := range []struct {
		old, new string
		want     string
	}{
		{"a b c", "a b c", " a b c"},
		{"a b c", "a x c", " a-b+x c"},
		{"", "a", "+a"},
		{"a", "", "-a"},
		{"a b c d", "b d e", "-a b-c d+e"},
	} {
		var got strings.Builder
		for _, l := range Diff(strings.Fields(c.old), strings.Fields(c.new)) {
			got.WriteByte(l.Op)
			got.WriteString(l.Text)
		}
		if got.String() != c.want {
			t.Errorf("Diff(%q, %q) = %q, want %q", c.old, c.new, got.String(), c.want)
		}
	}
}

// TestPlanChoices: the form offers the organisation's own scenarios (not
// the catalogue), its people and the partners' people on its teams, its
// teams, systems and contact points — nothing of another organisation.
func TestPlanChoices(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		k := f.planKit(f.hn)
		f.planKit(f.dn)
		if _, err := f.s.CreateScenario(ctx, f.sys, ScenarioInput{Title: "Bão", Category: CategoryDisaster, Likelihood: 2, Impact: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddAgreement(ctx, f.sys, AgreementInput{OrgID: f.hn.ID, PartnerOrgID: f.hnm.ID, DocRef: "07/2026/TTHT",
			SignedOn: t0.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		partner := f.person(f.sys, f.hnm.ID, "Đỗ Minh Châu")
		if _, err := f.s.AddMember(ctx, f.sys, k.team.ID, partner.ID, RoleExpert); err != nil {
			t.Fatal(err)
		}
		f.person(f.sys, f.hnm.ID, "Ngô Thị Hoa") // the hospital's, not on Hà Nội's team
		c, err := f.s.PlanChoices(ctx, f.actor(f.hn, policy.RoleViewer), f.hn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Scenarios) != 1 || c.Scenarios[0].ID != k.scenario.ID || len(c.Teams) != 1 || len(c.Systems) != 1 ||
			len(c.Contacts) != 1 || c.Contacts[0].ID != k.contact.ID {
			t.Fatalf("choices: %+v", c)
		}
		var names []string
		for _, p := range c.People {
			names = append(names, p.Name)
		}
		slices.Sort(names)
		if strings.Join(names, ", ") != "Lê Văn Cường HN, Đỗ Minh Châu" {
			t.Fatalf("people: %v", names)
		}
		// The partner's person is accepted in a plan; the hospital's other person is not.
		in := k.input("Phương án")
		in.Options[0].PersonIDs = []int64{partner.ID}
		if _, err := f.s.CreatePlan(ctx, f.sys, f.hn.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.PlanChoices(ctx, f.actor(f.dn, policy.RoleAdmin), f.hn.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province's choices: %v", err)
		}
	})
}

// FuzzDiff: whatever the two texts, the comparison rebuilds both: the
// lines not added are the old text in order, the lines not removed the new
// one.
func FuzzDiff(f *testing.F) {
	f.Add("1. Phạm vi\n   Toàn bộ\n2. Kịch bản", "1. Phạm vi\n   Toàn bộ hệ thống\n2. Kịch bản\n2.1. Ransomware")
	f.Add("", "a")
	f.Add("a\na\na", "a")
	f.Fuzz(func(t *testing.T, a, b string) {
		old, new := strings.Split(a, "\n"), strings.Split(b, "\n")
		if len(old) > 200 || len(new) > 200 {
			return
		}
		var gotOld, gotNew []string
		for _, l := range Diff(old, new) {
			switch l.Op {
			case ' ':
				gotOld, gotNew = append(gotOld, l.Text), append(gotNew, l.Text)
			case '-':
				gotOld = append(gotOld, l.Text)
			case '+':
				gotNew = append(gotNew, l.Text)
			default:
				t.Fatalf("op %q", l.Op)
			}
		}
		if strings.Join(gotOld, "\n") != a || strings.Join(gotNew, "\n") != b || len(gotOld) != len(old) || len(gotNew) != len(new) {
			t.Fatalf("Diff(%q, %q) does not rebuild both texts", a, b)
		}
	})
}
