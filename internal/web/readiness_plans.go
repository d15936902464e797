package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// Response plans (phương án ứng cứu sự cố, issue 7 item 2): the list of an
// organisation's plans (and of every plan in scope), the form, a version
// with its history and what changed since the version before, the
// workflow buttons and the printable page in the national layout.

const (
	tplReadinessPlans     = "readiness_plans.html"
	tplReadinessPlan      = "readiness_plan.html"
	tplReadinessPlanForm  = "readiness_plan_form.html"
	tplReadinessPlanPrint = "readiness_plan_print.html"
)

type plansView struct {
	Base
	Org      *org.Org // nil: every plan in scope
	Plans    []readiness.Plan
	Now      time.Time
	CanWrite bool
	// Filters, as in the URL.
	Status, ReviewF string
	Statuses        []option
	Reviews         []option
}

// planReviews are the review filter's values ("none": nothing approved).
var planReviews = []string{readiness.ReviewOverdue, readiness.ReviewDueSoon, readiness.ReviewOK, "none"}

// filterPlans keeps the plans matching the URL's status (of the latest
// version) and review (of the version in force); unknown values filter
// nothing.
func filterPlans(r *http.Request, now time.Time, ps []readiness.Plan) ([]readiness.Plan, string, string) {
	q := r.URL.Query()
	status, review := q.Get("status"), q.Get("review")
	if !slices.Contains(readiness.PlanStatuses, status) {
		status = ""
	}
	if !slices.Contains(planReviews, review) {
		review = ""
	}
	out := ps[:0:0]
	for _, p := range ps {
		rv := p.Review(now)
		if rv == readiness.ReviewNone {
			rv = "none"
		}
		if (status == "" || p.Latest.Status == status) && (review == "" || rv == review) {
			out = append(out, p)
		}
	}
	return out, status, review
}

// Review is the review state of a plan now.
func (v plansView) Review(p readiness.Plan) string { return p.Review(v.Now) }

func (s *Server) handleReadinessPlans(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	v := plansView{Base: s.base(r, "readiness.plans.title"), Now: s.Now()}
	var orgID int64
	if r.PathValue("id") != "" {
		o, err := s.readinessOrg(r)
		if err != nil {
			s.renderError(w, r, err, "")
			return
		}
		v.Org, orgID = &o, o.ID
		v.CanWrite = policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(o.ID))
	}
	ps, err := s.Readiness.Plans(r.Context(), a, orgID)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.Plans, v.Status, v.ReviewF = filterPlans(r, v.Now, ps)
	v.Statuses = v.choices("readiness.plan.status.", readiness.PlanStatuses)
	v.Reviews = v.choices("readiness.plan.filter.", planReviews)
	if v.Org == nil {
		names := s.orgNamer(r)
		for i := range v.Plans {
			v.Plans[i].OrgName = names.label(v.Plans[i].OrgID)
		}
		// Every plan in scope: the ones to review first, then waiting, then the rest.
		rank := func(p readiness.Plan) int {
			switch {
			case p.Review(v.Now) == readiness.ReviewOverdue:
				return 0
			case p.Review(v.Now) == readiness.ReviewDueSoon:
				return 1
			case p.Latest.Status == readiness.PlanSubmitted:
				return 2
			}
			return 3
		}
		slices.SortStableFunc(v.Plans, func(x, y readiness.Plan) int { return rank(x) - rank(y) })
	}
	s.render(w, r, http.StatusOK, tplReadinessPlans, v)
}

