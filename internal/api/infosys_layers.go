package api

import (
	"net/http"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/infosys"
	"certnet/internal/policy"
)

// The 4-layer model of organisations and systems, the QĐ 1014 IOC
// percentages and the KPI trend (issue 6, items 3 and 6).

func init() {
	register([]Route{
		{"GET", "/api/v1/infosys/orgs/{oid}/layers"},
		{"PUT", "/api/v1/infosys/orgs/{oid}/layers"},
		{"GET", "/api/v1/infosys/systems/{sid}/layers"},
		{"PUT", "/api/v1/infosys/systems/{sid}/layers"},
		{"GET", "/api/v1/infosys/qd1014"},
		{"GET", "/api/v1/infosys/trend"},
	}, func(s *Server) map[string]http.HandlerFunc {
		h := &infosysAPI{s: s, svc: s.Infosys}
		return map[string]http.HandlerFunc{
			"GET /api/v1/infosys/orgs/{oid}/layers":    s.authed(h.orgLayers),
			"PUT /api/v1/infosys/orgs/{oid}/layers":    s.authed(h.saveOrgLayers),
			"GET /api/v1/infosys/systems/{sid}/layers": s.authed(h.systemLayers),
			"PUT /api/v1/infosys/systems/{sid}/layers": s.authed(h.saveSystemLayers),
			"GET /api/v1/infosys/qd1014":               s.authed(h.qd1014),
			"GET /api/v1/infosys/trend":                s.authed(h.trend),
		}
	})
}

// layersBody is the answer about a 4-layer record: the record, for a
// system its owner's too (which it inherits layer by layer), and the status
// of each layer now.
type layersBody struct {
	Layers    infosys.Layers        `json:"layers"`
	OrgLayers *infosys.Layers       `json:"org_layers,omitempty"`
	Status    []infosys.LayerStatus `json:"status"`
	Complete  bool                  `json:"complete"`
}

func layersAnswer(l infosys.Layers, org *infosys.Layers, st []infosys.LayerStatus) layersBody {
	if l.Staff == nil {
		l.Staff = []infosys.Staff{}
	}
	if l.RangesShared == nil {
		l.RangesShared = []string{}
	}
	if org != nil {
		if org.Staff == nil {
			org.Staff = []infosys.Staff{}
		}
		if org.RangesShared == nil {
			org.RangesShared = []string{}
		}
	}
	return layersBody{Layers: l, OrgLayers: org, Status: st, Complete: infosys.Complete(st)}
}

func (h *infosysAPI) orgLayers(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "oid")
	if err != nil {
		return nil, 0, err
	}
	l, st, err := svc.OrgLayers(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return layersAnswer(l, nil, st), http.StatusOK, nil
}

func (h *infosysAPI) saveOrgLayers(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "oid")
	if err != nil {
		return nil, 0, err
	}
	var in infosys.LayersInput
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	if _, err := svc.SaveOrgLayers(r.Context(), a, id, in); err != nil {
		return nil, 0, err
	}
	return h.orgLayers(w, r, a)
}

func (h *infosysAPI) systemLayers(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	_, own, org, st, err := svc.SystemLayers(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return layersAnswer(own, &org, st), http.StatusOK, nil
}

func (h *infosysAPI) saveSystemLayers(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	var in infosys.LayersInput
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	if _, err := svc.SaveSystemLayers(r.Context(), a, id, in); err != nil {
		return nil, 0, err
	}
	return h.systemLayers(w, r, a)
}

func (h *infosysAPI) qd1014(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	by := groupBy(r)
	xs, err := svc.IOCTargets(r.Context(), a, by)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"by": by, "items": xs}, http.StatusOK, nil
}

func (h *infosysAPI) trend(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	days := infosys.TrendDays
	if d := strings.TrimSpace(r.URL.Query().Get("days")); d != "" {
		if days, err = strconv.Atoi(d); err != nil {
			return nil, 0, errs.Invalid("api: trend").Field("days", "infosys.err.days", 3660)
		}
	}
	ps, err := svc.Trend(r.Context(), a, days)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"days": days, "items": ps}, http.StatusOK, nil
}
