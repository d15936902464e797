package web

import (
	"net/http"
	"slices"
)

// Following an incident: whoever may read it can follow it and is then told
// of its status changes and comments (notify, kind incident.status and
// incident.comment).
func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		mux.Handle("POST /incidents/{ref}/watch", s.page(s.handleIncidentWatch))
	})
	addIncidentSection("watch", func(s *Server, r *http.Request, v *incView) (string, any, error) {
		ids, err := s.Incidents.Watchers(r.Context(), v.Actor, v.Inc.Ref)
		if err != nil {
			return "", nil, err
		}
		return "incident_watch", watchView{Base: v.Base, Ref: v.Inc.Ref, Watching: slices.Contains(ids, v.UserID),
			Count: len(ids)}, nil
	})
}

type watchView struct {
	Base
	Ref      string
	Watching bool
	Count    int
}

func (s *Server) handleIncidentWatch(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	ref := r.PathValue("ref")
	var err error
	flash := "incidents.flash.watching"
	if r.PostFormValue("on") == "0" {
		err = s.Incidents.Unwatch(r.Context(), wh.Actor, ref)
		flash = "incidents.flash.unwatched"
	} else {
		err = s.Incidents.Watch(r.Context(), wh.Actor, ref)
	}
	s.afterAction(w, r, err, flash)
}
