package org

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"certnet/internal/errs"
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

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// readCSV reads a CSV file (UTF-8, with or without BOM; comma, semicolon or
// tab separated, guessed from the header line) and returns its records with
// the line each starts on.
func readCSV(data []byte) ([][]string, []int, error) {
	const op = "org: import"
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, nil, errs.Invalid(op).Field("file", "org.import.not_utf8")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = guessComma(data)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var records [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, nil, errs.Invalid(op).Field("file", "org.import.csv_error", line)
		}
		line, _ := cr.FieldPos(0)
		records = append(records, rec)
		lines = append(lines, line)
		if len(records) > MaxImportRows+1000 {
			e := errs.TooLarge(op)
			e.Message = errs.Msg{Key: "org.import.too_many_rows", Args: []any{MaxImportRows}}
			return nil, nil, e
		}
	}
	return records, lines, nil
}

// guessComma picks the separator that occurs most often (outside quotes)
// on the first line.
func guessComma(data []byte) rune {
	counts := map[byte]int{}
	inQuote := false
	for _, c := range data {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best, n := byte(','), counts[',']
	for _, c := range []byte{';', '\t'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// readXLSX reads the first worksheet of an XLSX workbook. Malformed
// workbooks are refused, never a crash.
func readXLSX(data []byte) (records [][]string, lines []int, err error) {
	const op = "org: import"
	bad := func() error { return errs.Invalid(op).Field("file", "org.import.bad_xlsx") }
	defer func() {
		if p := recover(); p != nil {
			records, lines, err = nil, nil, bad()
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: 4 * MaxImportBytes, UnzipXMLSizeLimit: 2 * MaxImportBytes})
	if err != nil {
		return nil, nil, bad()
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, bad()
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, bad()
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		cols, err := rows.Columns()
		if err != nil {
			return nil, nil, bad()
		}
		if blank(cols) {
			continue
		}
		records = append(records, cols)
		lines = append(lines, n)
		if len(records) > MaxImportRows+1000 {
			e := errs.TooLarge(op)
			e.Message = errs.Msg{Key: "org.import.too_many_rows", Args: []any{MaxImportRows}}
			return nil, nil, e
		}
	}
	if err := rows.Error(); err != nil {
		return nil, nil, bad()
	}
	return records, lines, nil
}
