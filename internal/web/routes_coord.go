package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Coordination orders: issued from the incident page; the list of
		// my organisation's orders; one order as its target sees it.
		mux.Handle("POST /incidents/{ref}/orders", s.page(s.handleOrderIssue))
		mux.Handle("GET /orders", s.page(s.handleOrders))
		mux.Handle("GET /orders/{id}", s.page(s.handleOrder))
		mux.Handle("POST /orders/{id}/respond", s.page(s.handleOrderRespond))
		mux.Handle("POST /orders/{id}/effort", s.page(s.handleOrderEffort))

		// Support requests and effort.
		mux.Handle("POST /incidents/{ref}/support", s.page(s.handleSupportRequest))
		mux.Handle("GET /support", s.page(s.handleSupportList))
		mux.Handle("POST /support/{id}/decide", s.page(s.handleSupportDecide))
		mux.Handle("POST /incidents/{ref}/effort", s.page(s.handleEffortAdd))
		// The incident's effort and costs for reimbursement (QĐ 1622):
		// ?format=csv (default) or xlsx.
		mux.Handle("GET /incidents/{ref}/effort/export", s.page(s.handleEffortExport))
	})
}
