package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Information systems: inventory with KPIs, a system with its
		// schedule and level dossiers, a dossier's workflow, the calendar.
		mux.Handle("GET /infosys", s.page(s.handleInfosys))
		mux.Handle("POST /infosys/systems", s.page(s.handleInfosysCreate))
		mux.Handle("GET /infosys/systems/{sid}", s.page(s.handleInfosysSystem))
		mux.Handle("POST /infosys/systems/{sid}/dossiers", s.page(s.handleInfosysDossierCreate))
		mux.Handle("POST /infosys/systems/{sid}/activities", s.page(s.handleInfosysActivity))
		mux.Handle("GET /infosys/dossiers/{did}", s.page(s.handleInfosysDossier))
		mux.Handle("POST /infosys/dossiers/{did}", s.page(s.handleInfosysDossierSave))
		mux.Handle("POST /infosys/dossiers/{did}/move", s.page(s.handleInfosysMove))
		mux.Handle("POST /infosys/systems/{sid}/findings", s.page(s.handleInfosysFindingsImport))
		mux.Handle("POST /infosys/findings/{fid}/status", s.page(s.handleInfosysFindingStatus))
		mux.Handle("GET /infosys/kpis.csv", s.page(s.handleInfosysKPICSV))
		mux.Handle("GET /infosys/calendar.ics", s.page(s.handleInfosysICS))
	})
}
