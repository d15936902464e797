package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/policy"
)

func init() {
	register([]Route{
		{"GET", "/api/v1/intel/indicators"},
		{"POST", "/api/v1/intel/indicators"},
		{"GET", "/api/v1/intel/indicators/{id}"},
		{"POST", "/api/v1/intel/indicators/{id}/expire"},
		{"POST", "/api/v1/intel/indicators/{id}/revoke"},
		{"POST", "/api/v1/intel/indicators/{id}/sightings"},
		{"POST", "/api/v1/intel/imports"},
		{"GET", "/api/v1/intel/imports/{id}"},
		{"GET", "/api/v1/intel/export/stix"},
	}, func(s *Server) map[string]http.HandlerFunc {
		h := &intelAPI{s: s}
		h.svc = s.Intel
		return map[string]http.HandlerFunc{
			"GET /api/v1/intel/indicators":                 s.authed(h.list),
			"POST /api/v1/intel/indicators":                s.authed(h.create),
			"GET /api/v1/intel/indicators/{id}":            s.authed(h.get),
			"POST /api/v1/intel/indicators/{id}/expire":    s.authed(h.expire),
			"POST /api/v1/intel/indicators/{id}/revoke":    s.authed(h.revoke),
			"POST /api/v1/intel/indicators/{id}/sightings": s.authed(h.sighting),
			"POST /api/v1/intel/imports":                   s.rawBody(s.authed(h.importFile)),
			"GET /api/v1/intel/imports/{id}":               s.authed(h.getImport),
			"GET /api/v1/intel/export/stix":                h.export,
		}
	})
}

type intelAPI struct {
	s   *Server
	svc *intel.Service
}

func (h *intelAPI) service() (*intel.Service, error) {
	if h.svc == nil {
		return nil, errs.Internal("api: intel", errUnavailable)
	}
	return h.svc, nil
}

// target is the service and the id of the path's named segment.
func (h *intelAPI) target(r *http.Request, name string) (*intel.Service, int64, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, name)
	return svc, id, err
}

// errUnavailable is the cause of the internal error a handler answers
// when the Server was built without its service (intel and infosys).
var errUnavailable = errors.New("service not configured")

// tlpParam reads the optional tlp query value ("" when there is none).
func tlpParam(r *http.Request, op string) (policy.TLP, error) {
	t := r.URL.Query().Get("tlp")
	if t == "" {
		return "", nil
	}
	tlp, err := policy.ParseTLP(t)
	if err != nil {
		return "", errs.Invalid(op).Field("tlp", "intel.error.tlp")
	}
	return tlp, nil
}

// IndicatorOut is an indicator as the API shows it.
type IndicatorOut struct {
	ID          int64            `json:"id"`
	OwnerOrgID  int64            `json:"owner_org_id"`
	Kind        intel.Kind       `json:"kind"`
	Value       string           `json:"value"`
	Pattern     string           `json:"pattern"`
	Name        string           `json:"name,omitempty"`
	Description string           `json:"description,omitempty"`
	Confidence  int              `json:"confidence"`
	ValidFrom   time.Time        `json:"valid_from"`
	ValidUntil  *time.Time       `json:"valid_until,omitempty"`
	TLP         policy.TLP       `json:"tlp"`
	Tags        []string         `json:"tags"`
	KillChain   []string         `json:"kill_chain"`
	STIXID      string           `json:"stix_id"`
	Revoked     bool             `json:"revoked"`
	Active      bool             `json:"active"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	Sources     []intel.Source   `json:"sources,omitempty"`
	Sightings   []intel.Sighting `json:"sightings,omitempty"`
}

func (h *intelAPI) out(i intel.Indicator) IndicatorOut {
	o := IndicatorOut{ID: i.ID, OwnerOrgID: i.OwnerOrgID, Kind: i.Kind, Value: i.Value, Pattern: i.Pattern, Name: i.Name,
		Description: i.Description, Confidence: i.Confidence, ValidFrom: i.ValidFrom, TLP: i.TLP, Tags: i.Tags, KillChain: i.KillChain,
		STIXID: i.STIXID, Revoked: i.Revoked, Active: i.Active(h.s.Now()), CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
		Sources: i.Sources, Sightings: i.Sightings}
	if !i.ValidUntil.IsZero() {
		u := i.ValidUntil
		o.ValidUntil = &u
	}
	if o.Tags == nil {
		o.Tags = []string{}
	}
	if o.KillChain == nil {
		o.KillChain = []string{}
	}
	return o
}

func (h *intelAPI) list(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := intel.Filter{Kind: intel.Kind(q.Get("kind")), Source: q.Get("source"), Status: q.Get("status"), Query: q.Get("q"),
		Limit: limit, Offset: offset}
	if f.TLP, err = tlpParam(r, "api: intel list"); err != nil {
		return nil, 0, err
	}
	rows, total, err := svc.List(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	out := List[IndicatorOut]{Items: []IndicatorOut{}, Total: total, Limit: limit, Offset: offset}
	for _, i := range rows {
		out.Items = append(out.Items, h.out(i))
	}
	return out, http.StatusOK, nil
}

type indicatorIn struct {
	Kind        string     `json:"kind"`
	Value       string     `json:"value"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Confidence  int        `json:"confidence"`
	ValidFrom   *time.Time `json:"valid_from"`
	ValidUntil  *time.Time `json:"valid_until"`
	TLP         string     `json:"tlp"`
	Tags        []string   `json:"tags"`
	KillChain   []string   `json:"kill_chain"`
	Source      string     `json:"source"`
	Ref         string     `json:"ref"`
}

