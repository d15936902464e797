package api

import (
	"errors"
	"io"
	"net/http"
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
			"POST /api/v1/intel/imports":                   s.authed(h.importFile),
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
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
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
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
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
	body := io.Reader(r.Body)
	if r.Body == nil {
		body = strings.NewReader("")
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
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
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
