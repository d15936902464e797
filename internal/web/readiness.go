package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// Readiness pages (issue 7): an organisation's response teams, people,
// agreements and QĐ 1014 training shares; a team with its members, rota
// coverage and SIM3 self-assessments; the network's SIM3 maturity.

const (
	tplReadinessOrg      = "readiness_org.html"
	tplReadinessTeam     = "readiness_team.html"
	tplReadinessSim3     = "readiness_sim3.html"
	tplReadinessMaturity = "readiness_maturity.html"
)

type readinessOrgView struct {
	Base
	Org        org.Org
	Teams      []readiness.Team
	People     []readiness.Person
	Agreements []readiness.Agreement
	Targets    readiness.Targets1014
	Partners   []org.Org
	Now        time.Time
	CanWrite   bool
	Form       string // which form the errors are of
	Values     map[string]string
	IOCRoles   []option
	MinExperts int
}

// V is a value typed into the failed form.
func (v readinessOrgView) V(name string) string { return v.Values[name] }

func (s *Server) readinessOrg(r *http.Request) (org.Org, error) {
	id, err := intParam(r, "id")
	if err != nil {
		return org.Org{}, err
	}
	return s.Orgs.Get(r.Context(), whoFrom(r).Actor, id)
}

func (s *Server) readinessOrgView(r *http.Request, o org.Org) (readinessOrgView, error) {
	a := whoFrom(r).Actor
	ctx := r.Context()
	v := readinessOrgView{Base: s.base(r, "readiness.org.title"), Org: o, Now: s.Now(),
		MinExperts: readiness.MinExperts}
	var err error
	if v.Teams, err = s.Readiness.Teams(ctx, a, o.ID); err != nil {
		return v, err
	}
	if v.People, err = s.Readiness.People(ctx, a, o.ID); err != nil {
		return v, err
	}
	if v.Agreements, err = s.Readiness.Agreements(ctx, a, o.ID); err != nil {
		return v, err
	}
	v.Targets = readiness.Targets(v.People)
	names := s.orgNamer(r)
	for i := range v.Agreements {
		v.Agreements[i].PartnerName = names.label(v.Agreements[i].PartnerOrgID)
	}
	v.CanWrite = policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(o.ID))
	v.IOCRoles = v.choices("readiness.ioc.", readiness.IOCRoles)
	return v, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (s *Server) handleReadinessOrg(w http.ResponseWriter, r *http.Request) {
	o, err := s.readinessOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.readinessOrgView(r, o)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessOrg, v)
}

// readinessOrgFailed shows the organisation page again with the form's errors.
func (s *Server) readinessOrgFailed(w http.ResponseWriter, r *http.Request, o org.Org, form string, err error) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.readinessOrgView(r, o)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Form = form
	v.Values = posted(r)
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplReadinessOrg, v)
}

// posted is the form as typed, to show again with its errors.
func posted(r *http.Request) map[string]string {
	out := make(map[string]string, len(r.PostForm))
	for k := range r.PostForm {
		out[k] = r.PostFormValue(k)
	}
	return out
}

// refusedFirst is the answer to a readiness form whose input could not be
// read: an actor who may not do act on the organisation's readiness is
// refused rather than told about the fields; others get bad.
func refusedFirst(a policy.Actor, act policy.Action, orgID int64, bad error) error {
	if err := policy.Check(a, act, readiness.Resource(orgID)); err != nil {
		return err
	}
	return bad
}

// readinessDate parses a date field (YYYY-MM-DD); a bad one goes on v.
func readinessDate(r *http.Request, v *errs.Error, name string) time.Time {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Field(name, "readiness.err.date")
	}
	return t
}

// readinessLocalTime parses a datetime-local field in Vietnam time.
func readinessLocalTime(r *http.Request, v *errs.Error, name string) time.Time {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", s, readiness.Local)
	if err != nil {
		v.Field(name, "readiness.err.date")
	}
	return t
}

func readinessID(r *http.Request, v *errs.Error, name string) int64 {
	s := strings.TrimSpace(r.PostFormValue(name))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		v.Field(name, "readiness.err.required")
	}
	return n
}