func (h *intelAPI) create(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	var in indicatorIn
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	input := intel.Input{Kind: intel.Kind(in.Kind), Value: in.Value, Name: in.Name, Description: in.Description, Confidence: in.Confidence,
		Tags: in.Tags, KillChain: in.KillChain, Source: strings.TrimSpace(in.Source), Ref: in.Ref, TLP: policy.TLP(in.TLP)}
	if input.Source != "" && !strings.HasPrefix(input.Source, "api:") {
		input.Source = "api:" + input.Source
	}
	if in.ValidFrom != nil {
		input.ValidFrom = *in.ValidFrom
	}
	if in.ValidUntil != nil {
		input.ValidUntil = *in.ValidUntil
	}
	ind, err := svc.Create(r.Context(), a, input)
	if err != nil {
		return nil, 0, err
	}
	return h.out(ind), http.StatusCreated, nil
}

func (h *intelAPI) get(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "id")
	if err != nil {
		return nil, 0, err
	}
	ind, err := svc.Get(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return h.out(ind), http.StatusOK, nil
}

func (h *intelAPI) change(r *http.Request, a policy.Actor, fn func(svc *intel.Service, id int64) error) (any, int, error) {
	svc, id, err := h.target(r, "id")
	if err != nil {
		return nil, 0, err
	}
	if err := fn(svc, id); err != nil {
		return nil, 0, err
	}
	ind, err := svc.Get(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return h.out(ind), http.StatusOK, nil
}

func (h *intelAPI) expire(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.change(r, a, func(svc *intel.Service, id int64) error { return svc.Expire(r.Context(), a, id) })
}

func (h *intelAPI) revoke(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.change(r, a, func(svc *intel.Service, id int64) error { return svc.Revoke(r.Context(), a, id) })
}

type sightingIn struct {
	FirstSeen *time.Time `json:"first_seen"`
	LastSeen  *time.Time `json:"last_seen"`
	Count     int        `json:"count"`
	Source    string     `json:"source"`
}

func (h *intelAPI) sighting(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var in sightingIn
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	s := intel.SightingInput{Count: in.Count, Source: in.Source}
	if in.FirstSeen != nil {
		s.FirstSeen = *in.FirstSeen
	}
	if in.LastSeen != nil {
		s.LastSeen = *in.LastSeen
	}
	out, _, err := h.change(r, a, func(svc *intel.Service, id int64) error { return svc.AddSighting(r.Context(), a, id, s) })
	if err != nil {
		return nil, 0, err
	}
	return out, http.StatusCreated, nil
}

// importFile takes a STIX bundle (format=stix, the default) or a MISP event
// (format=misp) as the body.
// MaxIntelImport bounds a bundle or event posted to the import route (the
// import streams it; larger files go through certnet import).
const MaxIntelImport = 512 << 20

func (h *intelAPI) importFile(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	opt := intel.ImportOptions{Name: q.Get("name")}
	if opt.Name == "" {
		opt.Name = "api"
	}
	if opt.DefaultTLP, err = tlpParam(r, "api: intel import"); err != nil {
		return nil, 0, err
	}
	// The import streams its body: it has its own bound, not the JSON one.
	body := io.Reader(strings.NewReader(""))
	if raw := rawReader(r); raw != nil {
		if r.ContentLength > MaxIntelImport {
			return nil, 0, errs.TooLarge("api: intel import")
		}
		body = http.MaxBytesReader(w, io.NopCloser(raw), MaxIntelImport)
	}
	var res intel.ImportResult
	switch q.Get("format") {
	case "", "stix":
		res, err = svc.ImportSTIX(r.Context(), a, body, opt)
	case "misp":
		res, err = svc.ImportMISP(r.Context(), a, body, opt)
	default:
		return nil, 0, errs.Invalid("api: intel import").Field("format", "intel.error.format")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, 0, errs.TooLarge("api: intel import")
		}
		return nil, 0, err
	}
	return res, http.StatusCreated, nil
}

