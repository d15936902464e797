package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

const (
	tplReadinessDrills = "readiness_drills.html"
	tplReadinessDrill  = "readiness_drill.html"
)

type drillRow struct {
	readiness.Drill
	OrgName      string
	Participants []string
}

type drillsView struct {
	Base
	Year       readiness.YearReport
	Drills     []drillRow
	Kinds      []option
	Statuses   []option
	Form       drillForm
	Targets    [2]int
	CanPlan    bool
	Edit       *drillRow
	FormAction string
}

type drillForm struct {
	OrgID                                                                     string
	Title, Kind, StartsOn, EndsOn, Scenario, Objectives, Status, Participants string
}

func (s *Server) drillRow(names *orgNames, d readiness.Drill) drillRow {
	r := drillRow{Drill: d, OrgName: names.label(d.OrgID)}
	for _, p := range d.Participants {
		r.Participants = append(r.Participants, names.label(p))
	}
	return r
}

func (s *Server) drillsView(r *http.Request) (drillsView, error) {
	wh := whoFrom(r)
	v := drillsView{Base: s.base(r, "readiness.drills.title"), Targets: [2]int{readiness.TargetNational, readiness.TargetRegionalOrSector},
		FormAction: "/readiness/drills"}
	var ds []readiness.Drill
	var err error
	if v.Year, ds, err = s.Readiness.YearDrills(r.Context(), wh.Actor); err != nil {
		return v, err
	}
	names := s.orgNamer(r)
	for _, d := range ds {
		v.Drills = append(v.Drills, s.drillRow(names, d))
	}
	v.Kinds, v.Statuses = v.choices("readiness.drill.kind.", readiness.DrillKinds), v.choices("readiness.drill.status.", readiness.DrillStatuses)
	v.CanPlan = policy.Allowed(wh.Actor, policy.ReadinessWrite, readiness.Resource(wh.User.OrgID))
	v.Form = drillForm{OrgID: itoa(wh.User.OrgID), Kind: readiness.DrillOrganisation, Status: readiness.DrillPlanned}
	return v, nil
}

func (s *Server) handleReadinessDrills(w http.ResponseWriter, r *http.Request) {
	v, err := s.drillsView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessDrills, v)
}

// drillInput reads the form; unreadable values go on bad.
func drillInput(r *http.Request, bad *errs.Error) (readiness.DrillInput, drillForm) {
	f := drillForm{OrgID: r.PostFormValue("org_id"), Title: r.PostFormValue("title"), Kind: r.PostFormValue("kind"),
		StartsOn: r.PostFormValue("starts_on"), EndsOn: r.PostFormValue("ends_on"), Scenario: r.PostFormValue("scenario"),
		Objectives: r.PostFormValue("objectives"), Status: r.PostFormValue("status"), Participants: r.PostFormValue("participants")}
	in := readiness.DrillInput{Title: f.Title, Kind: f.Kind, Scenario: f.Scenario, Objectives: f.Objectives, Status: f.Status,
		StartsOn: readinessDate(r, bad, "starts_on"), EndsOn: readinessDate(r, bad, "ends_on")}
	in.OrgID, _ = strconv.ParseInt(strings.TrimSpace(f.OrgID), 10, 64)
	for _, p := range strings.FieldsFunc(f.Participants, func(c rune) bool { return c == ',' || c == ' ' || c == ';' || c == '\n' || c == '\r' }) {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			bad.Field("participants", "readiness.err.org")
			continue
		}
		in.Participants = append(in.Participants, n)
	}
	return in, f
}

func (s *Server) handleReadinessDrillCreate(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	bad := errs.Invalid("web: drill")
	in, f := drillInput(r, bad)
	err := bad.OrNil()
	if err == nil {
		var d readiness.Drill
		if d, err = s.Readiness.SaveDrill(r.Context(), a, 0, in); err == nil {
			s.redirect(w, r, fmt.Sprintf("/readiness/drills/%d", d.ID), "readiness.flash.saved")
			return
		}
	} else {
		err = refusedFirst(a, policy.ReadinessWrite, in.OrgID, err)
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.drillsView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Form = f
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplReadinessDrills, v)
}

func (s *Server) drillPage(r *http.Request) (drillsView, readiness.Drill, error) {
	id, err := intParam(r, "did")
	if err != nil {
		return drillsView{}, readiness.Drill{}, err
	}
	a := whoFrom(r).Actor
	d, err := s.Readiness.Drill(r.Context(), a, id)
	if err != nil {
		return drillsView{}, d, err
	}
	v := drillsView{Base: s.base(r, "readiness.drill.title"), FormAction: fmt.Sprintf("/readiness/drills/%d", d.ID)}
	row := s.drillRow(s.orgNamer(r), d)
	v.Edit = &row
	v.Title = d.Title
	v.Kinds, v.Statuses = v.choices("readiness.drill.kind.", readiness.DrillKinds), v.choices("readiness.drill.status.", readiness.DrillStatuses)
	v.CanPlan = policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(d.OrgID))
	var parts []string
	for _, p := range d.Participants {
		parts = append(parts, itoa(p))
	}
	v.Form = drillForm{OrgID: itoa(d.OrgID), Title: d.Title, Kind: d.Kind, StartsOn: d.StartsOn.Format("2006-01-02"),
		EndsOn: d.EndsOn.Format("2006-01-02"), Scenario: d.Scenario, Objectives: d.Objectives, Status: d.Status,
		Participants: strings.Join(parts, ", ")}
	return v, d, nil
}

func (s *Server) handleReadinessDrill(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.drillPage(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessDrill, v)
}

func (s *Server) handleReadinessDrillUpdate(w http.ResponseWriter, r *http.Request) {
	v, d, err := s.drillPage(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	bad := errs.Invalid("web: drill")
	in, f := drillInput(r, bad)
	err = bad.OrNil()
	if err == nil {
		if _, err = s.Readiness.SaveDrill(r.Context(), a, d.ID, in); err == nil {
			s.redirect(w, r, fmt.Sprintf("/readiness/drills/%d", d.ID), "readiness.flash.saved")
			return
		}
	} else {
		err = refusedFirst(a, policy.ReadinessWrite, d.OrgID, err)
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	f.OrgID = itoa(d.OrgID)
	v.Form = f
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplReadinessDrill, v)
}
