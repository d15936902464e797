package infosys

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"certnet/internal/errs"
)

// InventoryRecord is a row of an inventory file: its line (the CSV line or
// the worksheet row), its cells by column name, and the columns past the
// header that hold something (refused).
type InventoryRecord struct {
	Line    int
	Cells   map[string]string
	Unknown []string
}

// importColumn maps a header to its column name ("" when unknown).
func importColumn(h string) string {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	n = strings.NewReplacer(" ", "_", "-", "_", "*", "").Replace(n)
	n = strings.Trim(n, "_")
	for _, c := range ImportColumns {
		if c.Name == n {
			return n
		}
	}
	return ImportHeaderAliases[n]
}

// ParseInventory reads an inventory file, XLSX or CSV (format "xlsx" or
// "csv"; empty: an XLSX is recognised by its ZIP signature). A file that
// cannot be read — not UTF-8, a broken quote, not a workbook, no header,
// an unknown, repeated or missing required column, too many rows — is
// Invalid on "file" with a message saying why.
func ParseInventory(format string, data []byte) ([]InventoryRecord, error) {
	const op = "infosys: import"
	if format == "" {
		format = "csv"
		if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			format = "xlsx"
		}
	}
	var records [][]string
	var lines []int
	var err error
	switch format {
	case "xlsx":
		records, lines, err = readInventoryXLSX(data)
	case "csv":
		records, lines, err = readInventoryCSV(data)
	default:
		return nil, errs.Invalid(op).Field("file", "infosys.import.err.format")
	}
	if err != nil {
		return nil, err
	}
	hi := -1
	for i, rec := range records {
		if !blankRecord(rec) {
			hi = i
			break
		}
	}
	if hi < 0 {
		return nil, errs.Invalid(op).Field("file", "infosys.import.err.empty")
	}
	cols := make([]string, len(records[hi]))
	seen := map[string]bool{}
	for i, h := range records[hi] {
		if strings.TrimSpace(h) == "" {
			continue
		}
		name := importColumn(h)
		switch {
		case name == "":
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.unknown_column", strings.TrimSpace(h), lines[hi])
		case seen[name]:
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.duplicate_column", strings.TrimSpace(h), lines[hi])
		}
		seen[name] = true
		cols[i] = name
	}
	for _, c := range ImportColumns {
		if c.Required && !seen[c.Name] {
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.missing_column", c.Name)
		}
	}
	var out []InventoryRecord
	for i := hi + 1; i < len(records); i++ {
		if blankRecord(records[i]) {
			continue
		}
		if len(out) >= MaxImportRows {
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.too_many_rows", MaxImportRows)
		}
		rec := InventoryRecord{Line: lines[i], Cells: make(map[string]string, len(cols))}
		for j, v := range records[i] {
			v = strings.TrimSpace(v)
			if j >= len(cols) || cols[j] == "" {
				if v != "" {
					rec.Unknown = append(rec.Unknown, columnName(j))
				}
				continue
			}
			rec.Cells[cols[j]] = v
		}
		out = append(out, rec)
	}
	return out, nil
}

// columnName is a spreadsheet column's letter name (0 → A, 26 → AA).
func columnName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func readInventoryCSV(data []byte) ([][]string, []int, error) {
	const op = "infosys: import"
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, nil, errs.Invalid(op).Field("file", "infosys.import.err.not_utf8")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = csvComma(data)
	cr.FieldsPerRecord = -1
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
			return nil, nil, errs.Invalid(op).Field("file", "infosys.import.err.csv", line)
		}
		line, _ := cr.FieldPos(0)
		records = append(records, rec)
		lines = append(lines, line)
		if len(records) > MaxImportRows+1000 {
			return nil, nil, errs.Invalid(op).Field("file", "infosys.import.err.too_many_rows", MaxImportRows)
		}
	}
	return records, lines, nil
}

// csvComma is the separator used most on the first line, outside quotes:
// a comma, a semicolon (spreadsheets set to Vietnamese write them) or a tab.
func csvComma(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		} else if c == '\n' && !quoted {
			break
		} else if !quoted && (c == ',' || c == ';' || c == '\t') {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// readInventoryXLSX reads the first worksheet; a malformed workbook is
// refused, never a crash.
func readInventoryXLSX(data []byte) (records [][]string, lines []int, err error) {
	const op = "infosys: import"
	bad := func() error { return errs.Invalid(op).Field("file", "infosys.import.err.xlsx") }
	defer func() {
		if p := recover(); p != nil {
			records, lines, err = nil, nil, bad()
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: 8 * MaxImportBytes, UnzipXMLSizeLimit: 4 * MaxImportBytes})
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
		if blankRecord(cols) {
			continue
		}
		for i, c := range cols {
			if !utf8.ValidString(c) {
				return nil, nil, errs.Invalid(op).Field("file", "infosys.import.err.not_utf8")
			}
			cols[i] = c
		}
		records = append(records, cols)
		lines = append(lines, n)
		if len(records) > MaxImportRows+1000 {
			return nil, nil, errs.Invalid(op).Field("file", "infosys.import.err.too_many_rows", MaxImportRows)
		}
	}
	if err := rows.Error(); err != nil {
		return nil, nil, bad()
	}
	return records, lines, nil
}

// InventoryTemplate is the downloadable XLSX template: the header row of
// ImportColumns and one example row on the first sheet, and a second sheet
// explaining each column (help: column name → its explanation, in the
// reader's language; title: the sheet's name).
func InventoryTemplate(title string, help func(col string) string, example map[string]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	for i, c := range ImportColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, cell, c.Name); err != nil {
			return nil, err
		}
		cell, _ = excelize.CoordinatesToCellName(i+1, 2)
		if err := f.SetCellStr(sheet, cell, example[c.Name]); err != nil {
			return nil, err
		}
	}
	if _, err := f.NewSheet(title); err != nil {
		return nil, err
	}
	for i, c := range ImportColumns {
		req := ""
		if c.Required {
			req = "*"
		}
		f.SetCellStr(title, "A"+strconv.Itoa(i+1), c.Name+req)
		f.SetCellStr(title, "B"+strconv.Itoa(i+1), help(c.Name))
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
