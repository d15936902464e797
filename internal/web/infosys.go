package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/infosys"
	"certnet/internal/org"
	"certnet/internal/policy"
)

const (
	tplInfosys        = "infosys.html"
	tplInfosysSystem  = "infosys_system.html"
	tplInfosysDossier = "infosys_dossier.html"
)

// infosysSvc is the information-system service the app built.
func (s *Server) infosysSvc() (*infosys.Service, error) {
	if s.Infosys == nil {
		return nil, errs.Internal("web: infosys", fmt.Errorf("not configured"))
	}
	return s.Infosys, nil
}

type systemForm struct {
	OwnerOrgID, OperatorOrgID, Name, Purpose, Sector, IOC, DataKind string
	PersonalCount, PSL, Users, Addresses, Domains                   string
	Providers, Components                                           string
	NationalCritical, PlanDeployed                                  bool
}

type infosysRow struct {
	infosys.System
	OwnerName string
}

type infosysView struct {
	Base
	Rows    []infosysRow
	Total   int
	Q       string
	KPIs    []infosys.KPI
	By      string
	Bys     []string
	Form    systemForm
	CanAdd  bool
	Sectors []option
	IOCs    []option
	Data    []option
}

func (s *Server) infosysView(r *http.Request) (infosysView, error) {
	wh := whoFrom(r)
	v := infosysView{Base: s.base(r, "infosys.title"), Q: strings.TrimSpace(r.URL.Query().Get("q")), By: r.URL.Query().Get("by")}
	svc, err := s.infosysSvc()
	if err != nil {
		return v, err
	}
	if v.By == "" {
		v.By = infosys.ByProvince
	}
	xs, total, err := svc.List(r.Context(), wh.Actor, infosys.Filter{Level: -1, Query: v.Q, Limit: 200})
	if err != nil {
		return v, err
	}
	names := s.orgNamer(r)
	for _, x := range xs {
		v.Rows = append(v.Rows, infosysRow{System: x, OwnerName: names.label(x.OwnerOrgID)})
	}
	v.Total = total
	if v.KPIs, err = svc.KPIs(r.Context(), wh.Actor, v.By); err != nil {
		return v, err
	}
	if v.By == infosys.ByOrg {
		for i := range v.KPIs {
			if id, err := strconv.ParseInt(v.KPIs[i].Key, 10, 64); err == nil {
				v.KPIs[i].Key = names.label(id)
			}
		}
	}
	v.Bys = infosys.Groupings
	v.CanAdd = policy.Allowed(wh.Actor, policy.InfosysWrite, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPAmber})
	v.Form = systemForm{OwnerOrgID: itoa(wh.User.OrgID), DataKind: infosys.DataPublic}
	v.choices()
	return v, nil
}

func (v *infosysView) choices() {
	v.Sectors = []option{{Value: "", Label: "—"}}
	for _, sct := range org.Sectors {
		v.Sectors = append(v.Sectors, option{Value: string(sct), Label: v.T(sct.LabelKey())})
	}
	for _, k := range infosys.IOCs {
		key := k
		if key == infosys.IOCNone {
			key = "none"
		}
		v.IOCs = append(v.IOCs, option{Value: k, Label: v.T("infosys.ioc." + key)})
	}
	v.Data = v.Base.choices("infosys.data.", infosys.DataKinds)
}

func (s *Server) handleInfosys(w http.ResponseWriter, r *http.Request) {
	v, err := s.infosysView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosys, v)
}

func infosysNum(bad *errs.Error, field, s string) int64 {
	s = strings.TrimSpace(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		bad.Field(field, "infosys.err.number")
	}
	return n
}

