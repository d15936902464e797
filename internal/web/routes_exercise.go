package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Exercises of a drill: a drill run on certnet, its injects, the
		// live view and the after-action report.
		mux.Handle("GET /readiness/drills/{did}/exercises", s.page(s.handleExercises))
		mux.Handle("POST /readiness/drills/{did}/exercises", s.page(s.handleExerciseCreate))
		mux.Handle("GET /exercises/{xid}", s.page(s.handleExercise))
		mux.Handle("POST /exercises/{xid}/injects", s.page(s.handleExerciseInject))
		mux.Handle("POST /exercises/{xid}/start", s.page(s.handleExerciseStart))
		mux.Handle("POST /exercises/{xid}/stop", s.page(s.handleExerciseStop))
		mux.Handle("POST /exercises/{xid}/notes", s.page(s.handleExerciseNote))
		mux.Handle("GET /exercises/{xid}/report", s.page(s.handleExerciseReport))
	})
}