func (s *Server) handleReadinessTeamCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.readinessOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	t, err := s.Readiness.CreateTeam(r.Context(), whoFrom(r).Actor, readiness.TeamInput{OrgID: o.ID,
		Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), Phone: r.PostFormValue("phone"),
		Email: r.PostFormValue("email")})
	if err != nil {
		s.readinessOrgFailed(w, r, o, "team", err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness/teams/%d", o.ID, t.ID), "readiness.flash.saved")
}

func (s *Server) handleReadinessPersonCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.readinessOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	_, err = s.Readiness.CreatePerson(r.Context(), whoFrom(r).Actor, readiness.PersonInput{OrgID: o.ID,
		FullName: r.PostFormValue("full_name"), Title: r.PostFormValue("title"), Email: r.PostFormValue("email"),
		Phone: r.PostFormValue("phone"), Skills: r.PostFormValue("skills"), IOCRole: r.PostFormValue("ioc_role")})
	if err != nil {
		s.readinessOrgFailed(w, r, o, "person", err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness#people", o.ID), "readiness.flash.saved")
}

func (s *Server) handleReadinessAgreementCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.readinessOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := errs.Invalid("web: agreement")
	in := readiness.AgreementInput{OrgID: o.ID, DocRef: r.PostFormValue("doc_ref"), Note: r.PostFormValue("note"),
		SignedOn: readinessDate(r, v, "signed_on"), ValidUntil: readinessDate(r, v, "valid_until")}
	in.PartnerOrgID = readinessID(r, v, "partner_org_id")
	if err := v.OrNil(); err != nil {
		s.readinessOrgFailed(w, r, o, "agreement", refusedFirst(whoFrom(r).Actor, policy.ReadinessWrite, o.ID, err))
		return
	}
	if _, err := s.Readiness.AddAgreement(r.Context(), whoFrom(r).Actor, in); err != nil {
		s.readinessOrgFailed(w, r, o, "agreement", err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness#agreements", o.ID), "readiness.flash.saved")
}

// ---- exports

func (s *Server) readinessPeopleRows(r *http.Request) ([][]string, error) {
	o, err := s.readinessOrg(r)
	if err != nil {
		return nil, err
	}
	l := whoFrom(r).Lang
	people, err := s.Readiness.People(r.Context(), whoFrom(r).Actor, o.ID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := [][]string{{t(l, "readiness.col.name"), t(l, "readiness.col.title"), t(l, "readiness.col.email"),
		t(l, "readiness.col.phone"), t(l, "readiness.col.skills"), t(l, "readiness.col.ioc_role"),
		t(l, "readiness.col.certificates"), t(l, "readiness.col.trainings"), t(l, "readiness.col.qualified")}}
	for _, p := range people {
		var certs, courses []string
		for _, c := range p.Certificates {
			exp := ""
			if !c.ExpiresOn.IsZero() {
				exp = " → " + i18n.FormatDate(c.ExpiresOn)
			}
			certs = append(certs, c.Name+exp)
		}
		for _, c := range p.Trainings {
			courses = append(courses, c.Course+" ("+t(l, "readiness.level."+c.Level)+", "+i18n.FormatDate(c.FinishedOn)+")")
		}
		q := t(l, "readiness.no")
		if p.Qualified(now) {
			q = t(l, "readiness.yes")
		}
		out = append(out, []string{p.FullName, p.Title, p.Email, p.Phone, p.Skills, t(l, "readiness.ioc."+orNone(p.IOCRole)),
			strings.Join(certs, "; "), strings.Join(courses, "; "), q})
	}
	return out, nil
}

func (s *Server) handleReadinessPeopleCSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-people", "readiness.sheet.people", s.readinessPeopleRows)
}

func (s *Server) handleReadinessPeopleXLSX(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "xlsx", "certnet-people", "readiness.sheet.people", s.readinessPeopleRows)
}

// ---- a team

type readinessTeamView struct {
	Base
	Org       org.Org
	Team      readiness.TeamDetail
	People    []readiness.Person // of the organisation, to add
	Coverage  readiness.Coverage
	Week      string
	PrevWeek  string
	NextWeek  string
	Latest    *readiness.Sim3Assessment
	CanWrite  bool
	CanAssess bool
	Roles     []option
	Levels    []option
	Form      string
	Values    map[string]string
	Now       time.Time
}

// V is a value typed into the failed form.
func (v readinessTeamView) V(name string) string { return v.Values[name] }

// Hours shows a gap's span in local time.
func (v readinessTeamView) Clock(t time.Time) string { return t.In(readiness.Local).Format("15:04") }

// Weekday names a local day.
func (v readinessTeamView) Weekday(t time.Time) string {
	return v.T(fmt.Sprintf("readiness.weekday.%d", int(t.In(readiness.Local).Weekday())))
}

func (s *Server) readinessTeam(r *http.Request) (org.Org, readiness.TeamDetail, error) {
	o, err := s.readinessOrg(r)
	if err != nil {
		return o, readiness.TeamDetail{}, err
	}
	tid, err := intParam(r, "tid")
	if err != nil {
		return o, readiness.TeamDetail{}, err
	}
	tm, err := s.Readiness.Team(r.Context(), whoFrom(r).Actor, tid)
	if err != nil {
		return o, tm, err
	}
	if tm.OrgID != o.ID {
		return o, tm, errs.NotFound("web: team")
	}
	return o, tm, nil
}

func (s *Server) readinessTeamView(r *http.Request, o org.Org, tm readiness.TeamDetail) (readinessTeamView, error) {
	a := whoFrom(r).Actor
	ctx := r.Context()
	now := s.Now()
	v := readinessTeamView{Base: s.base(r, "readiness.team.title"), Org: o, Team: tm, Now: now}
	v.Title = tm.Name
	week := now
	if q := r.URL.Query().Get("week"); q != "" {
		if t, err := time.ParseInLocation(time.DateOnly, q, readiness.Local); err == nil && t.Year() > 1990 && t.Year() < 2200 {
			week = t
		}
	}
	ws := readiness.WeekStart(week)
	v.Week, v.PrevWeek, v.NextWeek = ws.Format(time.DateOnly), ws.AddDate(0, 0, -7).Format(time.DateOnly), ws.AddDate(0, 0, 7).Format(time.DateOnly)
	var err error
	if v.Coverage, err = s.Readiness.Coverage(ctx, a, tm.ID, ws); err != nil {
		return v, err
	}
	res := readiness.Resource(o.ID)
	v.CanWrite = policy.Allowed(a, policy.ReadinessWrite, res)
	v.CanAssess = policy.Allowed(a, policy.ReadinessAssess, res)
	if v.CanWrite {
		// People of the organisation and of partners under agreements.
		if v.People, err = s.Readiness.PeopleBrief(ctx, a, 0); err != nil {
			return v, err
		}
	}
	// Organisations are named as the actor may see them.
	names := s.orgNamer(r)
	for i := range v.People {
		v.People[i].OrgName = names.label(v.People[i].OrgID)
	}
	for i := range v.Team.MemberList {
		v.Team.MemberList[i].OrgName = names.label(v.Team.MemberList[i].OrgID)
	}
	hist, err := s.Readiness.Assessments(ctx, a, tm.ID)
	if err != nil {
		return v, err
	}
	if len(hist) > 0 {
		v.Latest = &hist[0]
	}
	v.Roles = v.choices("readiness.role.", readiness.MemberRoles)
	v.Levels = v.choices("readiness.level.", readiness.TrainingLevels)
	return v, nil
}

func (s *Server) handleReadinessTeam(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.readinessTeamView(r, o, tm)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessTeam, v)
}

func (s *Server) teamFormFailed(w http.ResponseWriter, r *http.Request, o org.Org, tm readiness.TeamDetail, form string, err error) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.readinessTeamView(r, o, tm)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Form = form
	v.Values = posted(r)
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplReadinessTeam, v)
}

