package web

import (
	"cmp"
	"net/http"

	"certnet/internal/incident"
)

// Report forms: the printable closure report (form 04) filled from the
// incident and its latest closure report.
func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		mux.Handle("GET /incidents/{ref}/form04", s.page(s.handleIncidentForm04))
	})
}

const tplIncidentForm04 = "incident_form04.html"

type form04View struct {
	Base
	Inc      incident.Incident
	Reporter string
	// Closure is the latest closure report; HasClosure is false when none
	// was filed yet (the page then says so and leaves its fields empty).
	Closure    incident.Report
	HasClosure bool
	// InitialRef and InitialDate: the closure report's own values, else
	// the incident's reference and reporting time (the initial report).
	InitialRef  string
	InitialDate string
	SystemName  string
	SystemOwner string
	SystemLevel int
	DetectedAt  string
	Signer      string
	SignedAt    string
}

func (s *Server) handleIncidentForm04(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	inc, err := s.Incidents.Get(r.Context(), wh.Actor, r.PathValue("ref"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := form04View{Base: s.base(r, "incforms.form04"), Inc: inc}
	v.Reporter = s.orgNamer(r).name(inc.ReporterOrgID)
	for _, rp := range inc.Reports { // Get read them
		if rp.Kind == incident.ReportClosure && (!v.HasClosure || !rp.SubmittedAt.Before(v.Closure.SubmittedAt)) {
			v.Closure, v.HasClosure = rp, true
		}
	}
	b := v.Closure.Body
	d := inc.Details
	v.InitialRef = cmp.Or(b.InitialRef, inc.Ref)
	if !b.InitialDate.IsZero() {
		v.InitialDate = v.Date(b.InitialDate)
	} else {
		v.InitialDate = v.Date(inc.ReportedAt)
	}
	v.SystemName = cmp.Or(b.SystemName, d.System.Name)
	v.SystemOwner = cmp.Or(b.SystemOwner, d.System.OwnerName)
	v.SystemLevel = b.SystemLevel
	if v.SystemLevel == 0 {
		v.SystemLevel = d.System.Level
	}
	if !b.DetectedAt.IsZero() {
		v.DetectedAt = v.Time(b.DetectedAt)
	} else {
		v.DetectedAt = v.Time(inc.DetectedAt)
	}
	if v.HasClosure {
		v.Signer, v.SignedAt = v.Closure.SubmittedName, v.Time(v.Closure.SubmittedAt)
	}
	s.render(w, r, http.StatusOK, tplIncidentForm04, v)
}
