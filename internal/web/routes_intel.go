package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Indicators: list with filters (and the form to add one), one
		// indicator with its sources and sightings.
		mux.Handle("GET /intel/indicators", s.page(s.handleIntelList))
		mux.Handle("POST /intel/indicators", s.page(s.handleIntelCreate))
		mux.Handle("GET /intel/indicators/{id}", s.page(s.handleIntelIndicator))
		mux.Handle("POST /intel/indicators/{id}/expire", s.page(s.handleIntelExpire))
		mux.Handle("POST /intel/indicators/{id}/revoke", s.page(s.handleIntelRevoke))
		mux.Handle("POST /intel/indicators/{id}/sightings", s.page(s.handleIntelSighting))

		// Imports of STIX bundles and MISP events, with the per-object
		// error report; the STIX export of what may be shared.
		mux.Handle("GET /intel/import", s.page(s.handleIntelImportForm))
		mux.Handle("POST /intel/import", s.limitUpload(maxIntelUpload, s.page(s.handleIntelImport)))
		mux.Handle("GET /intel/imports/{id}", s.page(s.handleIntelImportReport))
		mux.Handle("GET /intel/export.stix.json", s.page(s.handleIntelExport))
	})
}

// maxIntelUpload bounds a bundle or event uploaded through the web UI;
// larger files go through `certnet import`, which streams them.
const maxIntelUpload = 256 << 20

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Advisories (cảnh báo): the list (my organisation's with ?mine=1),
		// a new draft, one advisory with the answer forms and the
		// publisher's rates and recipients, its actions, the recipients as
		// CSV or XLSX, and the advisory as a STIX report.
		mux.Handle("GET /advisories", s.page(s.handleAdvisories))
		mux.Handle("GET /advisories/new", s.page(s.handleAdvisoryNew))
		mux.Handle("POST /advisories", s.page(s.handleAdvisoryCreate))
		mux.Handle("POST /advisories/from-report", s.page(s.handleAdvisoryFromReport))
		mux.Handle("GET /advisories/{id}", s.page(s.handleAdvisory))
		mux.Handle("GET /advisories/{id}/edit", s.page(s.handleAdvisoryEdit))
		mux.Handle("POST /advisories/{id}/edit", s.page(s.handleAdvisoryUpdate))
		mux.Handle("POST /advisories/{id}/publish", s.page(s.handleAdvisoryPublish))
		mux.Handle("POST /advisories/{id}/close", s.page(s.handleAdvisoryClose))
		mux.Handle("POST /advisories/{id}/acknowledge", s.page(s.handleAdvisoryAck))
		mux.Handle("POST /advisories/{id}/report", s.page(s.handleAdvisoryReport))
		mux.Handle("GET /advisories/{id}/recipients/export", s.page(s.handleAdvisoryExport))
		mux.Handle("GET /advisories/{id}/stix.json", s.page(s.handleAdvisorySTIX))
	})
}