func teamPath(o org.Org, tm readiness.TeamDetail) string {
	return fmt.Sprintf("/orgs/%d/readiness/teams/%d", o.ID, tm.ID)
}

func (s *Server) handleReadinessTeamUpdate(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	_, err = s.Readiness.UpdateTeam(r.Context(), whoFrom(r).Actor, tm.ID, readiness.TeamInput{Name: r.PostFormValue("name"),
		Description: r.PostFormValue("description"), Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email")})
	if err != nil {
		s.teamFormFailed(w, r, o, tm, "team", err)
		return
	}
	s.redirect(w, r, teamPath(o, tm), "readiness.flash.saved")
}

func (s *Server) handleReadinessMemberAdd(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	pid, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("person_id")), 10, 64)
	if _, err := s.Readiness.AddMember(r.Context(), whoFrom(r).Actor, tm.ID, pid, r.PostFormValue("role")); err != nil {
		s.teamFormFailed(w, r, o, tm, "member", err)
		return
	}
	s.redirect(w, r, teamPath(o, tm)+"#members", "readiness.flash.saved")
}

func (s *Server) handleReadinessMemberRemove(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	pid, err := intParam(r, "pid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if err := s.Readiness.RemoveMember(r.Context(), whoFrom(r).Actor, tm.ID, pid); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, teamPath(o, tm)+"#members", "readiness.flash.removed")
}

func (s *Server) handleReadinessShiftAdd(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	v := errs.Invalid("web: shift")
	in := readiness.ShiftInput{StartsAt: readinessLocalTime(r, v, "starts_at"), EndsAt: readinessLocalTime(r, v, "ends_at")}
	in.PersonID, _ = strconv.ParseInt(strings.TrimSpace(r.PostFormValue("person_id")), 10, 64)
	if err := v.OrNil(); err != nil {
		s.teamFormFailed(w, r, o, tm, "shift", refusedFirst(a, policy.ReadinessWrite, o.ID, err))
		return
	}
	sh, err := s.Readiness.AddShift(r.Context(), a, tm.ID, in)
	if err != nil {
		s.teamFormFailed(w, r, o, tm, "shift", err)
		return
	}
	s.redirect(w, r, teamPath(o, tm)+"?week="+readiness.WeekStart(sh.StartsAt).Format(time.DateOnly)+"#rota", "readiness.flash.saved")
}

func (s *Server) handleReadinessShiftDelete(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	sid, err := intParam(r, "sid")
	if err == nil {
		err = s.Readiness.DeleteShift(r.Context(), whoFrom(r).Actor, tm.ID, sid)
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	back := teamPath(o, tm)
	if week := r.PostFormValue("week"); week != "" {
		if _, err := time.Parse(time.DateOnly, week); err == nil {
			back += "?week=" + week
		}
	}
	s.redirect(w, r, back+"#rota", "readiness.flash.shift_deleted")
}

// personOfTeam reads the person of the path, who must be on the team.
func personOnTeam(tm readiness.TeamDetail, pid int64) bool {
	for _, m := range tm.MemberList {
		if m.ID == pid {
			return true
		}
	}
	return false
}

func (s *Server) handleReadinessCertAdd(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	pid, err := intParam(r, "pid")
	if err == nil && !personOnTeam(tm, pid) {
		err = errs.NotFound("web: person")
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	v := errs.Invalid("web: certificate")
	in := readiness.CertificateInput{Name: r.PostFormValue("name"), Issuer: r.PostFormValue("issuer"),
		ObtainedOn: readinessDate(r, v, "obtained_on"), ExpiresOn: readinessDate(r, v, "expires_on")}
	if err := v.OrNil(); err != nil {
		s.teamFormFailed(w, r, o, tm, fmt.Sprintf("cert-%d", pid), refusedFirst(a, policy.ReadinessWrite, o.ID, err))
		return
	}
	if _, err := s.Readiness.AddCertificate(r.Context(), a, pid, in); err != nil {
		s.teamFormFailed(w, r, o, tm, fmt.Sprintf("cert-%d", pid), err)
		return
	}
	s.redirect(w, r, teamPath(o, tm)+"#members", "readiness.flash.saved")
}

func (s *Server) handleReadinessTrainingAdd(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	pid, err := intParam(r, "pid")
	if err == nil && !personOnTeam(tm, pid) {
		err = errs.NotFound("web: person")
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	v := errs.Invalid("web: training")
	in := readiness.TrainingInput{Course: r.PostFormValue("course"), Provider: r.PostFormValue("provider"),
		Level: r.PostFormValue("level"), FinishedOn: readinessDate(r, v, "finished_on")}
	if h := strings.TrimSpace(r.PostFormValue("hours")); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil {
			v.Field("hours", "readiness.err.hours")
		}
		in.Hours = n
	}
	if err := v.OrNil(); err != nil {
		s.teamFormFailed(w, r, o, tm, fmt.Sprintf("training-%d", pid), refusedFirst(a, policy.ReadinessWrite, o.ID, err))
		return
	}
	if _, err := s.Readiness.AddTraining(r.Context(), a, pid, in); err != nil {
		s.teamFormFailed(w, r, o, tm, fmt.Sprintf("training-%d", pid), err)
		return
	}
	s.redirect(w, r, teamPath(o, tm)+"#members", "readiness.flash.saved")
}

// ---- SIM3

type sim3Row struct {
	Param    readiness.Sim3Param
	Label    string
	Level    int
	Evidence string
	Err      string
}

type sim3Cat struct {
	Code  string
	Label string
	Rows  []sim3Row
}

type readinessSim3View struct {
	Base
	Org        org.Org
	Team       readiness.TeamDetail
	History    []readiness.Sim3Assessment
	Cats       []sim3Cat
	AssessedOn string
	Assessor   string
	Note       string
	CanAssess  bool
	Levels     []int
	Chart      template.HTML
}

// Avg shows an average level with one decimal.
func (v readinessSim3View) Avg(x float64) string { return fmtAvg(v.Lang, x) }

func fmtAvg(l i18n.Lang, x float64) string {
	s := strconv.FormatFloat(math.Round(x*10)/10, 'f', 1, 64)
	if l != i18n.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func (s *Server) readinessSim3View(r *http.Request, o org.Org, tm readiness.TeamDetail) (readinessSim3View, error) {
	a := whoFrom(r).Actor
	v := readinessSim3View{Base: s.base(r, "readiness.sim3.title"), Org: o, Team: tm, Levels: []int{0, 1, 2, 3, 4},
		AssessedOn: s.Now().In(readiness.Local).Format(time.DateOnly)}
	var err error
	if v.History, err = s.Readiness.Assessments(r.Context(), a, tm.ID); err != nil {
		return v, err
	}
	v.CanAssess = policy.Allowed(a, policy.ReadinessAssess, readiness.Resource(o.ID))
	prev := map[string]readiness.Sim3Score{}
	if len(v.History) > 0 {
		for _, sc := range v.History[0].Scores {
			prev[sc.Param] = sc
		}
		var bars []Bar
		for _, c := range readiness.Sim3Categories {
			bars = append(bars, Bar{Label: v.T("readiness.sim3.cat." + c), Value: int(math.Round(v.History[0].CategoryAverage(c) * 25))})
		}
		v.Chart = barChart(v.T("readiness.sim3.chart_team"), bars)
	}
	for _, c := range readiness.Sim3Categories {
		cat := sim3Cat{Code: c, Label: v.T("readiness.sim3.cat." + c)}
		for _, p := range readiness.Sim3Params {
			if p.Category == c {
				cat.Rows = append(cat.Rows, sim3Row{Param: p, Label: v.T("readiness.sim3.p." + p.ID), Level: prev[p.ID].Level, Evidence: prev[p.ID].Evidence})
			}
		}
		v.Cats = append(v.Cats, cat)
	}
	return v, nil
}

func (s *Server) handleReadinessSim3(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.readinessSim3View(r, o, tm)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessSim3, v)
}

func (s *Server) handleReadinessSim3Save(w http.ResponseWriter, r *http.Request) {
	o, tm, err := s.readinessTeam(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	bad := errs.Invalid("web: sim3")
	in := readiness.Sim3Input{AssessedOn: readinessDate(r, bad, "assessed_on"), Assessor: r.PostFormValue("assessor"),
		Note: r.PostFormValue("note"), Scores: map[string]readiness.Sim3Score{}}
	for _, p := range readiness.Sim3Params {
		raw := strings.TrimSpace(r.PostFormValue("level_" + p.ID))
		if raw == "" {
			continue // the service names it as missing
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			bad.Field("level_"+p.ID, "readiness.err.sim3_level", readiness.Sim3MaxLevel)
			n = -1
		}
		in.Scores[p.ID] = readiness.Sim3Score{Level: n, Evidence: r.PostFormValue("evidence_" + p.ID)}
	}
	err = bad.OrNil()
	if err == nil {
		_, err = s.Readiness.Assess(r.Context(), a, tm.ID, in)
	} else {
		err = refusedFirst(a, policy.ReadinessAssess, o.ID, err)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.readinessSim3View(r, o, tm)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		v.AssessedOn, v.Assessor, v.Note = r.PostFormValue("assessed_on"), r.PostFormValue("assessor"), r.PostFormValue("note")
		for i := range v.Cats {
			for j := range v.Cats[i].Rows {
				row := &v.Cats[i].Rows[j]
				row.Level, _ = strconv.Atoi(r.PostFormValue("level_" + row.Param.ID))
				row.Evidence = r.PostFormValue("evidence_" + row.Param.ID)
				row.Err = v.Err("level_" + row.Param.ID)
				if e := v.Err("evidence_" + row.Param.ID); e != "" {
					row.Err = e
				}
			}
		}
		s.render(w, r, formStatus(err), tplReadinessSim3, v)
		return
	}
	s.redirect(w, r, teamPath(o, tm)+"/sim3", "readiness.flash.assessed")
}

func (s *Server) readinessSim3Rows(r *http.Request) ([][]string, error) {
	_, tm, err := s.readinessTeam(r)
	if err != nil {
		return nil, err
	}
	l := whoFrom(r).Lang
	hist, err := s.Readiness.Assessments(r.Context(), whoFrom(r).Actor, tm.ID)
	if err != nil {
		return nil, err
	}
	out := [][]string{{t(l, "readiness.col.team"), t(l, "readiness.col.assessed_on"), t(l, "readiness.col.assessor"),
		t(l, "readiness.col.param"), t(l, "readiness.col.param_name"), t(l, "readiness.col.level"), t(l, "readiness.col.evidence")}}
	for _, x := range hist {
		for _, sc := range x.Scores {
			out = append(out, []string{tm.Name, x.AssessedOn.Format(time.DateOnly), x.Assessor, sc.Param,
				t(l, "readiness.sim3.p."+sc.Param), strconv.Itoa(sc.Level), sc.Evidence})
		}
	}
	return out, nil
}

func (s *Server) handleReadinessSim3CSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-sim3", "readiness.sheet.sim3", s.readinessSim3Rows)
}

func (s *Server) handleReadinessSim3XLSX(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "xlsx", "certnet-sim3", "readiness.sheet.sim3", s.readinessSim3Rows)
}

// ---- the network's maturity

type maturityView struct {
	Base
	M             readiness.Maturity
	ProvinceChart template.HTML
	SectorChart   template.HTML
}

// Avg shows an average level with one decimal.
func (v maturityView) Avg(x float64) string { return fmtAvg(v.Lang, x) }

// SectorLabel names a sector.
func (v maturityView) SectorLabel(s string) string {
	if s == "" {
		return v.T("readiness.maturity.no_sector")
	}
	return s
}

func (s *Server) handleReadinessMaturity(w http.ResponseWriter, r *http.Request) {
	m, err := s.Readiness.Maturity(r.Context(), whoFrom(r).Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := maturityView{Base: s.base(r, "readiness.maturity.title"), M: m}
	bars := func(rows []readiness.MaturityRow, label func(readiness.MaturityRow) string) []Bar {
		var out []Bar
		for _, x := range rows {
			if x.Assessed > 0 {
				out = append(out, Bar{Label: label(x) + " (" + fmtAvg(v.Lang, x.Average) + ")", Value: int(math.Round(x.Average * 25))})
			}
		}
		return out
	}
	v.ProvinceChart = barChart(v.T("readiness.maturity.by_province"), bars(m.ByProvince, func(x readiness.MaturityRow) string {
		if x.Label == "" {
			return v.T("readiness.maturity.no_province")
		}
		return x.Label
	}))
	v.SectorChart = barChart(v.T("readiness.maturity.by_sector"), bars(m.BySector, func(x readiness.MaturityRow) string { return v.SectorLabel(x.Key) }))
	s.render(w, r, http.StatusOK, tplReadinessMaturity, v)
}

func init() { addNeeds(readinessNeeds) }

// readinessNeeds: certificates of the people the user keeps that expire
// within 30 days, and the user's organisation's teams short of five
// qualified experts.
func readinessNeeds(s *Server, r *http.Request, wh *who) []need {
	if s.Readiness == nil || !wh.LoggedIn {
		return nil
	}
	ctx := r.Context()
	a := wh.Actor
	var out []need
	xs, err := s.Readiness.Expiring(ctx, a)
	if err == nil {
		for _, x := range xs {
			if !policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(x.OrgID)) {
				continue
			}
			out = append(out, need{Text: t(wh.Lang, "readiness.needs.cert_expiring", x.Name, x.PersonName),
				Href: fmt.Sprintf("/orgs/%d/readiness#people", x.OrgID), Due: x.ExpiresOn})
		}
	}
	if policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(wh.User.OrgID)) {
		if teams, err := s.Readiness.Teams(ctx, a, wh.User.OrgID); err == nil {
			for _, tm := range teams {
				if !tm.MeetsExperts() {
					out = append(out, need{Text: t(wh.Lang, "readiness.needs.experts_short", tm.Name, tm.Qualified, readiness.MinExperts),
						Href: fmt.Sprintf("/orgs/%d/readiness/teams/%d", tm.OrgID, tm.ID)})
				}
			}
		}
	}
	return out
}
