package web

import (
	"bytes"
	"encoding/csv"
	"net/http"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
)

// incidentExportRows is the incident list under the filter as a table,
// header first, in the user's language; the TLP label is on every row.
func (s *Server) incidentExportRows(r *http.Request) ([][]string, error) {
	wh := whoFrom(r)
	f := parseIncFilter(r)
	incs, _, err := s.Incidents.List(r.Context(), wh.Actor, incident.Filter{Status: incident.Status(f.Status),
		Type: incident.Type(f.Type), Severity: incident.Severity(f.Severity), Class: incident.Class(f.Class), Q: f.Q,
		Overdue: f.Overdue, Limit: incident.MaxLimit})
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

func (s *Server) incidentExportName(ext string) string {
	return "certnet-incidents-" + s.Now().In(i18n.Zone).Format("20060102-1504") + "." + ext
}

// handleIncidentExportCSV writes the list as CSV, UTF-8 with a byte order
// mark so that Excel shows Vietnamese.
func (s *Server) handleIncidentExportCSV(w http.ResponseWriter, r *http.Request) {
	rows, err := s.incidentExportRows(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	for _, row := range rows {
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.renderError(w, r, errs.Internal("web: export incidents csv", err), "")
		return
	}
	s.sendFile(w, "text/csv; charset=utf-8", s.incidentExportName("csv"), buf.Bytes())
}

// handleIncidentExportXLSX writes the list as an Excel workbook.
func (s *Server) handleIncidentExportXLSX(w http.ResponseWriter, r *http.Request) {
	rows, err := s.incidentExportRows(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	b, err := xlsxOf(t(whoFrom(r).Lang, "incidents.title"), rows)
	if err != nil {
		s.renderError(w, r, errs.Internal("web: export incidents xlsx", err), "")
		return
	}
	s.sendFile(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", s.incidentExportName("xlsx"), b)
}
