package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/infosys"
	"certnet/internal/policy"
)

// Information systems and their security levels (issue 6).

func init() {
	register([]Route{
		{"GET", "/api/v1/infosys/systems"},
		{"POST", "/api/v1/infosys/systems"},
		{"GET", "/api/v1/infosys/systems/{sid}"},
		{"PUT", "/api/v1/infosys/systems/{sid}"},
		{"POST", "/api/v1/infosys/systems/{sid}/activities"},
		{"POST", "/api/v1/infosys/systems/{sid}/dossiers"},
		{"GET", "/api/v1/infosys/dossiers/{did}"},
		{"PUT", "/api/v1/infosys/dossiers/{did}"},
		{"POST", "/api/v1/infosys/dossiers/{did}/move"},
		{"POST", "/api/v1/infosys/propose"},
		{"GET", "/api/v1/infosys/schedule"},
		{"GET", "/api/v1/infosys/calendar.ics"},
		{"GET", "/api/v1/infosys/kpis"},
		{"GET", "/api/v1/infosys/systems/{sid}/findings"},
		{"POST", "/api/v1/infosys/systems/{sid}/findings/import"},
		{"POST", "/api/v1/infosys/findings/{fid}/status"},
	}, func(s *Server) map[string]http.HandlerFunc {
		h := &infosysAPI{s: s}
		h.svc = s.Infosys
		return map[string]http.HandlerFunc{
			"GET /api/v1/infosys/systems":                        s.authed(h.list),
			"POST /api/v1/infosys/systems":                       s.authed(h.create),
			"GET /api/v1/infosys/systems/{sid}":                  s.authed(h.get),
			"PUT /api/v1/infosys/systems/{sid}":                  s.authed(h.update),
			"POST /api/v1/infosys/systems/{sid}/activities":      s.authed(h.activity),
			"POST /api/v1/infosys/systems/{sid}/dossiers":        s.authed(h.createDossier),
			"GET /api/v1/infosys/dossiers/{did}":                 s.authed(h.getDossier),
			"PUT /api/v1/infosys/dossiers/{did}":                 s.authed(h.updateDossier),
			"POST /api/v1/infosys/dossiers/{did}/move":           s.authed(h.move),
			"POST /api/v1/infosys/propose":                       s.authed(h.propose),
			"GET /api/v1/infosys/schedule":                       s.authed(h.schedule),
			"GET /api/v1/infosys/calendar.ics":                   h.calendar,
			"GET /api/v1/infosys/kpis":                           s.authed(h.kpis),
			"GET /api/v1/infosys/systems/{sid}/findings":         s.authed(h.findings),
			"POST /api/v1/infosys/systems/{sid}/findings/import": s.authed(h.importFindings),
			"POST /api/v1/infosys/findings/{fid}/status":         s.authed(h.findingStatus),
		}
	})
}

type infosysAPI struct {
	s   *Server
	svc *infosys.Service
}

func (h *infosysAPI) service() (*infosys.Service, error) {
	if h.svc == nil {
		return nil, errs.Internal("api: infosys", errUnavailable)
	}
	return h.svc, nil
}

// target is the service and the id of the path's named segment.
func (h *infosysAPI) target(r *http.Request, name string) (*infosys.Service, int64, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, name)
	return svc, id, err
}

// groupBy is the KPI grouping asked for, by province when none.
func groupBy(r *http.Request) string {
	if by := strings.TrimSpace(r.URL.Query().Get("by")); by != "" {
		return by
	}
	return infosys.ByProvince
}

func (h *infosysAPI) list(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := infosys.Filter{Level: -1, Sector: q.Get("sector"), Query: q.Get("q"), Limit: limit, Offset: offset}
	bad := errs.Invalid("api: infosys list")
	if v := q.Get("level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 5 {
			bad.Field("level", "infosys.err.level")
		}
		f.Level = n
	}
	if v := q.Get("org_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad.Field("org_id", "infosys.err.org")
		}
		f.OrgID = n
	}
	if err := bad.OrNil(); err != nil {
		return nil, 0, err
	}
	xs, total, err := svc.List(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	if xs == nil {
		xs = []infosys.System{}
	}
	return map[string]any{"items": xs, "total": total}, http.StatusOK, nil
}

func (h *infosysAPI) create(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	var in infosys.SystemInput
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	x, err := svc.CreateSystem(r.Context(), a, in)
	if err != nil {
		return nil, 0, err
	}
	return x, http.StatusCreated, nil
}

type systemOut struct {
	infosys.System
	Dossiers []infosys.Dossier `json:"dossiers"`
	Schedule []infosys.Due     `json:"schedule"`
}

