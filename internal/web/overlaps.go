package web

import (
	"net/http"

	"certnet/internal/org"
)

const tplOverlaps = "org_overlaps.html"

type overlapsView struct {
	Base
	Overlaps []org.Overlap
}

// handleOverlaps lists ranges of two organisations that overlap (left over
// from older data or imports: new ones are refused), so a coordinator can
// settle who owns what.
func (s *Server) handleOverlaps(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	ov, err := s.Orgs.Overlaps(r.Context(), wh.Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplOverlaps, overlapsView{Base: s.base(r, "overlaps.title"), Overlaps: ov})
}
