package org

import (
	"errors"
	"slices"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/tabular"
)

// normHeader is a column name as matched: lower case, spaces and hyphens
// as underscores.
func normHeader(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	s = strings.ToLower(s)
	s = strings.NewReplacer(" ", "_", "-", "_").Replace(s)
	return s
}

// parseImportTable checks the header and turns the records into rows. A
// file-level problem comes back as an error (and as a row error for the
// report when it concerns a line).
func parseImportTable(kind string, records [][]string, lines []int) ([]importRow, *RowError, error) {
	const op = "org: import"
	hi := -1
	for i, rec := range records {
		if !blank(rec) {
			hi = i
			break
		}
	}
	if hi < 0 {
		return nil, nil, errs.Invalid(op).Field("file", "org.import.empty")
	}
	allowed := importColumns[kind]
	header := records[hi]
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := normHeader(h)
		switch {
		case name == "":
			continue // an unnamed column must be empty; checked per row
		case !slices.Contains(allowed, name):
			re := &RowError{Row: lines[hi], Field: name, Msg: errs.Msg{Key: "org.import.unknown_column", Args: []any{h}}}
			return nil, re, errs.Invalid(op).Field("file", "org.import.unknown_column", h)
		case seen[name]:
			re := &RowError{Row: lines[hi], Field: name, Msg: errs.Msg{Key: "org.import.duplicate_column", Args: []any{h}}}
			return nil, re, errs.Invalid(op).Field("file", "org.import.duplicate_column", h)
		}
		seen[name] = true
		cols[i] = name
	}
	for _, req := range importRequired[kind] {
		if !seen[req] {
			re := &RowError{Row: lines[hi], Field: req, Msg: errs.Msg{Key: "org.import.missing_column", Args: []any{req}}}
			return nil, re, errs.Invalid(op).Field("file", "org.import.missing_column", req)
		}
	}
	var rows []importRow
	for i := hi + 1; i < len(records); i++ {
		rec := records[i]
		if blank(rec) {
			continue
		}
		if len(rows) >= MaxImportRows {
			e := errs.TooLarge(op)
			e.Message = errs.Msg{Key: "org.import.too_many_rows", Args: []any{MaxImportRows}}
			return nil, nil, e
		}
		row := importRow{line: lines[i], cells: make(map[string]string, len(cols))}
		for j, v := range rec {
			v = strings.TrimSpace(v)
			if j >= len(cols) || cols[j] == "" {
				row.extra = row.extra || v != ""
				continue
			}
			row.cells[cols[j]] = v
		}
		rows = append(rows, row)
	}
	return rows, nil, nil
}

func blank(rec []string) bool { return tabular.Blank(rec) }

var importRead = tabular.Options{MaxRecords: MaxImportRows + 1000, LazyQuotes: true, UnzipLimit: 4 * MaxImportBytes}

// readCSV reads a CSV file (UTF-8, with or without BOM; comma, semicolon or
// tab separated, guessed from the header line) and returns its records with
// the line each starts on.
func readCSV(data []byte) ([][]string, []int, error) {
	records, lines, err := tabular.ReadCSV(data, importRead)
	return records, lines, importFileError(err)
}

// readXLSX reads the first worksheet of an XLSX workbook. Malformed
// workbooks are refused, never a crash.
func readXLSX(data []byte) ([][]string, []int, error) {
	records, lines, err := tabular.ReadXLSX(data, importRead)
	return records, lines, importFileError(err)
}

// importFileError words a file refused by the tabular reader.
func importFileError(err error) error {
	const op = "org: import"
	var te *tabular.Error
	if !errors.As(err, &te) {
		return err
	}
	switch te.Problem {
	case tabular.NotUTF8:
		return errs.Invalid(op).Field("file", "org.import.not_utf8")
	case tabular.BadCSV:
		return errs.Invalid(op).Field("file", "org.import.csv_error", te.Line)
	case tabular.TooManyRows:
		e := errs.TooLarge(op)
		e.Message = errs.Msg{Key: "org.import.too_many_rows", Args: []any{MaxImportRows}}
		return e
	}
	return errs.Invalid(op).Field("file", "org.import.bad_xlsx")
}