func systemInput(r *http.Request, bad *errs.Error) (infosys.SystemInput, systemForm) {
	f := systemForm{OwnerOrgID: r.PostFormValue("owner_org_id"), OperatorOrgID: r.PostFormValue("operator_org_id"),
		Name: r.PostFormValue("name"), Purpose: r.PostFormValue("purpose"), Sector: r.PostFormValue("sector"), IOC: r.PostFormValue("ioc"),
		DataKind: r.PostFormValue("data_kind"), PersonalCount: r.PostFormValue("personal_count"), PSL: r.PostFormValue("public_service_level"),
		Users: r.PostFormValue("users"), Addresses: r.PostFormValue("addresses"), Domains: r.PostFormValue("domains"),
		Providers: r.PostFormValue("providers"), Components: r.PostFormValue("components"),
		NationalCritical: r.PostFormValue("national_critical") == "1", PlanDeployed: r.PostFormValue("plan_deployed") == "1"}
	in := infosys.SystemInput{OwnerOrgID: infosysNum(bad, "owner_org_id", f.OwnerOrgID), OperatorOrgID: infosysNum(bad, "operator_org_id", f.OperatorOrgID),
		Name: f.Name, Purpose: f.Purpose, Sector: f.Sector, IOC: f.IOC, DataKind: f.DataKind,
		PersonalCount: infosysNum(bad, "personal_count", f.PersonalCount), PublicServiceLevel: int(infosysNum(bad, "public_service_level", f.PSL)),
		Users: infosysNum(bad, "users", f.Users), Addresses: infosys.SplitList(f.Addresses), Domains: infosys.SplitList(f.Domains),
		Providers: f.Providers, Components: f.Components, NationalCritical: f.NationalCritical, PlanDeployed: f.PlanDeployed}
	return in, f
}

func (s *Server) handleInfosysCreate(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	svc, err := s.infosysSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	bad := errs.Invalid("web: infosys")
	in, f := systemInput(r, bad)
	err = bad.OrNil()
	if err == nil {
		var x infosys.System
		if x, err = svc.CreateSystem(r.Context(), a, in); err == nil {
			s.redirect(w, r, fmt.Sprintf("/infosys/systems/%d", x.ID), "infosys.flash.saved")
			return
		}
	} else if perr := infosys.Check(a, policy.InfosysWrite, infosys.System{OwnerOrgID: in.OwnerOrgID}); perr != nil {
		err = perr
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.infosysView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Form = f
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosys, v)
}

type questionForm struct {
	Scope, DataKind, PersonalCount, PSL, Harm, Level, Justification string
	Always24x7, International                                       bool
}

type infosysSystemView struct {
	Base
	Sys       infosys.System
	OwnerName string
	OpName    string
	Dossiers  []infosys.Dossier
	Schedule  []infosys.Due
	CanWrite  bool
	Q         questionForm
	Scopes    []option
	Harms     []option
	Data      []option
	Kinds     []option
	ActKind   string
	ActOn     string
	ActBy     string
	Proposal  int
	Reasons   []string
	HasOpen   bool
	// Scan findings: the list, the open ones by severity, the states a
	// finding may be moved to, and the outcome of an import just made.
	Findings []infosys.Finding
	OpenSev  []sevCount
	FStates  []option
	Imported *infosys.ScanImport
	Report   string
	// Files, level history, a refused finding change (infosys_import.go).
	infosysExtra
}

// sevCount is the number of open findings of one severity.
type sevCount struct {
	Severity string
	N        int
}

func (s *Server) infosysSystemView(r *http.Request) (infosysSystemView, error) {
	wh := whoFrom(r)
	v := infosysSystemView{Base: s.base(r, "infosys.system.title")}
	id, err := intParam(r, "sid")
	if err != nil {
		return v, err
	}
	svc, err := s.infosysSvc()
	if err != nil {
		return v, err
	}
	if v.Sys, v.Dossiers, v.Schedule, err = svc.Detail(r.Context(), wh.Actor, id); err != nil {
		return v, err
	}
	names := s.orgNamer(r)
	v.OwnerName = names.label(v.Sys.OwnerOrgID)
	if v.Sys.OperatorOrgID != 0 {
		v.OpName = names.label(v.Sys.OperatorOrgID)
	}
	for _, d := range v.Dossiers {
		if d.Status != infosys.StatusApproved {
			v.HasOpen = true
		}
	}
	v.CanWrite = infosys.Check(wh.Actor, policy.InfosysWrite, v.Sys) == nil
	if v.Findings, err = svc.Findings(r.Context(), wh.Actor, id, ""); err != nil {
		return v, err
	}
	open, err := svc.OpenFindings(r.Context(), wh.Actor, id)
	if err != nil {
		return v, err
	}
	for _, sev := range infosys.Severities {
		v.OpenSev = append(v.OpenSev, sevCount{sev, open[sev]})
	}
	v.FStates = v.Base.choices("infosys.finding.status.", infosys.FindingStates)
	v.Q = questionForm{Scope: infosys.ScopeOrganisation, DataKind: v.Sys.DataKind, PersonalCount: strconv.FormatInt(v.Sys.PersonalCount, 10),
		PSL: strconv.Itoa(v.Sys.PublicServiceLevel), Harm: infosys.HarmMinor}
	v.Scopes = v.Base.choices("infosys.scope.", infosys.Scopes)
	v.Harms = v.Base.choices("infosys.harm.", infosys.Harms)
	v.Data = v.Base.choices("infosys.data.", infosys.DataKinds)
	v.Kinds = v.Base.choices("infosys.kind.", infosys.Kinds)
	v.ActKind, v.ActOn = infosys.KindScan, s.Now().In(infosys.Local).Format(time.DateOnly)
	return v, s.infosysExtras(r, &v)
}

