package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/xuri/excelize/v2"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/org"
)

// exportColumns are the columns of a directory export, as catalogue keys
// "orgs.col.<name>". The TLP label is on every row.
var exportColumns = []string{"tlp", "code", "name", "name_en", "short_name", "roles", "parent", "province", "region",
	"cluster", "sector", "address", "intake_email", "intake_phone", "website", "active", "contacts_updated", "updated"}

// exportRows is the directory under the filter as a table, header first, in
// the user's language.
func (s *Server) exportRows(r *http.Request) ([][]string, error) {
	wh := whoFrom(r)
	lf, err := parseOrgFilter(r).list(org.MaxListLimit)
	if err != nil {
		return nil, err
	}
	orgs, _, err := s.Orgs.List(r.Context(), wh.Actor, lf)
	if err != nil {
		return nil, err
	}
	l := wh.Lang
	out := make([][]string, 0, len(orgs)+1)
	head := make([]string, len(exportColumns))
	for i, c := range exportColumns {
		head[i] = t(l, "orgs.col."+c)
	}
	out = append(out, head)
	yesNo := func(b bool) string {
		if b {
			return t(l, "orgs.yes")
		}
		return t(l, "orgs.no")
	}
	for _, o := range orgs {
		roles := make([]string, len(o.Roles))
		for i, ro := range o.Roles {
			roles[i] = t(l, ro.LabelKey())
		}
		var region, sector string
		if o.Region != "" {
			region = t(l, org.RegionLabelKey(o.Region))
		}
		if o.Sector != "" {
			sector = t(l, o.Sector.LabelKey())
		}
		out = append(out, []string{o.TLP.Label(), o.Code, o.Name, o.NameEN, o.ShortName, strings.Join(roles, "; "),
			o.ParentName, o.ProvinceName, region, o.ClusterName, sector, o.Address, o.IntakeEmail, o.IntakePhone,
			o.Website, yesNo(o.Active), i18n.FormatTime(o.ContactsUpdatedAt), i18n.FormatTime(o.UpdatedAt)})
	}
	return out, nil
}

// handleOrgExportCSV writes the directory as CSV.
func (s *Server) handleOrgExportCSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-orgs", "orgs.sheet", s.exportRows)
}

// handleOrgExportXLSX writes the directory as an Excel workbook.
func (s *Server) handleOrgExportXLSX(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "xlsx", "certnet-orgs", "orgs.sheet", s.exportRows)
}

// exportTable answers a list as a file: CSV (UTF-8 with a byte order mark so
// that Excel shows Vietnamese, cells made safe from formula injection) or
// an XLSX workbook whose sheet is named by sheetKey. rows builds the table,
// header first, in the user's language.
func (s *Server) exportTable(w http.ResponseWriter, r *http.Request, format, base, sheetKey string,
	rows func(*http.Request) ([][]string, error)) {
	table, err := rows(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	name := base + "-" + s.Now().In(i18n.Zone).Format("20060102-1504") + "." + format
	if format == "xlsx" {
		b, err := xlsxOf(t(whoFrom(r).Lang, sheetKey), table)
		if err != nil {
			s.renderError(w, r, errs.Internal("web: export xlsx", err), "")
			return
		}
		s.sendFile(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name, b)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	for _, row := range table {
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.renderError(w, r, errs.Internal("web: export csv", err), "")
		return
	}
	s.sendFile(w, "text/csv; charset=utf-8", name, buf.Bytes())
}

// xlsxOf builds a one-sheet workbook; the first row is a bold, frozen
// header. Cells are written as text, never as formulas.
func xlsxOf(sheet string, rows [][]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if len(rows) > 0 {
		if err := sw.SetColWidth(1, len(rows[0]), 22); err != nil {
			return nil, err
		}
	}
	for i, row := range rows {
		cells := make([]any, len(row))
		for j, c := range row {
			cells[j] = c
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return nil, err
		}
		var opts []excelize.RowOpts
		if i == 0 {
			opts = append(opts, excelize.RowOpts{StyleID: bold})
		}
		if err := sw.SetRow(cell, cells, opts...); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Server) sendFile(w http.ResponseWriter, contentType, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a cell
// that starts with = + - @ (or a tab or carriage return) and is not a plain
// number or phone number gets a leading apostrophe.
func csvSafe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if strings.Trim(s, "0123456789 +-.()/") == "" && s[0] != '=' && s[0] != '@' {
		return s
	}
	return "'" + s
}