// readinessPlanRows is the list of plans as a table (an organisation's, or
// every plan in scope), for CSV and XLSX.
func (s *Server) readinessPlanRows(r *http.Request) ([][]string, error) {
	a, l := whoFrom(r).Actor, whoFrom(r).Lang
	var orgID int64
	if r.PathValue("id") != "" {
		o, err := s.readinessOrg(r)
		if err != nil {
			return nil, err
		}
		orgID = o.ID
	}
	ps, err := s.Readiness.Plans(r.Context(), a, orgID)
	if err != nil {
		return nil, err
	}
	now, names := s.Now(), s.orgNamer(r)
	ps, _, _ = filterPlans(r, now, ps)
	out := [][]string{{t(l, "readiness.col.org"), t(l, "readiness.plan.f.title"), t(l, "readiness.plan.f.system_main"),
		t(l, "readiness.plan.col.latest"), t(l, "readiness.plan.col.status"), t(l, "readiness.plan.col.in_force"),
		t(l, "readiness.plan.col.decided"), t(l, "readiness.plan.col.review_due"), t(l, "readiness.plan.col.review"),
		t(l, "readiness.plan.f.budget_total"), "TLP"}}
	for _, p := range ps {
		row := []string{names.label(p.OrgID), p.Title, p.SystemName, strconv.Itoa(p.Latest.Version),
			t(l, "readiness.plan.status."+p.Latest.Status), "", "", "", "", "", string(policy.TLPAmber)}
		if v := p.InForce; v != nil {
			row[5], row[6], row[7] = strconv.Itoa(v.Version), i18n.FormatDate(v.DecidedAt), i18n.FormatDate(v.ReviewDue)
			row[8] = t(l, "readiness.plan.review."+p.Review(now))
			row[9] = strconv.FormatInt(v.Content.Budget(), 10)
		}
		out = append(out, row)
	}
	return out, nil
}

func (s *Server) handleReadinessPlansCSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-plans", "readiness.sheet.plans", s.readinessPlanRows)
}

func (s *Server) handleReadinessPlansXLSX(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "xlsx", "certnet-plans", "readiness.sheet.plans", s.readinessPlanRows)
}

// ---- the form

type planFormView struct {
	Base
	Org     org.Org
	Plan    *readiness.PlanDetail // nil: a new plan
	Choices readiness.PlanChoices
	In      readiness.PlanInput
	Budgets map[int64]string // as typed
	// NewVersion: saving starts a new version (the latest is approved).
	NewVersion bool
}

// Option is the typed option of a scenario and whether it is covered.
func (v planFormView) Option(sid int64) (readiness.OptionInput, bool) {
	for _, o := range v.In.Options {
		if o.ScenarioID == sid {
			return o, true
		}
	}
	return readiness.OptionInput{ScenarioID: sid}, false
}

// Covered reports whether the scenario is in the plan.
func (v planFormView) Covered(sid int64) bool { _, ok := v.Option(sid); return ok }

// Steps, Equipment and Budget are the typed values of a scenario's option.
func (v planFormView) Steps(sid int64) string     { o, _ := v.Option(sid); return o.Steps }
func (v planFormView) Equipment(sid int64) string { o, _ := v.Option(sid); return o.Equipment }
func (v planFormView) Budget(sid int64) string {
	if s, ok := v.Budgets[sid]; ok {
		return s
	}
	if o, ok := v.Option(sid); ok && o.BudgetVND != 0 {
		return strconv.FormatInt(o.BudgetVND, 10)
	}
	return ""
}

// HasPerson reports whether the person is named for the scenario.
func (v planFormView) HasPerson(sid, pid int64) bool {
	o, _ := v.Option(sid)
	return slices.Contains(o.PersonIDs, pid)
}

// HasSystem, HasContact and HasTeam report what the plan names.
func (v planFormView) HasSystem(id int64) bool  { return slices.Contains(v.In.SystemIDs, id) }
func (v planFormView) HasContact(id int64) bool { return slices.Contains(v.In.ContactIDs, id) }
func (v planFormView) HasTeam(id int64) bool    { return slices.Contains(v.In.TeamIDs, id) }

// ErrOf is the error of a scenario's field (steps_12…).
func (v planFormView) ErrOf(field string, sid int64) string {
	return v.Err(fmt.Sprintf("%s_%d", field, sid))
}

