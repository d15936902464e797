package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Information systems: the 4-layer model of an organisation and of
		// a system; the KPI page (KPIs with 4-layer completeness and open
		// findings, the QĐ 1014 IOC percentages, the trend chart) and its
		// CSV/XLSX exports.
		mux.Handle("GET /infosys/orgs/{oid}/layers", s.page(s.handleInfosysLayers))
		mux.Handle("POST /infosys/orgs/{oid}/layers", s.page(s.handleInfosysLayersSave))
		mux.Handle("GET /infosys/systems/{sid}/layers", s.page(s.handleInfosysLayers))
		mux.Handle("POST /infosys/systems/{sid}/layers", s.page(s.handleInfosysLayersSave))
		mux.Handle("GET /infosys/kpis", s.page(s.handleInfosysKPIs))
		mux.Handle("GET /infosys/kpis/export", s.page(s.handleInfosysKPIExport))
	})
}
