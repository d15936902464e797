package api

import (
	"net/http"

	"certnet/internal/errs"
	"certnet/internal/ingest"
	"certnet/internal/policy"
)

// SOC ingest sources (issue 5): the tokens SOCs push event batches with
// (POST /ingest/v1/events, outside /api), their quotas and health.

func init() {
	register([]Route{
		{"GET", "/api/v1/orgs/{id}/ingest/sources"},
		{"POST", "/api/v1/orgs/{id}/ingest/sources"},
		{"GET", "/api/v1/ingest/sources"},
		{"GET", "/api/v1/ingest/sources/{sid}"},
		{"PUT", "/api/v1/ingest/sources/{sid}"},
		{"POST", "/api/v1/ingest/sources/{sid}/rotate"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/orgs/{id}/ingest/sources":     s.authed(s.listOrgSources),
			"POST /api/v1/orgs/{id}/ingest/sources":    s.authed(s.createSource),
			"GET /api/v1/ingest/sources":               s.authed(s.listSources),
			"GET /api/v1/ingest/sources/{sid}":         s.authed(s.getSource),
			"PUT /api/v1/ingest/sources/{sid}":         s.authed(s.updateSource),
			"POST /api/v1/ingest/sources/{sid}/rotate": s.authed(s.rotateSource),
		}
	})
}

func (s *Server) listOrgSources(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	items, err := s.Ingest.Sources(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": items}, http.StatusOK, nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	items, err := s.Ingest.Sources(r.Context(), a, 0)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": items}, http.StatusOK, nil
}

type sourceBody struct {
	Name  string `json:"name"`
	Quota int    `json:"quota_per_minute"`
}

// sourceWithToken is a source with its token, shown this once.
type sourceWithToken struct {
	ingest.Source
	Token string `json:"token"`
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := s.readinessOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	var b sourceBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	src, tok, err := s.Ingest.CreateSource(r.Context(), a, ingest.SourceInput{OrgID: id, Name: b.Name, Quota: b.Quota})
	if err != nil {
		return nil, 0, err
	}
	return sourceWithToken{Source: src, Token: tok}, http.StatusCreated, nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	src, err := s.Ingest.Source(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return src, http.StatusOK, nil
}

type sourceUpdate struct {
	Enabled *bool `json:"enabled"`
	Quota   *int  `json:"quota_per_minute"`
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	var b sourceUpdate
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if b.Enabled == nil && b.Quota == nil {
		if _, err := s.Ingest.Source(r.Context(), a, id); err != nil {
			return nil, 0, err
		}
		return nil, 0, errs.Invalid("api: source").Field("body", "api.err.empty_body")
	}
	var src ingest.Source
	if b.Quota != nil {
		if src, err = s.Ingest.SetQuota(r.Context(), a, id, *b.Quota); err != nil {
			return nil, 0, err
		}
	}
	if b.Enabled != nil {
		if src, err = s.Ingest.SetEnabled(r.Context(), a, id, *b.Enabled); err != nil {
			return nil, 0, err
		}
	}
	return src, http.StatusOK, nil
}

func (s *Server) rotateSource(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	src, tok, err := s.Ingest.Rotate(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return sourceWithToken{Source: src, Token: tok}, http.StatusOK, nil
}
