package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// Readiness (issue 7): response plans with their versions and workflow;
// people and their certificates kept (edit, delete); the on-duty rota.

func init() {
	register([]Route{
		{"GET", "/api/v1/readiness/plans"},
		{"GET", "/api/v1/orgs/{id}/readiness/plans"},
		{"POST", "/api/v1/orgs/{id}/readiness/plans"},
		{"GET", "/api/v1/readiness/plans/{pid}"},
		{"PUT", "/api/v1/readiness/plans/{pid}"},
		{"DELETE", "/api/v1/readiness/plans/{pid}"},
		{"POST", "/api/v1/readiness/plans/{pid}/submit"},
		{"POST", "/api/v1/readiness/plans/{pid}/approve"},
		{"POST", "/api/v1/readiness/plans/{pid}/return"},
		{"GET", "/api/v1/readiness/plans/{pid}/versions"},
		{"GET", "/api/v1/readiness/plans/{pid}/versions/{n}"},
		{"GET", "/api/v1/readiness/people/{pid}"},
		{"PUT", "/api/v1/readiness/people/{pid}"},
		{"DELETE", "/api/v1/readiness/people/{pid}"},
		{"POST", "/api/v1/readiness/people/{pid}/certificates"},
		{"PUT", "/api/v1/readiness/people/{pid}/certificates/{cid}"},
		{"DELETE", "/api/v1/readiness/people/{pid}/certificates/{cid}"},
		{"GET", "/api/v1/readiness/teams/{tid}/shifts"},
		{"POST", "/api/v1/readiness/teams/{tid}/shifts"},
		{"DELETE", "/api/v1/readiness/teams/{tid}/shifts/{sid}"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/readiness/plans":                              s.authed(s.listAllPlans),
			"GET /api/v1/orgs/{id}/readiness/plans":                    s.authed(s.listPlans),
			"POST /api/v1/orgs/{id}/readiness/plans":                   s.authed(s.createPlan),
			"GET /api/v1/readiness/plans/{pid}":                        s.authed(s.getPlan),
			"PUT /api/v1/readiness/plans/{pid}":                        s.authed(s.updatePlan),
			"DELETE /api/v1/readiness/plans/{pid}":                     s.authed(s.deletePlan),
			"POST /api/v1/readiness/plans/{pid}/submit":                s.authed(s.submitPlan),
			"POST /api/v1/readiness/plans/{pid}/approve":               s.authed(s.approvePlan),
			"POST /api/v1/readiness/plans/{pid}/return":                s.authed(s.returnPlan),
			"GET /api/v1/readiness/plans/{pid}/versions":               s.authed(s.planVersions),
			"GET /api/v1/readiness/plans/{pid}/versions/{n}":           s.authed(s.planVersion),
			"GET /api/v1/readiness/people/{pid}":                       s.authed(s.getPerson),
			"PUT /api/v1/readiness/people/{pid}":                       s.authed(s.updatePerson),
			"DELETE /api/v1/readiness/people/{pid}":                    s.authed(s.deletePerson),
			"POST /api/v1/readiness/people/{pid}/certificates":         s.authed(s.addCertificate),
			"PUT /api/v1/readiness/people/{pid}/certificates/{cid}":    s.authed(s.updateCertificate),
			"DELETE /api/v1/readiness/people/{pid}/certificates/{cid}": s.authed(s.deleteCertificate),
			"GET /api/v1/readiness/teams/{tid}/shifts":                 s.authed(s.listShifts),
			"POST /api/v1/readiness/teams/{tid}/shifts":                s.authed(s.addShift),
			"DELETE /api/v1/readiness/teams/{tid}/shifts/{sid}":        s.authed(s.deleteShift),
		}
	})
}

// ---- plans

// planOut is a plan with its review state now.
type planOut struct {
	readiness.Plan
	Review string `json:"review,omitempty"`
}

func (s *Server) planOuts(ps []readiness.Plan) []planOut {
	now := s.Now()
	out := make([]planOut, 0, len(ps))
	for _, p := range ps {
		out = append(out, planOut{Plan: p, Review: p.Review(now)})
	}
	return out
}

func (s *Server) listAllPlans(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	ps, err := s.Readiness.Plans(r.Context(), a, 0)
	if err != nil {
		return nil, 0, err
	}
	return items(s.planOuts(ps)), http.StatusOK, nil
}

func (s *Server) listPlans(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	ps, err := s.Readiness.Plans(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return items(s.planOuts(ps)), http.StatusOK, nil
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.ReadinessWrite, readiness.Resource(id)); err != nil {
		return nil, 0, err
	}
	var b readiness.PlanInput
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	p, err := s.Readiness.CreatePlan(r.Context(), a, id, b)
	if err != nil {
		return nil, 0, err
	}
	return s.planDetailOut(p), http.StatusCreated, nil
}