func (s *Server) handleInfosysSystem(w http.ResponseWriter, r *http.Request) {
	v, err := s.infosysSystemView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysSystem, v)
}

func (s *Server) handleInfosysDossierCreate(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	q := questionForm{Scope: r.PostFormValue("scope"), DataKind: r.PostFormValue("data_kind"), PersonalCount: r.PostFormValue("personal_count"),
		PSL: r.PostFormValue("public_service_level"), Harm: r.PostFormValue("harm"), Level: r.PostFormValue("proposed_level"),
		Justification: r.PostFormValue("justification"), Always24x7: r.PostFormValue("always_24x7") == "1", International: r.PostFormValue("international") == "1"}
	bad := errs.Invalid("web: infosys questionnaire")
	in := infosys.DossierInput{Answers: infosys.Answers{Scope: q.Scope, DataKind: q.DataKind, PersonalCount: infosysNum(bad, "personal_count", q.PersonalCount),
		PublicServiceLevel: int(infosysNum(bad, "public_service_level", q.PSL)), Harm: q.Harm, Always24x7: q.Always24x7, International: q.International},
		ProposedLevel: int(infosysNum(bad, "proposed_level", q.Level)), Justification: q.Justification}
	svc, sid, err := s.infosysTarget(r, "sid")
	if err == nil {
		err = bad.OrNil()
	}
	if err == nil {
		var d infosys.Dossier
		if d, err = svc.SaveDossier(r.Context(), a, sid, 0, in); err == nil {
			s.redirect(w, r, fmt.Sprintf("/infosys/dossiers/%d", d.ID), "infosys.flash.saved")
			return
		}
	}
	s.systemFormAgain(w, r, err, false, func(v *infosysSystemView) {
		v.Q = q
		if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
			lv, rs := infosys.Propose(in.Answers)
			v.Proposal = lv
			for _, x := range rs {
				v.Reasons = append(v.Reasons, v.T(x.Msg.Key, x.Msg.Args...))
			}
		}
	})
}

// systemFormAgain shows the system page again with a form's refusal next
// to its fields (an error the form cannot show goes to the error page).
// mayWrite: only to someone who may change the system (a bad date from
// someone who may not is answered as refused, not shown on the form);
// fill puts the form's values back.
func (s *Server) systemFormAgain(w http.ResponseWriter, r *http.Request, err error, mayWrite bool, fill func(*infosysSystemView)) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.infosysSystemView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	if mayWrite {
		if perr := infosys.Check(whoFrom(r).Actor, policy.InfosysWrite, v.Sys); perr != nil {
			s.renderError(w, r, perr, "")
			return
		}
	}
	if fill != nil {
		fill(&v)
	}
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosysSystem, v)
}

// infosysTarget returns the service and the id in the path's param for a
// POST, which calls the service first and builds the page's view only when
// the form has to be shown again.
func (s *Server) infosysTarget(r *http.Request, param string) (*infosys.Service, int64, error) {
	id, err := intParam(r, param)
	if err != nil {
		return nil, 0, err
	}
	svc, err := s.infosysSvc()
	return svc, id, err
}

