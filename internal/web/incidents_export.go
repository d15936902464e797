package web

import (
	"net/http"

	"certnet/internal/i18n"
	"certnet/internal/incident"
)

// incidentExportRows is the incident list under the filter as a table,
// header first, in the user's language; the TLP label is on every row.
func (s *Server) incidentExportRows(r *http.Request) ([][]string, error) {
	wh := whoFrom(r)
	f := parseIncFilter(r)
	lf, err := f.filter()
	if err != nil {
		return nil, err
	}
	lf.Limit = incident.MaxLimit
	incs, _, err := s.Incidents.List(r.Context(), wh.Actor, lf)
	if err != nil {
		return nil, err
	}
	l := wh.Lang
	out := [][]string{{t(l, "incidents.col.tlp"), t(l, "incidents.col.ref"), t(l, "incidents.col.title"),
		t(l, "incidents.col.type"), t(l, "incidents.col.severity"), t(l, "incidents.col.class"),
		t(l, "incidents.col.status"), t(l, "incidents.col.affected"), t(l, "incidents.col.detected"),
		t(l, "incidents.reported"), t(l, "incidents.overdue")}}
	names := s.orgNamer(r)
	now := s.Incidents.Now()
	for _, inc := range incs {
		late := t(l, "incidents.no")
		if !inc.NextDueAt.IsZero() && inc.NextDueAt.Before(now) {
			late = t(l, "incidents.yes")
		}
		out = append(out, []string{inc.TLP.Label(), inc.Ref, inc.Title, t(l, inc.Type.LabelKey()),
			t(l, inc.Severity.LabelKey()), t(l, inc.Class.LabelKey()), t(l, inc.Status.LabelKey()),
			names.name(inc.AffectedOrgID), i18n.FormatTime(inc.DetectedAt), i18n.FormatTime(inc.ReportedAt), late})
	}
	return out, nil
}

// handleIncidentExportCSV writes the list as CSV.
func (s *Server) handleIncidentExportCSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-incidents", "incidents.title", s.incidentExportRows)
}

// handleIncidentExportXLSX writes the list as an Excel workbook.
func (s *Server) handleIncidentExportXLSX(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "xlsx", "certnet-incidents", "incidents.title", s.incidentExportRows)
}