// Action is where the form posts.
func (v planFormView) Action() string {
	if v.Plan == nil {
		return fmt.Sprintf("/orgs/%d/readiness/plans", v.Org.ID)
	}
	return fmt.Sprintf("/orgs/%d/readiness/plans/%d", v.Org.ID, v.Plan.ID)
}

// planInputOf turns a version back into the form's input.
func planInputOf(p readiness.PlanDetail) readiness.PlanInput {
	c := p.Latest.Content
	in := readiness.PlanInput{Title: p.Title, SystemID: p.SystemID, Scope: c.Scope, Priorities: c.Priorities, Escalation: c.Escalation}
	for _, x := range c.Systems {
		in.SystemIDs = append(in.SystemIDs, x.ID)
	}
	for _, x := range c.Contacts {
		in.ContactIDs = append(in.ContactIDs, x.ID)
	}
	for _, x := range c.Teams {
		in.TeamIDs = append(in.TeamIDs, x.ID)
	}
	for _, o := range c.Options {
		oi := readiness.OptionInput{ScenarioID: o.ScenarioID, Steps: o.Steps, Equipment: o.Equipment, BudgetVND: o.BudgetVND}
		for _, p := range o.People {
			oi.PersonIDs = append(oi.PersonIDs, p.ID)
		}
		in.Options = append(in.Options, oi)
	}
	return in
}

// formIDs reads the ids of a multi-valued field; bad ones go on v.
func formIDs(r *http.Request, v *errs.Error, name string) []int64 {
	var out []int64
	for _, s := range r.PostForm[name] {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			v.Field(name, "readiness.err.choice")
			continue
		}
		out = append(out, n)
	}
	return out
}

// planInput reads the form; what cannot be read goes on v.
func planInput(r *http.Request, v *errs.Error) (readiness.PlanInput, map[int64]string) {
	in := readiness.PlanInput{Title: r.PostFormValue("title"), Scope: r.PostFormValue("scope"),
		Priorities: r.PostFormValue("priorities"), Escalation: r.PostFormValue("escalation")}
	if s := strings.TrimSpace(r.PostFormValue("system_id")); s != "" && s != "0" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			v.Field("system_id", "readiness.err.choice")
		}
		in.SystemID = n
	}
	in.SystemIDs = formIDs(r, v, "systems")
	in.ContactIDs = formIDs(r, v, "contacts")
	in.TeamIDs = formIDs(r, v, "teams")
	budgets := map[int64]string{}
	for _, sid := range formIDs(r, v, "cover") {
		f := fmt.Sprintf("_%d", sid)
		o := readiness.OptionInput{ScenarioID: sid, Steps: r.PostFormValue("steps" + f), Equipment: r.PostFormValue("equipment" + f),
			PersonIDs: formIDs(r, v, "people"+f)}
		raw := strings.TrimSpace(r.PostFormValue("budget" + f))
		budgets[sid] = raw
		if raw != "" {
			n, err := coord.ParseVND(raw)
			if err != nil {
				v.Field("budget"+f, "readiness.err.budget")
			}
			o.BudgetVND = n
		}
		in.Options = append(in.Options, o)
	}
	return in, budgets
}

func (s *Server) planFormView(r *http.Request, o org.Org, p *readiness.PlanDetail) (planFormView, error) {
	v := planFormView{Base: s.base(r, "readiness.plan.new"), Org: o, Plan: p}
	if p != nil {
		v.Title = p.Title
		v.In = planInputOf(*p)
		v.NewVersion = !p.Latest.Editable()
	}
	var err error
	v.Choices, err = s.Readiness.PlanChoices(r.Context(), whoFrom(r).Actor, o.ID)
	return v, err
}

func (s *Server) readinessPlan(r *http.Request) (org.Org, readiness.PlanDetail, error) {
	o, err := s.readinessOrg(r)
	if err != nil {
		return o, readiness.PlanDetail{}, err
	}
	pid, err := intParam(r, "pid")
	if err != nil {
		return o, readiness.PlanDetail{}, err
	}
	p, err := s.Readiness.Plan(r.Context(), whoFrom(r).Actor, pid)
	if err == nil && p.OrgID != o.ID {
		err = errs.NotFound("web: plan")
	}
	return o, p, err
}