func (s *Server) handleInfosysActivity(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	kind, on, by := r.PostFormValue("kind"), r.PostFormValue("done_on"), r.PostFormValue("performer")
	svc, sid, err := s.infosysTarget(r, "sid")
	var done time.Time
	if err == nil && on != "" {
		d, perr := time.ParseInLocation(time.DateOnly, on, infosys.Local)
		if perr != nil {
			err = errs.Invalid("web: activity").Field("done_on", "infosys.err.date")
		}
		done = d
	}
	if err == nil {
		if _, err = svc.RecordActivity(r.Context(), a, infosys.Activity{SystemID: sid, Kind: kind, DoneOn: done,
			Performer: by, Note: r.PostFormValue("note")}); err == nil {
			s.redirect(w, r, fmt.Sprintf("/infosys/systems/%d", sid), "infosys.flash.saved")
			return
		}
	}
	s.systemFormAgain(w, r, err, true, func(v *infosysSystemView) { v.ActKind, v.ActOn, v.ActBy = kind, on, by })
}

type infosysDossierView struct {
	Base
	D             infosys.Dossier
	Sys           infosys.System
	History       []infosys.Event
	Reasons       []string
	Plan          []option
	PlanKeys      []string
	AppraisalLate bool
	ApprovalLate  bool
	Steps         []string
	Comment       string
	DecisionRef   string
}

func (s *Server) infosysDossierView(r *http.Request) (infosysDossierView, error) {
	wh := whoFrom(r)
	v := infosysDossierView{Base: s.base(r, "infosys.dossier.title")}
	id, err := intParam(r, "did")
	if err != nil {
		return v, err
	}
	svc, err := s.infosysSvc()
	if err != nil {
		return v, err
	}
	if v.D, v.Sys, v.History, err = svc.Dossier(r.Context(), wh.Actor, id); err != nil {
		return v, err
	}
	for _, x := range v.D.Reasons {
		v.Reasons = append(v.Reasons, v.T(x.Msg.Key, x.Msg.Args...))
	}
	v.PlanKeys = infosys.PlanSections
	for _, k := range infosys.PlanSections {
		v.Plan = append(v.Plan, option{Value: v.D.Plan[k], Label: v.T("infosys.plan." + k)})
	}
	now := s.Now()
	v.AppraisalLate, v.ApprovalLate = v.D.AppraisalLate(now), v.D.ApprovalLate(now)
	switch v.D.Status {
	case infosys.StatusDraft:
		v.Steps = []string{string(infosys.StepSubmit)}
	case infosys.StatusSubmitted:
		v.Steps = []string{string(infosys.StepAppraise), string(infosys.StepReturn)}
	case infosys.StatusAppraised:
		v.Steps = []string{string(infosys.StepApprove), string(infosys.StepReturn)}
	}
	return v, nil
}

func (s *Server) handleInfosysDossier(w http.ResponseWriter, r *http.Request) {
	v, err := s.infosysDossierView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysDossier, v)
}

func (s *Server) handleInfosysMove(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	comment, ref := r.PostFormValue("comment"), r.PostFormValue("decision_ref")
	svc, did, err := s.infosysTarget(r, "did")
	if err == nil {
		_, err = svc.Move(r.Context(), a, did, infosys.Step(r.PostFormValue("step")), comment, ref)
	}
	if err == nil {
		s.redirect(w, r, fmt.Sprintf("/infosys/dossiers/%d", did), "infosys.flash.saved")
		return
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.infosysDossierView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Comment, v.DecisionRef = comment, ref
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosysDossier, v)
}

