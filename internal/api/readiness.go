package api

import (
	"net/http"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// Readiness (issue 7): response teams, people, rota coverage and SIM3.

func init() {
	register([]Route{
		{"GET", "/api/v1/orgs/{id}/readiness/teams"},
		{"POST", "/api/v1/orgs/{id}/readiness/teams"},
		{"GET", "/api/v1/orgs/{id}/readiness/people"},
		{"POST", "/api/v1/orgs/{id}/readiness/people"},
		{"GET", "/api/v1/readiness/teams/{tid}"},
		{"GET", "/api/v1/readiness/teams/{tid}/coverage"},
		{"GET", "/api/v1/readiness/teams/{tid}/sim3"},
		{"POST", "/api/v1/readiness/teams/{tid}/sim3"},
		{"GET", "/api/v1/readiness/maturity"},
		{"GET", "/api/v1/readiness/drills"},
		{"POST", "/api/v1/readiness/drills"},
		{"GET", "/api/v1/readiness/drills/{did}"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/orgs/{id}/readiness/teams":      s.authed(s.listTeams),
			"POST /api/v1/orgs/{id}/readiness/teams":     s.authed(s.createTeam),
			"GET /api/v1/orgs/{id}/readiness/people":     s.authed(s.listPeople),
			"POST /api/v1/orgs/{id}/readiness/people":    s.authed(s.createPerson),
			"GET /api/v1/readiness/teams/{tid}":          s.authed(s.getTeam),
			"GET /api/v1/readiness/teams/{tid}/coverage": s.authed(s.teamCoverage),
			"GET /api/v1/readiness/teams/{tid}/sim3":     s.authed(s.listSim3),
			"POST /api/v1/readiness/teams/{tid}/sim3":    s.authed(s.assessSim3),
			"GET /api/v1/readiness/maturity":             s.authed(s.maturity),
			"GET /api/v1/readiness/drills":               s.authed(s.listDrills),
			"POST /api/v1/readiness/drills":              s.authed(s.createDrill),
			"GET /api/v1/readiness/drills/{did}":         s.authed(s.getDrill),
		}
	})
}

// readinessOrg reads the organisation of the path (org.read first).
func (s *Server) readinessOrg(r *http.Request, a policy.Actor) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	o, err := s.Orgs.Get(r.Context(), a, id)
	if err != nil {
		return 0, err
	}
	return o.ID, nil
}

type teamOut struct {
	readiness.Team
	MeetsExperts bool `json:"meets_experts"`
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	teams, err := s.Readiness.Teams(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	out := make([]teamOut, 0, len(teams))
	for _, t := range teams {
		out = append(out, teamOut{Team: t, MeetsExperts: t.MeetsExperts()})
	}
	return map[string]any{"items": out}, http.StatusOK, nil
}

type teamBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.ReadinessWrite, readiness.Resource(id)); err != nil {
		return nil, 0, err
	}
	var b teamBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	t, err := s.Readiness.CreateTeam(r.Context(), a, readiness.TeamInput{OrgID: id, Name: b.Name, Description: b.Description,
		Phone: b.Phone, Email: b.Email})
	if err != nil {
		return nil, 0, err
	}
	return t, http.StatusCreated, nil
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	people, err := s.Readiness.People(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if people == nil {
		people = []readiness.Person{}
	}
	tg := readiness.Targets(people)
	return map[string]any{"items": people, "targets_1014": map[string]any{
		"operators": tg.Operators, "operators_trained": tg.OperatorsTrained, "operators_pct": tg.OperatorsPct(),
		"security": tg.Security, "security_trained": tg.SecurityTrained, "security_pct": tg.SecurityPct()}}, http.StatusOK, nil
}

