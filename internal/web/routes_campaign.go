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
		// The forms: a runner creates a campaign and imports its list (a
		// preview with the refused lines, then the import); a member
		// answers for its part.
		mux.Handle("GET /campaigns/new", s.page(s.handleCampaignNew))
		mux.Handle("POST /campaigns", s.page(s.handleCampaignCreate))
		mux.Handle("GET /campaigns/{cid}/import", s.page(s.handleCampaignImportForm))
		mux.Handle("POST /campaigns/{cid}/import", s.limitUpload(campaignImportLimit, s.page(s.handleCampaignImportPreview)))
		mux.Handle("POST /campaigns/{cid}/import/confirm", s.limitUpload(campaignImportLimit, s.page(s.handleCampaignImportConfirm)))
		mux.Handle("POST /campaigns/{cid}/parts/{oid}/status", s.page(s.handleCampaignRespond))
	})
}
