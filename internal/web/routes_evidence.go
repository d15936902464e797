package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Evidence files of an incident: upload (multipart, the file
		// streamed into the store under the evidence size limit), the file's page with its custody log, the
		// download (an attachment, never inline).
		mux.Handle("POST /incidents/{ref}/evidence", s.streamUpload(s.evidenceBodyLimit(), s.page(s.handleEvidenceUpload)))
		mux.Handle("GET /evidence/{id}", s.page(s.handleEvidence))
		mux.Handle("GET /evidence/{id}/download", s.page(s.handleEvidenceDownload))

		// Tasks of an incident.
		mux.Handle("POST /incidents/{ref}/tasks", s.page(s.handleTaskAdd))
		mux.Handle("POST /tasks/{id}/done", s.page(s.handleTaskDone))
		mux.Handle("POST /tasks/{id}/assign", s.page(s.handleTaskAssign))

		// The public report page (no login) and its triage queue.
		mux.Handle("GET /report", s.public(s.handlePublicForm))
		mux.Handle("POST /report", s.public(s.handlePublicSubmit))
		mux.Handle("GET /public-reports", s.page(s.handlePublicList))
		mux.Handle("GET /public-reports/{ref}", s.page(s.handlePublicItem))
		mux.Handle("GET /public-reports/{ref}/convert", s.page(s.handlePublicConvertForm))
		mux.Handle("POST /public-reports/{ref}/convert", s.page(s.handlePublicConvert))
		mux.Handle("POST /public-reports/{ref}/dismiss", s.page(s.handlePublicDismiss))
	})
}
