package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Evidence files on a recipient's answer to an advisory: the
		// recipient's organisation uploads from its answer card; it, the
		// publisher's side and a response unit over it download (always as
		// an attachment).
		mux.Handle("POST /advisories/{id}/recipients/{rid}/evidence", s.limitUpload(advEvidenceLimit, s.page(s.handleAdvisoryEvidenceAdd)))
		mux.Handle("GET /advisories/{id}/recipients/{rid}/evidence/{fid}", s.page(s.handleAdvisoryEvidence))
		mux.Handle("POST /advisories/{id}/recipients/{rid}/evidence/{fid}/remove", s.page(s.handleAdvisoryEvidenceRemove))
	})
}
