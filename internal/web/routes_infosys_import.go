package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Information systems, second part: the inventory import (form,
		// template, preview, confirm), the edit page, attachments and the
		// holidays of the working-day clock.
		mux.Handle("GET /infosys/import", s.page(s.handleInfosysImportForm))
		mux.Handle("GET /infosys/import/template.xlsx", s.page(s.handleInfosysImportTemplate))
		mux.Handle("POST /infosys/import", s.limitUpload(infosysImportLimit, s.page(s.handleInfosysImportPreview)))
		mux.Handle("POST /infosys/import/confirm", s.limitUpload(infosysImportLimit, s.page(s.handleInfosysImportConfirm)))
		mux.Handle("GET /infosys/systems/{sid}/edit", s.page(s.handleInfosysEdit))
		mux.Handle("POST /infosys/systems/{sid}/edit", s.page(s.handleInfosysUpdate))
		mux.Handle("POST /infosys/systems/{sid}/attachments", s.limitUpload(infosysAttachLimit, s.page(s.handleInfosysAttach)))
		mux.Handle("GET /infosys/attachments/{aid}", s.page(s.handleInfosysAttachment))
		mux.Handle("GET /infosys/holidays", s.page(s.handleInfosysHolidays))
		mux.Handle("POST /infosys/holidays", s.page(s.handleInfosysHolidayAdd))
		mux.Handle("POST /infosys/holidays/{day}/delete", s.page(s.handleInfosysHolidayDelete))
	})
}
