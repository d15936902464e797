package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// The inbox and one's notification settings.
		mux.Handle("GET /inbox", s.page(s.handleInbox))
		mux.Handle("POST /inbox/{id}/read", s.page(s.handleInboxRead))
		mux.Handle("POST /inbox/read-all", s.page(s.handleInboxReadAll))
		mux.Handle("GET /profile/notifications", s.page(s.handleNotifPrefs))
		mux.Handle("POST /profile/notifications", s.page(s.handleNotifPrefsSave))

		// An organisation's webhooks.
		mux.Handle("GET /orgs/{id}/webhooks", s.page(s.handleWebhooks))
		mux.Handle("POST /orgs/{id}/webhooks", s.page(s.handleWebhookCreate))
		mux.Handle("GET /orgs/{id}/webhooks/{wid}", s.page(s.handleWebhook))
		mux.Handle("POST /orgs/{id}/webhooks/{wid}", s.page(s.handleWebhookUpdate))
		mux.Handle("POST /orgs/{id}/webhooks/{wid}/delete", s.page(s.handleWebhookDelete))
		mux.Handle("POST /orgs/{id}/webhooks/{wid}/test", s.page(s.handleWebhookTest))

		// Operations.
		mux.Handle("GET /admin/outbox", s.page(s.handleOutbox))
	})
}