func (s *Server) handleReadinessPlanNew(w http.ResponseWriter, r *http.Request) {
	o, err := s.readinessOrg(r)
	if err == nil {
		err = policy.Check(whoFrom(r).Actor, policy.ReadinessWrite, readiness.Resource(o.ID))
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.planFormView(r, o, nil)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessPlanForm, v)
}

func (s *Server) handleReadinessPlanEdit(w http.ResponseWriter, r *http.Request) {
	o, p, err := s.readinessPlan(r)
	if err == nil {
		err = policy.Check(whoFrom(r).Actor, policy.ReadinessWrite, readiness.Resource(o.ID))
	}
	if err == nil && p.Latest.Status == readiness.PlanSubmitted {
		err = errs.Conflict("web: plan", "readiness.err.plan_submitted")
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.planFormView(r, o, &p)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessPlanForm, v)
}

// planSave creates (p nil) or saves a plan from the form.
func (s *Server) planSave(w http.ResponseWriter, r *http.Request, o org.Org, p *readiness.PlanDetail) {
	a := whoFrom(r).Actor
	bad := errs.Invalid("web: plan")
	in, budgets := planInput(r, bad)
	err := bad.OrNil()
	var out readiness.PlanDetail
	switch {
	case err != nil:
		err = refusedFirst(a, policy.ReadinessWrite, o.ID, err)
	case p == nil:
		out, err = s.Readiness.CreatePlan(r.Context(), a, o.ID, in)
	default:
		out, err = s.Readiness.UpdatePlan(r.Context(), a, p.ID, in)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.planFormView(r, o, p)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.In, v.Budgets = in, budgets
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplReadinessPlanForm, v)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness/plans/%d", o.ID, out.ID), "readiness.flash.saved")
}

func (s *Server) handleReadinessPlanCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.readinessOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.planSave(w, r, o, nil)
}

