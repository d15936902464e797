package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

// Saved filters of the incident list and the form 05 summary (issue 3,
// items 8 and 9).

func init() {
	register([]Route{
		{"GET", "/api/v1/incident-filters"},
		{"POST", "/api/v1/incident-filters"},
		{"DELETE", "/api/v1/incident-filters/{id}"},
		{"GET", "/api/v1/incidents/summary"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/incident-filters":         s.authed(s.listFilters),
			"POST /api/v1/incident-filters":        s.authed(s.saveFilter),
			"DELETE /api/v1/incident-filters/{id}": s.authed(s.deleteFilter),
			"GET /api/v1/incidents/summary":        s.authed(s.incidentSummary),
		}
	})
}

func (s *Server) listFilters(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	fs, err := s.Incidents.Filters(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	return items(fs), http.StatusOK, nil
}

// filterBody saves the incident list's query string (the web list's
// parameters: status, type, severity, class, rsit, province, sector, q,
// from, to, dfrom, dto, overdue) under a name.
type filterBody struct {
	Name   string `json:"name"`
	Query  string `json:"query"`
	Shared bool   `json:"shared"`
}

func (s *Server) saveFilter(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b filterBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	f, err := s.Incidents.SaveFilter(r.Context(), a, b.Name, b.Query, b.Shared)
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", "/api/v1/incident-filters/"+strconv.FormatInt(f.ID, 10))
	return f, http.StatusCreated, nil
}

func (s *Server) deleteFilter(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	if err := s.Incidents.DeleteFilter(r.Context(), a, id); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

// incidentSummary answers form 05 for ?year=&half= (0 or absent: the whole
// year, 1 the first half, 2 the second) or ?from=&to= (dates, Vietnam
// time, to included), optionally for ?org= (with its subtree) and
// ?province=.
func (s *Server) incidentSummary(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	q := r.URL.Query()
	var f incident.SummaryFilter
	v := errs.Invalid("api: incident summary")
	num := func(name string) int64 {
		str := strings.TrimSpace(q.Get(name))
		if str == "" {
			return 0
		}
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil || n < 0 {
			v.Field(name, "field.invalid")
		}
		return n
	}
	f.Year, f.Half, f.OrgID = int(num("year")), int(num("half")), num("org")
	if q.Get("org") != "" && f.OrgID == 0 {
		v.Field("org", "field.invalid")
	}
	day := func(name string, next bool) time.Time {
		str := strings.TrimSpace(q.Get(name))
		if str == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, str, i18n.Zone)
		if err != nil {
			v.Field(name, "incsearch.err.date")
			return time.Time{}
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	f.From, f.To = day("from", false), day("to", true)
	f.ProvinceCode = q.Get("province")
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	sum, err := s.Incidents.Summary(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	return sum, http.StatusOK, nil
}

// listParams are the incident list's own parameters that a saved filter
// (?filter=id) may be combined with.
var listParams = []string{"filter", "limit", "offset", "sort"}

// savedListFilter applies ?filter= (a saved filter's id) to the incident
// list: the saved query gives the filter, with the page and sort of the
// request; other filter parameters are refused beside it.
func (s *Server) savedListFilter(r *http.Request, a policy.Actor, f incident.Filter) (incident.Filter, error) {
	q := r.URL.Query()
	raw := strings.TrimSpace(q.Get("filter"))
	if raw == "" {
		return f, nil
	}
	v := errs.Invalid("api: list incidents")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return f, v.Field("filter", "field.invalid")
	}
	for k := range q {
		if !slices.Contains(listParams, k) {
			return f, v.Field(k, "incfilter.err.alone")
		}
	}
	sf, err := s.Incidents.Filter(r.Context(), a, id)
	if err != nil {
		return f, err
	}
	saved, err := sf.Apply()
	if err != nil {
		return f, err
	}
	saved.Limit, saved.Offset, saved.Sort = f.Limit, f.Offset, f.Sort
	return saved, nil
}