func (h *intelAPI) getImport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "id")
	if err != nil {
		return nil, 0, err
	}
	res, err := svc.GetImport(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return res, http.StatusOK, nil
}

// export streams a STIX 2.1 bundle of what the caller may read (tlp: the
// most restrictive label; RED never leaves).
func (h *intelAPI) export(w http.ResponseWriter, r *http.Request) {
	s := h.s
	a, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	svc, err := h.service()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opt := intel.ExportOptions{}
	if opt.MaxTLP, err = tlpParam(r, "api: intel export"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := r.URL.Query().Get("since"); v != "" {
		if opt.Since, err = time.Parse(time.RFC3339, v); err != nil {
			s.writeError(w, r, errs.Invalid("api: intel export").Field("since", "intel.error.date"))
			return
		}
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	if _, err := svc.ExportSTIX(r.Context(), a, w, opt); err != nil {
		s.Log.Warn("api: intel export cut short", "err", err)
	}
}

// Advisories (cảnh báo) and the CVE table.
func init() {
	register([]Route{
		{"GET", "/api/v1/advisories"},
		{"POST", "/api/v1/advisories"},
		{"GET", "/api/v1/advisories/{id}"},
		{"PUT", "/api/v1/advisories/{id}"},
		{"POST", "/api/v1/advisories/{id}/publish"},
		{"POST", "/api/v1/advisories/{id}/close"},
		{"POST", "/api/v1/advisories/{id}/acknowledge"},
		{"POST", "/api/v1/advisories/{id}/report"},
		{"GET", "/api/v1/advisories/{id}/recipients"},
		{"GET", "/api/v1/advisories/{id}/rates"},
		{"GET", "/api/v1/advisories/{id}/stix"},
		{"GET", "/api/v1/cves/{id}"},
		{"POST", "/api/v1/advisories/from-report"},
	}, func(s *Server) map[string]http.HandlerFunc {
		h := &intelAPI{s: s, svc: s.Intel}
		return map[string]http.HandlerFunc{
			"GET /api/v1/advisories":                   s.authed(h.listAdvisories),
			"POST /api/v1/advisories":                  s.authed(h.createAdvisory),
			"GET /api/v1/advisories/{id}":              s.authed(h.getAdvisory),
			"PUT /api/v1/advisories/{id}":              s.authed(h.updateAdvisory),
			"POST /api/v1/advisories/{id}/publish":     s.authed(h.publishAdvisory),
			"POST /api/v1/advisories/{id}/close":       s.authed(h.closeAdvisory),
			"POST /api/v1/advisories/{id}/acknowledge": s.authed(h.acknowledgeAdvisory),
			"POST /api/v1/advisories/{id}/report":      s.authed(h.reportAdvisory),
			"GET /api/v1/advisories/{id}/recipients":   s.authed(h.advisoryRecipients),
			"GET /api/v1/advisories/{id}/rates":        s.authed(h.advisoryRates),
			"GET /api/v1/advisories/{id}/stix":         s.authed(h.advisorySTIX),
			"GET /api/v1/cves/{id}":                    s.authed(h.getCVE),
			"POST /api/v1/advisories/from-report":      s.authed(h.advisoryFromReport),
		}
	})
}

// AdvisoryOut is an advisory as the API shows it: with the caller's
// organisation's recipient row when it is one, and what the CVE table
// knows of its CVEs.
type AdvisoryOut struct {
	intel.Advisory
	Mine    *intel.Recipient `json:"mine,omitempty"`
	CVEInfo []intel.CVE      `json:"cve_info"`
}

func (h *intelAPI) listAdvisories(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := intel.AdvisoryFilter{Status: q.Get("status"), Severity: q.Get("severity"), Mine: q.Get("mine") == "true", Own: q.Get("own") == "true",
		Exercise: q.Get("exercise") == "true", Limit: limit, Offset: offset}
	e := errs.Invalid("api: advisories")
	if f.Status != "" && !slices.Contains(intel.AdvisoryStatuses, f.Status) {
		e.Field("status", "field.invalid")
	}
	if f.Severity != "" && !slices.Contains(intel.Severities, f.Severity) {
		e.Field("severity", "field.invalid")
	}
	if err := e.OrNil(); err != nil {
		return nil, 0, err
	}
	if q.Has("offset") {
		// The older form: an offset into the list.
		list, err := svc.Advisories(r.Context(), a, f)
		if err != nil {
			return nil, 0, err
		}
		return items(list), http.StatusOK, nil
	}
	// Keyset pages: a page never skips or repeats an advisory when others
	// are published meanwhile.
	var before, after int64
	for name, to := range map[string]*int64{"before": &before, "after": &after} {
		if s := q.Get(name); s != "" {
			n, perr := strconv.ParseInt(s, 10, 64)
			if perr != nil || n < 1 {
				return nil, 0, errs.Invalid("api: advisories").Field(name, "field.invalid")
			}
			*to = n
		}
	}
	p, err := svc.AdvisoriesPage(r.Context(), a, f, before, after)
	if err != nil {
		return nil, 0, err
	}
	rows := p.Rows
	if rows == nil {
		rows = []intel.AdvisoryRow{}
	}
	return advisoryPageOut{Items: rows, Older: p.Older, Newer: p.Newer}, http.StatusOK, nil
}

// advisoryPageOut is a page of the advisory list with the cursors of its
// neighbours.
type advisoryPageOut struct {
	Items []intel.AdvisoryRow `json:"items"`
	Older int64               `json:"older,omitempty"` // pass as before for the next (older) page
	Newer int64               `json:"newer,omitempty"` // pass as after for the page before
}

// advisoryBody is a draft advisory.
type advisoryBody struct {
	Title        string          `json:"title"`
	TitleEN      string          `json:"title_en"`
	Summary      string          `json:"summary"`
	SummaryEN    string          `json:"summary_en"`
	Body         string          `json:"body"`
	BodyEN       string          `json:"body_en"`
	Severity     string          `json:"severity"`
	CVEs         []string        `json:"cves"`
	Products     []intel.Product `json:"products"`
	Actions      string          `json:"actions"`
	TLP          string          `json:"tlp"`
	DeadlineAt   string          `json:"deadline_at"`
	Targeting    intel.Targeting `json:"targeting"`
	IndicatorIDs []int64         `json:"indicator_ids"`
}

func (b advisoryBody) input(op string) (intel.AdvisoryInput, error) {
	in := intel.AdvisoryInput{Title: b.Title, TitleEN: b.TitleEN, Summary: b.Summary, SummaryEN: b.SummaryEN, Body: b.Body, BodyEN: b.BodyEN,
		Severity: b.Severity, CVEs: b.CVEs, Products: b.Products, Actions: b.Actions, TLP: policy.TLP(b.TLP), Targeting: b.Targeting,
		IndicatorIDs: b.IndicatorIDs}
	if b.DeadlineAt != "" {
		t, err := time.Parse(time.RFC3339, b.DeadlineAt)
		if err != nil {
			return in, errs.Invalid(op).Field("deadline_at", "intel.adv.err.deadline")
		}
		in.DeadlineAt = t
	}
	return in, nil
}

func (h *intelAPI) createAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	const op = "api: create advisory"
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	// Whether the caller may write at all comes before what it sent.
	if err := policy.Check(a, policy.AdvisoryWrite, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return nil, 0, err
	}
	var b advisoryBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in, err := b.input(op)
	if err != nil {
		return nil, 0, err
	}
	v, err := svc.CreateAdvisory(r.Context(), a, in)
	if err != nil {
		return nil, 0, err
	}
	return h.advisoryOut(r, a, v), http.StatusCreated, nil
}

func (h *intelAPI) advisoryOut(r *http.Request, a policy.Actor, v intel.Advisory) AdvisoryOut {
	out := AdvisoryOut{Advisory: v, CVEInfo: []intel.CVE{}}
	if info, err := h.svc.CVEInfo(r.Context(), a, v.CVEs); err == nil {
		for _, c := range v.CVEs {
			if ci, ok := info[c]; ok {
				out.CVEInfo = append(out.CVEInfo, ci)
			}
		}
	}
	if v.Status != intel.AdvisoryDraft && slices.Contains(v.RecipientOrgs, a.OrgID) {
		if list, err := h.svc.Recipients(r.Context(), a, v.ID, intel.RecipientFilter{}); err == nil {
			for i := range list {
				if list[i].OrgID == a.OrgID {
					out.Mine = &list[i]
				}
			}
		}
	}
	return out
}

func (h *intelAPI) getAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "id")
	if err != nil {
		return nil, 0, err
	}
	v, err := svc.Advisory(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return h.advisoryOut(r, a, v), http.StatusOK, nil
}