func (s *Server) handleReadinessPlanUpdate(w http.ResponseWriter, r *http.Request) {
	o, p, err := s.readinessPlan(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.planSave(w, r, o, &p)
}

// ---- a plan

type planView struct {
	Base
	Org        org.Org
	Plan       readiness.PlanDetail
	Ver        readiness.PlanVersion // the version shown
	Diff       []readiness.DiffLine  // against the version before, when there is one
	DiffOf     int
	Now        time.Time
	CanWrite   bool
	CanApprove bool
	Form       string
	Values     map[string]string
}

// V is a value typed into the failed form.
func (v planView) V(name string) string { return v.Values[name] }

// StepErrors lists what a refused step said about the version's fields,
// each with the part of the plan it is about.
func (v planView) StepErrors() []string {
	var out []string
	for f, m := range v.Errors {
		label := f
		switch {
		case f == "scope" || f == "scenarios" || f == "contacts" || f == "priorities" || f == "escalation":
			label = v.T("readiness.plan.sec." + f)
		case strings.HasPrefix(f, "steps_"):
			label = v.T("readiness.plan.f.steps")
			if id, err := strconv.ParseInt(strings.TrimPrefix(f, "steps_"), 10, 64); err == nil {
				if o, ok := v.Ver.Content.Option(id); ok {
					label += " — " + o.Title
				}
			}
		}
		out = append(out, label+": "+m)
	}
	slices.Sort(out)
	return out
}

// Review is the plan's review state now.
func (v planView) Review() string { return v.Plan.Review(v.Now) }

// VND writes an amount of VND.
func (b Base) VND(n int64) string { return i18n.FormatInt(b.Lang, n) + " ₫" }

// planStatusIcon gives each status of a plan its icon (never colour alone).
var planStatusIcon = map[string]string{readiness.PlanDraft: "✎", readiness.PlanSubmitted: "⏳", readiness.PlanReturned: "↩",
	readiness.PlanApproved: "✓", readiness.PlanSuperseded: "⊘"}

// PlanStatus shows a plan version's status: icon and word, coloured.
func (b Base) PlanStatus(st string) template.HTML {
	class := ""
	switch st {
	case readiness.PlanApproved:
		class = " status-ok"
	case readiness.PlanReturned:
		class = " status-warn"
	}
	return template.HTML(`<span class="plan-st` + class + `">` + template.HTMLEscapeString(planStatusIcon[st]+" "+b.T("readiness.plan.status."+st)) + `</span>`)
}

// planLines renders a version as numbered lines in the page's language.
func planLines(b Base, c readiness.PlanContent) []string {
	return readiness.PlanLines(c, func(k string) string { return b.T(k) }, b.VND)
}

// version picks the version of ?v= (the latest when absent).
func pickVersion(r *http.Request, p readiness.PlanDetail) (readiness.PlanVersion, error) {
	q := r.URL.Query().Get("v")
	if q == "" {
		return p.Latest, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil {
		return readiness.PlanVersion{}, errs.NotFound("web: plan version")
	}
	ver, ok := p.Version(n)
	if !ok {
		return ver, errs.NotFound("web: plan version")
	}
	return ver, nil
}

func (s *Server) planView(r *http.Request, o org.Org, p readiness.PlanDetail) (planView, error) {
	a := whoFrom(r).Actor
	v := planView{Base: s.base(r, "readiness.plan.title"), Org: o, Plan: p, Now: s.Now()}
	v.Title = p.Title
	var err error
	if v.Ver, err = pickVersion(r, p); err != nil {
		return v, err
	}
	if prev, ok := p.Previous(v.Ver.Version); ok {
		v.Diff, v.DiffOf = readiness.Diff(planLines(v.Base, prev.Content), planLines(v.Base, v.Ver.Content)), prev.Version
	}
	res := readiness.Resource(o.ID)
	v.CanWrite = policy.Allowed(a, policy.ReadinessWrite, res)
	v.CanApprove = policy.Allowed(a, policy.ReadinessPlanApprove, res)
	return v, nil
}

func (s *Server) handleReadinessPlan(w http.ResponseWriter, r *http.Request) {
	o, p, err := s.readinessPlan(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.planView(r, o, p)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessPlan, v)
}

// planStep runs a workflow step from the plan's page.
func (s *Server) planStep(w http.ResponseWriter, r *http.Request, form, flash string,
	step func(a policy.Actor, p readiness.PlanDetail) error) {
	o, p, err := s.readinessPlan(r)
	if err == nil {
		err = step(whoFrom(r).Actor, p)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		// Reload: the plan as it is now, with the step's errors.
		if p.ID != 0 {
			if fresh, ferr := s.Readiness.Plan(r.Context(), whoFrom(r).Actor, p.ID); ferr == nil {
				p = fresh
			}
		}
		v, verr := s.planView(r, o, p)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.Form, v.Values = form, posted(r)
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplReadinessPlan, v)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness/plans/%d", o.ID, p.ID), flash)
}

func (s *Server) handleReadinessPlanSubmit(w http.ResponseWriter, r *http.Request) {
	s.planStep(w, r, "submit", "readiness.flash.plan_submitted", func(a policy.Actor, p readiness.PlanDetail) error {
		_, err := s.Readiness.SubmitPlan(r.Context(), a, p.ID)
		return err
	})
}

func (s *Server) handleReadinessPlanApprove(w http.ResponseWriter, r *http.Request) {
	s.planStep(w, r, "approve", "readiness.flash.plan_approved", func(a policy.Actor, p readiness.PlanDetail) error {
		_, err := s.Readiness.ApprovePlan(r.Context(), a, p.ID, r.PostFormValue("approver_title"))
		return err
	})
}

func (s *Server) handleReadinessPlanReturn(w http.ResponseWriter, r *http.Request) {
	s.planStep(w, r, "return", "readiness.flash.plan_returned", func(a policy.Actor, p readiness.PlanDetail) error {
		_, err := s.Readiness.ReturnPlan(r.Context(), a, p.ID, r.PostFormValue("reason"))
		return err
	})
}

func (s *Server) handleReadinessPlanDelete(w http.ResponseWriter, r *http.Request) {
	o, p, err := s.readinessPlan(r)
	if err == nil {
		err = s.Readiness.DeletePlan(r.Context(), whoFrom(r).Actor, p.ID)
	}
	if err != nil {
		if errs.Is(err, errs.KindConflict) {
			s.planStep(w, r, "delete", "", func(policy.Actor, readiness.PlanDetail) error { return err })
			return
		}
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness/plans", o.ID), "readiness.flash.removed")
}

// ---- print

type planPrintView struct {
	planView
	ApproverOrg string
	PrintDate   time.Time // the approval's, or today for a version not approved
}

// Upper writes the issuing bodies' names in capitals, as the header does.
func (planPrintView) Upper(s string) string { return strings.ToUpper(s) }

// DateLong writes a date as the place-and-date line does ("ngày 26 tháng 11 năm 2026").
func (v planPrintView) DateLong(t time.Time) string {
	l := t.In(readiness.Local)
	return v.T("readiness.plan.date_long", l.Day(), int(l.Month()), l.Year())
}

func (s *Server) handleReadinessPlanPrint(w http.ResponseWriter, r *http.Request) {
	o, p, err := s.readinessPlan(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	pv, err := s.planView(r, o, p)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := planPrintView{planView: pv, PrintDate: pv.Now}
	if !pv.Ver.DecidedAt.IsZero() && pv.Ver.Status != readiness.PlanReturned {
		v.PrintDate = pv.Ver.DecidedAt
	}
	if pv.Ver.ApproverOrgID != 0 {
		v.ApproverOrg = s.orgNamer(r).name(pv.Ver.ApproverOrgID)
	}
	s.render(w, r, http.StatusOK, tplReadinessPlanPrint, v)
}

// ---- what needs me now

func init() { addNeeds(planNeeds) }

// planNeeds: plans of the user's organisation and of those directly under
// it (the ones whose submissions reach the user) that are due for their
// yearly review (or past it) and the user keeps, and submitted plans the
// user may approve. A national administrator is not shown every plan of the
// network: the plans list has them.
func planNeeds(s *Server, r *http.Request, wh *who) []need {
	if s.Readiness == nil || !wh.LoggedIn {
		return nil
	}
	ctx := r.Context()
	a := wh.Actor
	var out []need
	names := s.orgNamer(r)
	near := func(p readiness.Plan) bool { return p.OrgID == wh.User.OrgID || p.ParentID == wh.User.OrgID }
	if ps, err := s.Readiness.PlansToReview(ctx, a); err == nil {
		now := s.Now()
		for _, p := range ps {
			if !near(p) || !policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(p.OrgID)) {
				continue
			}
			key := "readiness.needs.plan_review_due_soon"
			if p.Review(now) == readiness.ReviewOverdue {
				key = "readiness.needs.plan_review_overdue"
			}
			out = append(out, need{Text: t(wh.Lang, key, p.Title, names.label(p.OrgID)),
				Href: fmt.Sprintf("/orgs/%d/readiness/plans/%d", p.OrgID, p.ID), Due: p.InForce.ReviewDue})
		}
	}
	if ps, err := s.Readiness.PlansAwaiting(ctx, a); err == nil {
		for _, p := range ps {
			if !near(p) {
				continue
			}
			out = append(out, need{Text: t(wh.Lang, "readiness.needs.plan_approve", p.Title, names.label(p.OrgID)),
				Href: fmt.Sprintf("/orgs/%d/readiness/plans/%d", p.OrgID, p.ID)})
		}
	}
	return out
}
