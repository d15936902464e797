package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

const tplReadinessScenarios = "readiness_scenarios.html"

type scenariosView struct {
	Base
	Org        *org.Org // nil: the national catalogue
	Scenarios  []readiness.Scenario
	Catalogue  []readiness.Scenario
	Categories []option
	Scale      []int
	CanWrite   bool
	Action     string
	Values     map[string]string
}

// V is a value typed into the failed form.
func (v scenariosView) V(name string) string { return v.Values[name] }

func (s *Server) scenariosView(r *http.Request, o *org.Org) (scenariosView, error) {
	a := whoFrom(r).Actor
	v := scenariosView{Base: s.base(r, "readiness.scenarios.title"), Org: o, Scale: []int{1, 2, 3, 4, 5}}
	v.Categories = v.choices("readiness.scenario.cat.", readiness.ScenarioCategories)
	var err error
	if v.Catalogue, err = s.Readiness.Scenarios(r.Context(), a, 0); err != nil {
		return v, err
	}
	if o == nil {
		v.Scenarios = v.Catalogue
		v.CanWrite = policy.Allowed(a, policy.ReadinessCatalogue, readiness.Resource(a.OrgID))
		v.Action = "/readiness/scenarios"
		return v, nil
	}
	if v.Scenarios, err = s.Readiness.Scenarios(r.Context(), a, o.ID); err != nil {
		return v, err
	}
	v.CanWrite = policy.Allowed(a, policy.ReadinessWrite, readiness.Resource(o.ID))
	v.Action = fmt.Sprintf("/orgs/%d/readiness/scenarios", o.ID)
	return v, nil
}

func (s *Server) scenarioOrg(r *http.Request) (*org.Org, error) {
	if r.PathValue("id") == "" {
		return nil, nil
	}
	o, err := s.readinessOrg(r)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (s *Server) handleReadinessScenarios(w http.ResponseWriter, r *http.Request) {
	o, err := s.scenarioOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.scenariosView(r, o)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessScenarios, v)
}

func (s *Server) scenarioFailed(w http.ResponseWriter, r *http.Request, o *org.Org, err error) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.scenariosView(r, o)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Values = posted(r)
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplReadinessScenarios, v)
}

func (s *Server) handleReadinessScenarioCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.scenarioOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	in := readiness.ScenarioInput{Title: r.PostFormValue("title"), Category: r.PostFormValue("category"),
		Description: r.PostFormValue("description")}
	in.Likelihood, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("likelihood")))
	in.Impact, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("impact")))
	back := "/readiness/scenarios"
	if o != nil {
		in.OrgID = o.ID
		back = fmt.Sprintf("/orgs/%d/readiness/scenarios", o.ID)
	}
	if _, err := s.Readiness.CreateScenario(r.Context(), whoFrom(r).Actor, in); err != nil {
		s.scenarioFailed(w, r, o, err)
		return
	}
	s.redirect(w, r, back, "readiness.flash.saved")
}

func (s *Server) handleReadinessScenarioCopy(w http.ResponseWriter, r *http.Request) {
	o, err := s.scenarioOrg(r)
	if err == nil && o == nil {
		err = errs.NotFound("web: scenario copy")
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	id, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("scenario_id")), 10, 64)
	if _, err := s.Readiness.CopyScenario(r.Context(), whoFrom(r).Actor, id, o.ID); err != nil {
		if errs.Is(err, errs.KindNotFound) && policy.Allowed(whoFrom(r).Actor, policy.ReadinessWrite, readiness.Resource(o.ID)) {
			err = errs.Invalid("web: scenario copy").Field("scenario_id", "readiness.err.scenario")
		}
		s.scenarioFailed(w, r, o, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/readiness/scenarios", o.ID), "readiness.flash.saved")
}