func (h *infosysAPI) get(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	x, ds, due, err := svc.Detail(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	out := systemOut{System: x, Dossiers: ds, Schedule: due}
	if out.Dossiers == nil {
		out.Dossiers = []infosys.Dossier{}
	}
	if out.Schedule == nil {
		out.Schedule = []infosys.Due{}
	}
	return out, http.StatusOK, nil
}

func (h *infosysAPI) update(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	var in infosys.SystemInput
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	x, err := svc.UpdateSystem(r.Context(), a, id, in)
	if err != nil {
		return nil, 0, err
	}
	return x, http.StatusOK, nil
}

type activityBody struct {
	Kind      string `json:"kind"`
	DoneOn    string `json:"done_on"` // YYYY-MM-DD
	Performer string `json:"performer"`
	Note      string `json:"note"`
}

func (h *infosysAPI) activity(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	var b activityBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	var done time.Time
	if b.DoneOn != "" {
		d, err := time.ParseInLocation(time.DateOnly, b.DoneOn, infosys.Local)
		if err != nil {
			return nil, 0, errs.Invalid("api: activity").Field("done_on", "infosys.err.date")
		}
		done = d
	}
	x, err := svc.RecordActivity(r.Context(), a, infosys.Activity{SystemID: id, Kind: b.Kind, DoneOn: done, Performer: b.Performer, Note: b.Note})
	if err != nil {
		return nil, 0, err
	}
	return x, http.StatusCreated, nil
}

func (h *infosysAPI) createDossier(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	var in infosys.DossierInput
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	d, err := svc.SaveDossier(r.Context(), a, id, 0, in)
	if err != nil {
		return nil, 0, err
	}
	return d, http.StatusCreated, nil
}

type dossierOut struct {
	infosys.Dossier
	History       []infosys.Event `json:"history"`
	AppraisalLate bool            `json:"appraisal_late"`
	ApprovalLate  bool            `json:"approval_late"`
}

func (h *infosysAPI) getDossier(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "did")
	if err != nil {
		return nil, 0, err
	}
	d, _, evs, err := svc.Dossier(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if evs == nil {
		evs = []infosys.Event{}
	}
	now := svc.Now()
	return dossierOut{Dossier: d, History: evs, AppraisalLate: d.AppraisalLate(now), ApprovalLate: d.ApprovalLate(now)}, http.StatusOK, nil
}

func (h *infosysAPI) updateDossier(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "did")
	if err != nil {
		return nil, 0, err
	}
	var in infosys.DossierInput
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	d, err := svc.SaveDossier(r.Context(), a, 0, id, in)
	if err != nil {
		return nil, 0, err
	}
	return d, http.StatusOK, nil
}

type moveBody struct {
	Step        string `json:"step"`
	Comment     string `json:"comment"`
	DecisionRef string `json:"decision_ref"`
}

func (h *infosysAPI) move(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "did")
	if err != nil {
		return nil, 0, err
	}
	var b moveBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	d, err := svc.Move(r.Context(), a, id, infosys.Step(b.Step), b.Comment, b.DecisionRef)
	if err != nil {
		return nil, 0, err
	}
	return d, http.StatusOK, nil
}

type proposalOut struct {
	Level   int             `json:"level"`
	Reasons []reasonOut     `json:"reasons"`
	Answers infosys.Answers `json:"answers"`
}

type reasonOut struct {
	Level int    `json:"level"`
	Text  string `json:"text"`
}

func (h *infosysAPI) propose(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	if err := policy.Check(a, policy.InfosysRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber}); err != nil {
		return nil, 0, err
	}
	var in infosys.Answers
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	v := errs.Invalid("api: propose")
	in.Validate(v)
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	level, rs := infosys.Propose(in)
	lng := lang(r)
	out := proposalOut{Level: level, Answers: in}
	for _, x := range rs {
		out.Reasons = append(out.Reasons, reasonOut{Level: x.Level, Text: i18n.T(lng, x.Msg.Key, x.Msg.Args...)})
	}
	return out, http.StatusOK, nil
}

func (h *infosysAPI) schedule(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	due, err := svc.Schedules(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	if due == nil {
		due = []infosys.Due{}
	}
	return map[string]any{"items": due}, http.StatusOK, nil
}

// calendar is the iCalendar feed of the due dates in the token's scope
// (calendar programs send the token as the HTTP Basic password).
func (h *infosysAPI) calendar(w http.ResponseWriter, r *http.Request) {
	s := h.s
	const challenge = `Basic realm="certnet"`
	a, ok := s.authenticateWith(w, r, challenge, challenge)
	if !ok {
		return
	}
	svc, err := h.service()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	due, err := svc.Schedules(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	lng := lang(r)
	body := infosys.ICS(due, svc.Now(), func(k string) string { return i18n.T(lng, "infosys.kind."+k) })
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="certnet-infosys.ics"`)
	_, _ = w.Write([]byte(body))
}

func (h *infosysAPI) kpis(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	by := groupBy(r)
	ks, err := svc.KPIs(r.Context(), a, by)
	if err != nil {
		return nil, 0, err
	}
	if ks == nil {
		ks = []infosys.KPI{}
	}
	return map[string]any{"by": by, "items": ks}, http.StatusOK, nil
}

func (h *infosysAPI) findings(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	xs, err := svc.Findings(r.Context(), a, id, r.URL.Query().Get("status"))
	if err != nil {
		return nil, 0, err
	}
	open, err := svc.OpenFindings(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if xs == nil {
		xs = []infosys.Finding{}
	}
	return map[string]any{"items": xs, "open": open}, http.StatusOK, nil
}

// importFindings takes the scan report as the request body: format=csv or
// json in the query, else JSON when the body is sent as application/json
// and CSV otherwise.
func (h *infosysAPI) importFindings(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = infosys.FormatCSV
		switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
		case "application/json":
			format = infosys.FormatJSON
		case "application/xml", "text/xml":
			format = infosys.FormatOpenVAS
		}
	}
	res, err := svc.ImportFindings(r.Context(), a, id, format, r.Body)
	if err != nil {
		return nil, 0, err
	}
	return res, http.StatusOK, nil
}

type findingStatusBody struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (h *infosysAPI) findingStatus(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "fid")
	if err != nil {
		return nil, 0, err
	}
	var b findingStatusBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	f, err := svc.SetFindingStatus(r.Context(), a, id, b.Status, b.Note)
	if err != nil {
		return nil, 0, err
	}
	return f, http.StatusOK, nil
}