type planDetailOut struct {
	readiness.PlanDetail
	Review string `json:"review,omitempty"`
}

func (s *Server) planDetailOut(p readiness.PlanDetail) planDetailOut {
	return planDetailOut{PlanDetail: p, Review: p.Review(s.Now())}
}

// planFor reads the plan of the path as the actor, then checks act.
func (s *Server) planFor(r *http.Request, a policy.Actor, act policy.Action) (readiness.PlanDetail, error) {
	pid, err := pathID(r, "pid")
	if err != nil {
		return readiness.PlanDetail{}, err
	}
	p, err := s.Readiness.Plan(r.Context(), a, pid)
	if err != nil {
		return p, err
	}
	if act != policy.ReadinessRead {
		if err := policy.Check(a, act, readiness.Resource(p.OrgID)); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessRead)
	if err != nil {
		return nil, 0, err
	}
	return s.planDetailOut(p), http.StatusOK, nil
}

func (s *Server) updatePlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	var b readiness.PlanInput
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if p, err = s.Readiness.UpdatePlan(r.Context(), a, p.ID, b); err != nil {
		return nil, 0, err
	}
	return s.planDetailOut(p), http.StatusOK, nil
}

func (s *Server) deletePlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	if err := s.Readiness.DeletePlan(r.Context(), a, p.ID); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

func (s *Server) submitPlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	if p, err = s.Readiness.SubmitPlan(r.Context(), a, p.ID); err != nil {
		return nil, 0, err
	}
	return s.planDetailOut(p), http.StatusOK, nil
}

type approveBody struct {
	ApproverTitle string `json:"approver_title"`
}

func (s *Server) approvePlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessPlanApprove)
	if err != nil {
		return nil, 0, err
	}
	var b approveBody
	if r.ContentLength != 0 {
		if err := decode(r, &b); err != nil {
			return nil, 0, err
		}
	}
	if p, err = s.Readiness.ApprovePlan(r.Context(), a, p.ID, b.ApproverTitle); err != nil {
		return nil, 0, err
	}
	return s.planDetailOut(p), http.StatusOK, nil
}

type returnBody struct {
	Reason string `json:"reason"`
}

func (s *Server) returnPlan(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessPlanApprove)
	if err != nil {
		return nil, 0, err
	}
	var b returnBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if p, err = s.Readiness.ReturnPlan(r.Context(), a, p.ID, b.Reason); err != nil {
		return nil, 0, err
	}
	return s.planDetailOut(p), http.StatusOK, nil
}

func (s *Server) planVersions(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessRead)
	if err != nil {
		return nil, 0, err
	}
	return items(p.Versions), http.StatusOK, nil
}

// planVersion answers one version with what changed since the one before
// (lines of the outline, "+" added, "-" removed, " " kept).
func (s *Server) planVersion(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.planFor(r, a, policy.ReadinessRead)
	if err != nil {
		return nil, 0, err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return nil, 0, errs.NotFound("api: plan version")
	}
	v, ok := p.Version(n)
	if !ok {
		return nil, 0, errs.NotFound("api: plan version")
	}
	out := struct {
		readiness.PlanVersion
		Changes []planChange `json:"changes,omitempty"`
	}{PlanVersion: v}
	if prev, ok := p.Previous(n); ok {
		label := func(k string) string { return k }
		num := func(x int64) string { return strconv.FormatInt(x, 10) }
		for _, d := range readiness.Diff(readiness.PlanLines(prev.Content, label, num), readiness.PlanLines(v.Content, label, num)) {
			out.Changes = append(out.Changes, planChange{Op: string(d.Op), Text: d.Text})
		}
	}
	return out, http.StatusOK, nil
}

type planChange struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// ---- people and certificates

// personFor reads the person of the path as the actor, then checks act.
func (s *Server) personFor(r *http.Request, a policy.Actor, act policy.Action) (readiness.Person, error) {
	pid, err := pathID(r, "pid")
	if err != nil {
		return readiness.Person{}, err
	}
	p, err := s.Readiness.Person(r.Context(), a, pid)
	if err != nil {
		return p, err
	}
	if act != policy.ReadinessRead {
		if err := policy.Check(a, act, readiness.Resource(p.OrgID)); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.personFor(r, a, policy.ReadinessRead)
	if err != nil {
		return nil, 0, err
	}
	return personOut(p, s.Now()), http.StatusOK, nil
}

func personOut(p readiness.Person, now time.Time) any {
	if p.Certificates == nil {
		p.Certificates = []readiness.Certificate{}
	}
	if p.Trainings == nil {
		p.Trainings = []readiness.Training{}
	}
	return struct {
		readiness.Person
		Qualified bool `json:"qualified"`
	}{p, p.Qualified(now)}
}

func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.personFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	var b personBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if _, err := s.Readiness.UpdatePerson(r.Context(), a, p.ID, readiness.PersonInput{FullName: b.FullName, Title: b.Title,
		Email: b.Email, Phone: b.Phone, Skills: b.Skills, IOCRole: b.IOCRole}); err != nil {
		return nil, 0, err
	}
	if p, err = s.Readiness.Person(r.Context(), a, p.ID); err != nil {
		return nil, 0, err
	}
	return personOut(p, s.Now()), http.StatusOK, nil
}