func (h *intelAPI) updateAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	const op = "api: update advisory"
	svc, id, err := h.target(r, "id")
	if err != nil {
		return nil, 0, err
	}
	cur, err := svc.Advisory(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.AdvisoryWrite, policy.Resource{OwnerOrg: cur.OwnerOrgID, TLP: policy.TLPGreen}); err != nil {
		return nil, 0, err
	}
	var b advisoryBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in, err := b.input(op)
	if err != nil {
		return nil, 0, err
	}
	v, err := svc.UpdateAdvisory(r.Context(), a, id, in)
	if err != nil {
		return nil, 0, err
	}
	return h.advisoryOut(r, a, v), http.StatusOK, nil
}

// advisoryAction runs a change on the advisory of the path.
func (h *intelAPI) advisoryAction(r *http.Request, do func(svc *intel.Service, id int64) (any, error)) (any, int, error) {
	svc, id, err := h.target(r, "id")
	if err != nil {
		return nil, 0, err
	}
	out, err := do(svc, id)
	if err != nil {
		return nil, 0, err
	}
	return out, http.StatusOK, nil
}

func (h *intelAPI) publishAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		v, err := svc.Publish(r.Context(), a, id)
		if err != nil {
			return nil, err
		}
		return h.advisoryOut(r, a, v), nil
	})
}

