package api

import (
	"net/http"
	"time"

	"certnet/internal/federation"
	"certnet/internal/policy"
)

// Federation (issue 4, item 5): this instance's parent certnet over TAXII
// 2.1 — the peers (secrets masked) with their sync state, and sync now.

func init() {
	register([]Route{
		{"GET", "/api/v1/federation/peers"},
		{"POST", "/api/v1/federation/peers"},
		{"GET", "/api/v1/federation/peers/{pid}"},
		{"PUT", "/api/v1/federation/peers/{pid}"},
		{"DELETE", "/api/v1/federation/peers/{pid}"},
		{"POST", "/api/v1/federation/peers/{pid}/sync"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/federation/peers":             s.authed(s.listPeers),
			"POST /api/v1/federation/peers":            s.authed(s.createPeer),
			"GET /api/v1/federation/peers/{pid}":       s.authed(s.getPeer),
			"PUT /api/v1/federation/peers/{pid}":       s.authed(s.updatePeer),
			"DELETE /api/v1/federation/peers/{pid}":    s.authed(s.deletePeer),
			"POST /api/v1/federation/peers/{pid}/sync": s.authed(s.syncPeer),
		}
	})
}

func (s *Server) listPeers(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	states, err := s.Federation.States(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": states}, http.StatusOK, nil
}

func peerInput(r *http.Request) (federation.PeerInput, error) {
	var in federation.PeerInput
	if err := decode(r, &in); err != nil {
		return in, err
	}
	in.Interval = time.Duration(in.IntervalSecs) * time.Second
	return in, nil
}

func (s *Server) createPeer(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	in, err := peerInput(r)
	if err != nil {
		return nil, 0, err
	}
	if in.OrgID == 0 {
		in.OrgID = a.OrgID
	}
	p, err := s.Federation.Create(r.Context(), a, in)
	if err != nil {
		return nil, 0, err
	}
	return p, http.StatusCreated, nil
}

func (s *Server) getPeer(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "pid")
	if err != nil {
		return nil, 0, err
	}
	st, err := s.Federation.State(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return st, http.StatusOK, nil
}

func (s *Server) updatePeer(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "pid")
	if err != nil {
		return nil, 0, err
	}
	in, err := peerInput(r)
	if err != nil {
		return nil, 0, err
	}
	p, err := s.Federation.Update(r.Context(), a, id, in)
	if err != nil {
		return nil, 0, err
	}
	return p, http.StatusOK, nil
}

func (s *Server) deletePeer(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "pid")
	if err != nil {
		return nil, 0, err
	}
	if err := s.Federation.Delete(r.Context(), a, id); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

func (s *Server) syncPeer(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "pid")
	if err != nil {
		return nil, 0, err
	}
	rep, err := s.Federation.SyncNow(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusOK, nil
}