type personBody struct {
	FullName string `json:"full_name"`
	Title    string `json:"title"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Skills   string `json:"skills"`
	IOCRole  string `json:"ioc_role"`
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.ReadinessWrite, readiness.Resource(id)); err != nil {
		return nil, 0, err
	}
	var b personBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	p, err := s.Readiness.CreatePerson(r.Context(), a, readiness.PersonInput{OrgID: id, FullName: b.FullName, Title: b.Title,
		Email: b.Email, Phone: b.Phone, Skills: b.Skills, IOCRole: b.IOCRole})
	if err != nil {
		return nil, 0, err
	}
	return p, http.StatusCreated, nil
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	tid, err := pathID(r, "tid")
	if err != nil {
		return nil, 0, err
	}
	t, err := s.Readiness.Team(r.Context(), a, tid)
	if err != nil {
		return nil, 0, err
	}
	if t.MemberList == nil {
		t.MemberList = []readiness.Member{}
	}
	return struct {
		readiness.TeamDetail
		MeetsExperts bool `json:"meets_experts"`
	}{t, t.MeetsExperts()}, http.StatusOK, nil
}

func (s *Server) teamCoverage(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	tid, err := pathID(r, "tid")
	if err != nil {
		return nil, 0, err
	}
	week := s.Now()
	if q := r.URL.Query().Get("week"); q != "" {
		t, err := time.ParseInLocation(time.DateOnly, q, readiness.Local)
		if err != nil || t.Year() < 1990 || t.Year() > 2200 {
			return nil, 0, errs.Invalid("api: coverage").Field("week", "readiness.err.date")
		}
		week = t
	}
	c, err := s.Readiness.Coverage(r.Context(), a, tid, week)
	if err != nil {
		return nil, 0, err
	}
	return struct {
		readiness.Coverage
		Full bool `json:"full"`
	}{c, c.Full()}, http.StatusOK, nil
}

func (s *Server) listSim3(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	tid, err := pathID(r, "tid")
	if err != nil {
		return nil, 0, err
	}
	xs, err := s.Readiness.Assessments(r.Context(), a, tid)
	if err != nil {
		return nil, 0, err
	}
	if xs == nil {
		xs = []readiness.Sim3Assessment{}
	}
	return map[string]any{"items": xs, "parameters": readiness.Sim3Params}, http.StatusOK, nil
}

// readinessDate reads an optional date (YYYY-MM-DD) of a body; a bad one
// goes on v.
func readinessDate(v *errs.Error, field, raw string) time.Time {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		v.Field(field, "readiness.err.date")
	}
	return d
}

type sim3Body struct {
	AssessedOn string                `json:"assessed_on"`
	Assessor   string                `json:"assessor"`
	Note       string                `json:"note"`
	Scores     []readiness.Sim3Score `json:"scores"`
}

func (s *Server) assessSim3(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	const op = "api: sim3"
	tid, err := pathID(r, "tid")
	if err != nil {
		return nil, 0, err
	}
	// Policy before the body: read the team as the actor.
	t, err := s.Readiness.Team(r.Context(), a, tid)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.ReadinessAssess, readiness.Resource(t.OrgID)); err != nil {
		return nil, 0, err
	}
	var b sim3Body
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	v := errs.Invalid(op)
	in := readiness.Sim3Input{Assessor: b.Assessor, Note: b.Note, Scores: map[string]readiness.Sim3Score{}}
	in.AssessedOn = readinessDate(v, "assessed_on", b.AssessedOn)
	for _, sc := range b.Scores {
		if _, dup := in.Scores[sc.Param]; dup {
			v.Field("scores", "readiness.err.sim3_param", sc.Param)
		}
		in.Scores[sc.Param] = sc
	}
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	x, err := s.Readiness.Assess(r.Context(), a, tid, in)
	if err != nil {
		return nil, 0, err
	}
	return x, http.StatusCreated, nil
}

func (s *Server) maturity(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	m, err := s.Readiness.Maturity(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	if m.ByProvince == nil {
		m.ByProvince = []readiness.MaturityRow{}
	}
	if m.BySector == nil {
		m.BySector = []readiness.MaturityRow{}
	}
	return m, http.StatusOK, nil
}

// listDrills answers this year's obligations and drills in scope.
func (s *Server) listDrills(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	y, ds, err := s.Readiness.YearDrills(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"year": y, "items": ds}, http.StatusOK, nil
}

type drillBody struct {
	OrgID        int64   `json:"org_id"`
	Title        string  `json:"title"`
	Kind         string  `json:"kind"`
	StartsOn     string  `json:"starts_on"`
	EndsOn       string  `json:"ends_on"`
	Scenario     string  `json:"scenario"`
	Objectives   string  `json:"objectives"`
	Status       string  `json:"status"`
	Participants []int64 `json:"participants"`
}

func (s *Server) createDrill(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b drillBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	v := errs.Invalid("api: drill")
	in := readiness.DrillInput{OrgID: b.OrgID, Title: b.Title, Kind: b.Kind, Scenario: b.Scenario, Objectives: b.Objectives,
		Status: b.Status, Participants: b.Participants}
	in.StartsOn, in.EndsOn = readinessDate(v, "starts_on", b.StartsOn), readinessDate(v, "ends_on", b.EndsOn)
	if err := v.OrNil(); err != nil {
		// Policy first: someone who may not plan for the organisation is refused, not told about dates.
		if perr := policy.Check(a, policy.ReadinessWrite, readiness.Resource(b.OrgID)); perr != nil {
			return nil, 0, perr
		}
		return nil, 0, err
	}
	d, err := s.Readiness.SaveDrill(r.Context(), a, 0, in)
	if err != nil {
		return nil, 0, err
	}
	return d, http.StatusCreated, nil
}

func (s *Server) getDrill(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "did")
	if err != nil {
		return nil, 0, err
	}
	d, err := s.Readiness.Drill(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return d, http.StatusOK, nil
}