func (s *Server) handleInfosysICS(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	svc, err := s.infosysSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	due, err := svc.Schedules(r.Context(), wh.Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	body := infosys.ICS(due, s.Now(), func(k string) string { return t(wh.Lang, "infosys.kind."+k) })
	s.sendFile(w, "text/calendar; charset=utf-8", "certnet-infosys.ics", []byte(body))
}

func (s *Server) handleInfosysDossierSave(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	v, err := s.infosysDossierView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	svc, _ := s.infosysSvc()
	bad := errs.Invalid("web: dossier")
	in := infosys.DossierInput{Answers: v.D.Answers, ProposedLevel: int(infosysNum(bad, "proposed_level", r.PostFormValue("proposed_level"))),
		Justification: r.PostFormValue("justification"), Overview: r.PostFormValue("overview"), Design: r.PostFormValue("design"),
		ExpertOpinion: r.PostFormValue("expert_opinion"), Plan: map[string]string{}}
	for _, k := range infosys.PlanSections {
		in.Plan[k] = r.PostFormValue("plan_" + k)
	}
	err = bad.OrNil()
	if err == nil {
		if _, err = svc.SaveDossier(r.Context(), a, 0, v.D.ID, in); err == nil {
			s.redirect(w, r, fmt.Sprintf("/infosys/dossiers/%d", v.D.ID), "infosys.flash.saved")
			return
		}
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v.D.ProposedLevel, v.D.Justification, v.D.Overview, v.D.Design, v.D.ExpertOpinion = in.ProposedLevel, in.Justification, in.Overview, in.Design, in.ExpertOpinion
	for i, k := range infosys.PlanSections {
		v.Plan[i].Value = in.Plan[k]
	}
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosysDossier, v)
}

func init() { addNeeds(infosysNeeds) }

// infosysNeeds: dossiers waiting for the user's appraisal or approval, and
// overdue or soon-due obligations of the systems of the user's own
// organisation (its owner's or operator's people who may keep them).
func infosysNeeds(s *Server, r *http.Request, wh *who) []need {
	svc, err := s.infosysSvc()
	if err != nil || !wh.LoggedIn {
		return nil
	}
	ctx := r.Context()
	now := s.Now()
	var out []need
	if ws, err := svc.Waiting(ctx, wh.Actor, 10); err == nil {
		for _, x := range ws {
			out = append(out, need{Text: t(wh.Lang, "infosys.needs."+string(x.Step), x.SystemName, x.ProposedLevel),
				Href: fmt.Sprintf("/infosys/dossiers/%d", x.ID), Due: x.Due, Late: !x.Due.IsZero() && now.After(x.Due)})
		}
	}
	if !policy.Allowed(wh.Actor, policy.InfosysWrite, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPAmber}) {
		return out
	}
	own := wh.Actor
	own.Scope = policy.Scope{Orgs: map[int64]bool{wh.User.OrgID: true}}
	due, err := svc.Schedules(ctx, own)
	if err != nil {
		return out
	}
	for i, d := range due {
		if d.State == infosys.DueOK || i >= 10 {
			break
		}
		out = append(out, need{Text: t(wh.Lang, "infosys.needs."+d.State, t(wh.Lang, "infosys.kind."+d.Kind), d.SystemName),
			Href: fmt.Sprintf("/infosys/systems/%d", d.SystemID), Due: d.Next, Late: d.State == infosys.DueOverdue})
	}
	return out
}

// handleInfosysKPICSV exports the KPIs of the chosen grouping as CSV.
func (s *Server) handleInfosysKPICSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-infosys-kpi", "infosys.title", s.infosysKPIRows)
}

func (s *Server) infosysKPIRows(r *http.Request) ([][]string, error) {
	// The KPI page's table, with every column (infosys_kpis.go).
	return s.kpiTableRows(r)
}

// handleInfosysFindingsImport imports a scan report uploaded as a file or
// pasted, and shows the outcome with the refused rows on the system page.
func (s *Server) handleInfosysFindingsImport(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	svc, sid, err := s.infosysTarget(r, "sid")
	format, report := r.PostFormValue("format"), r.PostFormValue("report")
	var body io.Reader = strings.NewReader(report)
	if f, hdr, ferr := r.FormFile("file"); ferr == nil {
		defer f.Close()
		body = f
		if format == "" && strings.HasSuffix(strings.ToLower(hdr.Filename), ".json") {
			format = infosys.FormatJSON
		}
	}
	if format == "" {
		format = infosys.FormatCSV
	}
	var res infosys.ScanImport
	if err == nil {
		res, err = svc.ImportFindings(r.Context(), a, sid, format, body)
	}
	if err != nil && !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.infosysSystemView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	if err != nil {
		v.Report = report
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplInfosysSystem, v)
		return
	}
	v.Imported = &res
	s.render(w, r, http.StatusOK, tplInfosysSystem, v)
}

func (s *Server) handleInfosysFindingStatus(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	svc, fid, err := s.infosysTarget(r, "fid")
	if err == nil {
		var f infosys.Finding
		if f, err = svc.SetFindingStatus(r.Context(), a, fid, r.PostFormValue("status"), r.PostFormValue("note")); err == nil {
			s.redirect(w, r, fmt.Sprintf("/infosys/systems/%d#findings", f.SystemID), "infosys.flash.saved")
			return
		}
	}
	if showOnForm(err) {
		s.refusedFinding(w, r, fid, err) // the system page, saying why
		return
	}
	s.renderError(w, r, err, "")
}
