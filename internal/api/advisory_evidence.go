package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"certnet/internal/incident"
	"certnet/internal/intel"
	"certnet/internal/policy"
)

// Evidence files on a recipient's answer to an advisory: the recipient's
// organisation uploads (the raw body, name and note in the query); those
// who follow that recipient list and download.
func init() {
	register([]Route{
		{"GET", "/api/v1/advisories/{id}/recipients/{rid}/evidence"},
		{"POST", "/api/v1/advisories/{id}/recipients/{rid}/evidence"},
		{"GET", "/api/v1/advisories/{id}/recipients/{rid}/evidence/{fid}"},
		{"DELETE", "/api/v1/advisories/{id}/recipients/{rid}/evidence/{fid}"},
	}, func(s *Server) map[string]http.HandlerFunc {
		h := &intelAPI{s: s, svc: s.Intel}
		return map[string]http.HandlerFunc{
			"GET /api/v1/advisories/{id}/recipients/{rid}/evidence":          s.authed(h.answerEvidence),
			"POST /api/v1/advisories/{id}/recipients/{rid}/evidence":         s.rawBody(s.authed(h.attachAnswerEvidence)),
			"GET /api/v1/advisories/{id}/recipients/{rid}/evidence/{fid}":    h.downloadAnswerEvidence,
			"DELETE /api/v1/advisories/{id}/recipients/{rid}/evidence/{fid}": s.authed(h.removeAnswerEvidence),
		}
	})
}

// answerIDs reads the advisory and recipient ids of the path.
func answerIDs(r *http.Request) (id, rid int64, err error) {
	if id, err = pathID(r, "id"); err != nil {
		return 0, 0, err
	}
	rid, err = pathID(r, "rid")
	return id, rid, err
}

// answerFileIDs reads the advisory, recipient and file ids of the path.
func answerFileIDs(r *http.Request) (id, rid, fid int64, err error) {
	if id, rid, err = answerIDs(r); err != nil {
		return 0, 0, 0, err
	}
	fid, err = pathID(r, "fid")
	return id, rid, fid, err
}

func (h *intelAPI) answerEvidence(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, rid, err := answerIDs(r)
	if err != nil {
		return nil, 0, err
	}
	xs, err := svc.AnswerEvidenceList(r.Context(), a, id, rid)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": xs}, http.StatusOK, nil
}

func (h *intelAPI) attachAnswerEvidence(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, rid, err := answerIDs(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	x, err := svc.AttachAnswerEvidence(r.Context(), a, id, rid, intel.AnswerEvidenceInput{Name: q.Get("name"), Note: q.Get("note"),
		Body: http.MaxBytesReader(w, io.NopCloser(rawReader(r)), intel.MaxAnswerEvidence+1)})
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/advisories/%d/recipients/%d/evidence/%d", id, rid, x.ID))
	return x, http.StatusCreated, nil
}

// downloadAnswerEvidence sends a file as bytes (never for inline
// display), as incident evidence is sent.
func (h *intelAPI) downloadAnswerEvidence(w http.ResponseWriter, r *http.Request) {
	a, ok := h.s.authenticate(w, r)
	if !ok {
		return
	}
	svc, err := h.service()
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	id, rid, fid, err := answerFileIDs(r)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	x, data, err := svc.OpenAnswerEvidence(r.Context(), a, id, rid, fid)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	if err := incident.ServeFile(w, x.Evidence(), bytes.NewReader(data)); err != nil && !errors.Is(err, incident.ErrCorrupt) {
		h.s.Log.Warn("api: advisory evidence download cut short", "evidence", x.ID, "err", err)
	}
}

// removeAnswerEvidence takes a file off the caller's organisation's answer.
func (h *intelAPI) removeAnswerEvidence(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	id, rid, fid, err := answerFileIDs(r)
	if err != nil {
		return nil, 0, err
	}
	if err := svc.RemoveAnswerEvidence(r.Context(), a, id, rid, fid); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}