func (s *Server) deletePerson(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.personFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	if err := s.Readiness.DeletePerson(r.Context(), a, p.ID); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

type certBody struct {
	Name       string `json:"name"`
	Issuer     string `json:"issuer"`
	ObtainedOn string `json:"obtained_on"`
	ExpiresOn  string `json:"expires_on"`
}

// certInput reads the body; unreadable dates are named.
func certInput(r *http.Request) (readiness.CertificateInput, error) {
	var b certBody
	if err := decode(r, &b); err != nil {
		return readiness.CertificateInput{}, err
	}
	v := errs.Invalid("api: certificate")
	in := readiness.CertificateInput{Name: b.Name, Issuer: b.Issuer, ObtainedOn: readinessDate(v, "obtained_on", b.ObtainedOn),
		ExpiresOn: readinessDate(v, "expires_on", b.ExpiresOn)}
	return in, v.OrNil()
}

func certID(r *http.Request) (int64, error) { return pathID(r, "cid") }

func (s *Server) addCertificate(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.personFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	in, err := certInput(r)
	if err != nil {
		return nil, 0, err
	}
	c, err := s.Readiness.AddCertificate(r.Context(), a, p.ID, in)
	if err != nil {
		return nil, 0, err
	}
	return c, http.StatusCreated, nil
}

func (s *Server) updateCertificate(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.personFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	cid, err := certID(r)
	if err != nil {
		return nil, 0, err
	}
	in, err := certInput(r)
	if err != nil {
		return nil, 0, err
	}
	c, err := s.Readiness.UpdateCertificate(r.Context(), a, p.ID, cid, in)
	if err != nil {
		return nil, 0, err
	}
	return c, http.StatusOK, nil
}

func (s *Server) deleteCertificate(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.personFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	cid, err := certID(r)
	if err != nil {
		return nil, 0, err
	}
	if err := s.Readiness.DeleteCertificate(r.Context(), a, p.ID, cid); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

// ---- the rota

// rotaTime reads a time of the rota: RFC 3339, or a local date
// (YYYY-MM-DD, midnight in Vietnam).
func rotaTime(v *errs.Error, field, raw string) time.Time {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t
	}
	if t, err := time.ParseInLocation(time.DateOnly, raw, readiness.Local); err == nil {
		return t
	}
	v.Field(field, "readiness.err.date")
	return time.Time{}
}

// teamFor reads the team of the path as the actor, then checks act.
func (s *Server) teamFor(r *http.Request, a policy.Actor, act policy.Action) (readiness.TeamDetail, error) {
	tid, err := pathID(r, "tid")
	if err != nil {
		return readiness.TeamDetail{}, err
	}
	t, err := s.Readiness.Team(r.Context(), a, tid)
	if err != nil {
		return t, err
	}
	if act != policy.ReadinessRead {
		if err := policy.Check(a, act, readiness.Resource(t.OrgID)); err != nil {
			return t, err
		}
	}
	return t, nil
}

// listShifts answers the team's shifts from from to to (the current local
// week when both are absent).
func (s *Server) listShifts(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	t, err := s.teamFor(r, a, policy.ReadinessRead)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	v := errs.Invalid("api: shifts")
	from, to := rotaTime(v, "from", q.Get("from")), rotaTime(v, "to", q.Get("to"))
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	if q.Get("from") == "" && q.Get("to") == "" {
		from = readiness.WeekStart(s.Now())
		to = from.AddDate(0, 0, 7)
	}
	xs, err := s.Readiness.Shifts(r.Context(), a, t.ID, from, to)
	if err != nil {
		return nil, 0, err
	}
	return items(xs), http.StatusOK, nil
}

type shiftBody struct {
	PersonID int64  `json:"person_id"`
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
}

func (s *Server) addShift(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	t, err := s.teamFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	var b shiftBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	v := errs.Invalid("api: shift")
	in := readiness.ShiftInput{PersonID: b.PersonID, StartsAt: rotaTime(v, "starts_at", b.StartsAt), EndsAt: rotaTime(v, "ends_at", b.EndsAt)}
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	sh, err := s.Readiness.AddShift(r.Context(), a, t.ID, in)
	if err != nil {
		return nil, 0, err
	}
	return sh, http.StatusCreated, nil
}

func (s *Server) deleteShift(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	t, err := s.teamFor(r, a, policy.ReadinessWrite)
	if err != nil {
		return nil, 0, err
	}
	sid, err := pathID(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	if err := s.Readiness.DeleteShift(r.Context(), a, t.ID, sid); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}
