package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Malware-cleanup campaigns: the list, a campaign (the runner's
		// progress by member, ISP and province with the chart and the map;
		// a member's or an ISP's own part and addresses), the report.
		mux.Handle("GET /campaigns", s.page(s.handleCampaigns))
		mux.Handle("GET /campaigns/{cid}", s.page(s.handleCampaign))
		mux.Handle("GET /campaigns/{cid}/report", s.page(s.handleCampaignReport))
		mux.Handle("GET /campaigns/{cid}/report.csv", s.page(s.handleCampaignReportCSV))
		mux.Handle("GET /campaigns/{cid}/report.xlsx", s.page(s.handleCampaignReportXLSX))
	})
}
