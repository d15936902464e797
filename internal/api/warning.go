package api

import (
	"net/http"
	"strconv"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/warning"
)

// Early warning (issue 5): the national warnings, their life cycle and
// one-step advisory draft, the thresholds, and the 24/7 view's figures.

func init() {
	register([]Route{
		{"GET", "/api/v1/warnings"},
		{"GET", "/api/v1/warnings/settings"},
		{"PUT", "/api/v1/warnings/settings"},
		{"GET", "/api/v1/warnings/{id}"},
		{"POST", "/api/v1/warnings/{id}/acknowledge"},
		{"POST", "/api/v1/warnings/{id}/close"},
		{"POST", "/api/v1/warnings/{id}/advisory"},
		{"GET", "/api/v1/watch"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/warnings":                   s.authed(s.listWarnings),
			"GET /api/v1/warnings/settings":          s.authed(s.getWarningSettings),
			"PUT /api/v1/warnings/settings":          s.authed(s.putWarningSettings),
			"GET /api/v1/warnings/{id}":              s.authed(s.getWarning),
			"POST /api/v1/warnings/{id}/acknowledge": s.authed(s.ackWarning),
			"POST /api/v1/warnings/{id}/close":       s.authed(s.closeWarning),
			"POST /api/v1/warnings/{id}/advisory":    s.authed(s.warningAdvisory),
			"GET /api/v1/watch":                      s.authed(s.getWatch),
		}
	})
}

func (s *Server) listWarnings(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	q := r.URL.Query()
	f := warning.Filter{State: q.Get("state"), Kind: q.Get("kind"), Subject: q.Get("subject"), Q: q.Get("q")}
	bad := errs.Invalid("api: warnings")
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				bad.Field(name, "field.invalid")
				continue
			}
			*dst = n
		}
	}
	if err := bad.OrNil(); err != nil {
		return nil, 0, err
	}
	items, err := s.Warning.List(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	if items == nil {
		items = []warning.Warning{}
	}
	return map[string]any{"items": items}, http.StatusOK, nil
}

func (s *Server) getWarning(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	v, err := s.Warning.Get(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if v.Affected == nil {
		v.Affected = []warning.Affected{}
	}
	return v, http.StatusOK, nil
}

type warningNote struct {
	Note string `json:"note"`
}

func (s *Server) changeWarning(r *http.Request, a policy.Actor, ack bool) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b warningNote
	if r.ContentLength != 0 {
		if err := decode(r, &b); err != nil {
			return nil, 0, err
		}
	}
	var v warning.Warning
	if ack {
		v, err = s.Warning.Acknowledge(r.Context(), a, id, b.Note)
	} else {
		v, err = s.Warning.Close(r.Context(), a, id, b.Note)
	}
	if err != nil {
		return nil, 0, err
	}
	return v, http.StatusOK, nil
}

func (s *Server) ackWarning(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return s.changeWarning(r, a, true)
}

func (s *Server) closeWarning(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return s.changeWarning(r, a, false)
}

func (s *Server) warningAdvisory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	adv, err := s.Warning.ToAdvisory(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return adv, http.StatusCreated, nil
}

func (s *Server) getWarningSettings(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	st, err := s.Warning.Settings(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	return st, http.StatusOK, nil
}

func (s *Server) putWarningSettings(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	if err := policy.Check(a, policy.WarningSettings, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber}); err != nil {
		return nil, 0, err
	}
	var st warning.Settings
	if err := decode(r, &st); err != nil {
		return nil, 0, err
	}
	st, err := s.Warning.SaveSettings(r.Context(), a, st)
	if err != nil {
		return nil, 0, err
	}
	return st, http.StatusOK, nil
}

// watchBody is the 24/7 figures with the rates per second.
type watchBody struct {
	warning.Watch
	EventsPerSecondMinute  float64 `json:"events_per_second_last_minute"`
	MatchesPerSecondMinute float64 `json:"matches_per_second_last_minute"`
	EventsPerSecondHour    float64 `json:"events_per_second_last_hour"`
	MatchesPerSecondHour   float64 `json:"matches_per_second_last_hour"`
}

func (s *Server) getWatch(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	v, err := s.Warning.Watch(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	for _, l := range []*[]warning.Top{&v.TopIndicators, &v.TopSignatures} {
		if *l == nil {
			*l = []warning.Top{}
		}
	}
	if v.Members == nil {
		v.Members = []warning.Member{}
	}
	if v.Warnings == nil {
		v.Warnings = []warning.Warning{}
	}
	return watchBody{Watch: v, EventsPerSecondMinute: v.EventsPerSecondMinute(), MatchesPerSecondMinute: v.MatchesPerSecondMinute(),
		EventsPerSecondHour: v.EventsPerSecondHour(), MatchesPerSecondHour: v.MatchesPerSecondHour()}, http.StatusOK, nil
}