func (h *intelAPI) closeAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		v, err := svc.CloseAdvisory(r.Context(), a, id)
		if err != nil {
			return nil, err
		}
		return h.advisoryOut(r, a, v), nil
	})
}

func (h *intelAPI) acknowledgeAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		return svc.Respond(r.Context(), a, id, intel.RespondInput{Acknowledge: true})
	})
}

type advisoryReportBody struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (h *intelAPI) reportAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		// The advisory and the caller's part are decided before the body.
		if _, err := svc.Advisory(r.Context(), a, id); err != nil {
			return nil, err
		}
		var b advisoryReportBody
		if err := decode(r, &b); err != nil {
			return nil, err
		}
		return svc.Respond(r.Context(), a, id, intel.RespondInput{Outcome: b.Outcome, Note: b.Note})
	})
}

func (h *intelAPI) advisoryRecipients(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		q := r.URL.Query()
		f := intel.RecipientFilter{Status: q.Get("status"), Outcome: q.Get("outcome"), Sector: q.Get("sector"), Province: q.Get("province"),
			Overdue: q.Get("overdue") == "true"}
		list, err := svc.Recipients(r.Context(), a, id, f)
		if err != nil {
			return nil, err
		}
		l := h.s.labels(r, a)
		for i := range list {
			var seen bool
			if list[i].OrgName, seen = l.name(list[i].OrgID); !seen {
				list[i].OrgCode = ""
			}
		}
		return items(list), nil
	})
}

func (h *intelAPI) advisoryRates(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		return svc.Rates(r.Context(), a, id)
	})
}

func (h *intelAPI) advisorySTIX(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return h.advisoryAction(r, func(svc *intel.Service, id int64) (any, error) {
		b, err := svc.AdvisorySTIX(r.Context(), a, id)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(b), nil
	})
}

func (h *intelAPI) getCVE(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, ok := intel.NormaliseCVE(r.PathValue("id"))
	if !ok {
		return nil, 0, errs.NotFound("api: cve")
	}
	info, err := svc.CVEInfo(r.Context(), a, []string{id})
	if err != nil {
		return nil, 0, err
	}
	c, ok := info[id]
	if !ok {
		return nil, 0, errs.NotFound("api: cve")
	}
	return c, http.StatusOK, nil
}

type fromReportBody struct {
	STIXID string `json:"stix_id"`
}

func (h *intelAPI) advisoryFromReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	var b fromReportBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if !intel.ValidSTIXID(b.STIXID, "report") {
		return nil, 0, errs.Invalid("api: advisory from report").Field("stix_id", "intel.error.stix_id")
	}
	v, err := svc.AdvisoryFromReport(r.Context(), a, b.STIXID)
	if err != nil {
		return nil, 0, err
	}
	return h.advisoryOut(r, a, v), http.StatusCreated, nil
}
