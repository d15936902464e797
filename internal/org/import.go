package org

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Import limits.
const (
	MaxImportBytes = 50 << 20
	MaxImportRows  = 200_000
	// maxCell bounds one cell; longer text is a bad row, not a crash.
	maxCell = 100_000
)

// Import kinds.
const (
	ImportOrgs     = "orgs"
	ImportContacts = "contacts"
	ImportRanges   = "ranges"
)

// importColumns are the columns each kind accepts, in their usual order.
var importColumns = map[string][]string{
	ImportOrgs: {"code", "name", "name_en", "short_name", "parent_code", "roles", "region", "province_code",
		"cluster_code", "sector", "address", "intake_email", "intake_phone", "website", "require_mfa"},
	ImportContacts: {"org_code", "kind", "name", "title", "email", "phone", "phone_247", "pgp_key"},
	ImportRanges:   {"org_code", "value", "note"},
}

// importRequired are the columns a file of each kind must have.
var importRequired = map[string][]string{
	ImportOrgs:     {"code", "name", "roles"},
	ImportContacts: {"org_code", "kind", "name"},
	ImportRanges:   {"org_code", "value"},
}

// ImportColumns returns the columns a kind of import accepts (for the
// template a user downloads).
func ImportColumns(kind string) []string { return slices.Clone(importColumns[kind]) }

// ImportOptions say what a file holds and how to import it.
type ImportOptions struct {
	// Kind is "orgs", "contacts" or "ranges".
	Kind string
	// Format is "csv" or "xlsx"; "" detects it from the content.
	Format string
	// SkipBad imports the good rows and lists the bad ones; without it one
	// bad row means nothing is written.
	SkipBad bool
	// DryRun validates only: nothing is written.
	DryRun bool
	// Progress, when set, is called as rows are processed.
	Progress func(done, total int)
}

// RowError is a problem with one row of an import file.
type RowError struct {
	// Row is the 1-based line (CSV) or row (XLSX) in the file, header
	// included.
	Row   int
	Field string
	Msg   errs.Msg
}

// ImportReport says what an import did. Rows counts the data rows;
// Imported the rows written (or, in a dry run, that would be); Skipped the
// bad rows. When a row is bad and SkipBad is off, Imported is 0.
type ImportReport struct {
	Rows, Imported, Skipped int
	Errors                  []RowError
}

// importRow is one data row of the file, by column name.
type importRow struct {
	line  int
	cells map[string]string
	// extra is set when a cell under no column name holds a value.
	extra bool
}

// errRollback ends an import transaction that must write nothing.
var errRollback = errors.New("org: import rolled back")

// Import reads organisations, contact points or constituency entries from
// a CSV or XLSX file whose first row names the columns (in any case and
// order; unknown columns are refused). Every row is checked exactly as the
// single-record methods check it, and all good rows are written in one
// transaction, each with its audit entry. Rows may refer to organisations
// created by earlier rows of the same file. Problems with the file as a
// whole (size, format, columns, permission) are returned as the error;
// problems with rows are listed in the report, and the error is nil.
func (s *Service) Import(ctx context.Context, a policy.Actor, r io.Reader, opt ImportOptions) (ImportReport, error) {
	const op = "org: import"
	var rep ImportReport
	if err := policy.Check(a, policy.OrgImport, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return rep, err
	}
	kind := strings.ToLower(strings.TrimSpace(opt.Kind))
	if _, ok := importColumns[kind]; !ok {
		return rep, errs.Invalid(op).Field("kind", "field.invalid_choice")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return rep, errs.Internal(op, err)
	}
	if len(data) > MaxImportBytes {
		e := errs.TooLarge(op)
		e.Message = errs.Msg{Key: "org.import.too_large", Args: []any{MaxImportBytes >> 20}}
		return rep, e
	}
	format := strings.ToLower(strings.TrimSpace(opt.Format))
	if format == "" {
		format = "csv"
		if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			format = "xlsx"
		}
	}
	var records [][]string
	var lines []int
	switch format {
	case "csv":
		records, lines, err = readCSV(data)
	case "xlsx":
		records, lines, err = readXLSX(data)
	default:
		return rep, errs.Invalid(op).Field("format", "field.invalid_choice")
	}
	if err != nil {
		return rep, err
	}
	rows, rerr, err := parseImportTable(kind, records, lines)
	if err != nil {
		if rerr != nil {
			rep.Errors = append(rep.Errors, *rerr)
		}
		return rep, err
	}
	rep.Rows = len(rows)
	if opt.Progress != nil {
		opt.Progress(0, len(rows))
	}
	var w *write
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		if kind != ImportContacts {
			// Once, outside the row savepoints, so that a rolled-back row
			// cannot take the generation bump with it.
			if err := w.bump(ctx); err != nil {
				return err
			}
		}
		for i, row := range rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "SAVEPOINT org_import_row"); err != nil {
				return errs.Internal(op, err)
			}
			rowErrs, err := s.importOne(ctx, w, kind, row)
			if err != nil {
				return err
			}
			if len(rowErrs) > 0 {
				if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT org_import_row"); err != nil {
					return errs.Internal(op, err)
				}
				rep.Errors = append(rep.Errors, rowErrs...)
				rep.Skipped++
			} else {
				rep.Imported++
			}
			if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT org_import_row"); err != nil {
				return errs.Internal(op, err)
			}
			if opt.Progress != nil && ((i+1)%100 == 0 || i+1 == len(rows)) {
				opt.Progress(i+1, len(rows))
			}
		}
		if opt.DryRun || (rep.Skipped > 0 && !opt.SkipBad) {
			return errRollback
		}
		return nil
	})
	if rep.Skipped > 0 && !opt.SkipBad {
		rep.Imported = 0
	}
	switch {
	case errors.Is(err, errRollback):
		return rep, nil
	case err != nil:
		rep.Imported = 0
		return rep, errs.Ensure(op, err)
	}
	s.committed(w)
	return rep, nil
}

// importOne writes one row. Problems with the row come back as row errors;
// the error is for what must stop the whole import.
func (s *Service) importOne(ctx context.Context, w *write, kind string, row importRow) ([]RowError, error) {
	rowErr := func(field, key string, args ...any) []RowError {
		return []RowError{{Row: row.line, Field: field, Msg: errs.Msg{Key: key, Args: args}}}
	}
	if row.extra {
		return rowErr("", "org.import.extra_value"), nil
	}
	for name, v := range row.cells {
		if len(v) > maxCell {
			return rowErr(name, "field.too_long", maxCell), nil
		}
		if !utf8.ValidString(v) {
			return rowErr(name, "org.err.bad_characters"), nil
		}
	}
	c := row.cells
	var err error
	var rename map[string]string
	switch kind {
	case ImportOrgs:
		in := Input{Code: c["code"], Name: c["name"], NameEN: c["name_en"], ShortName: c["short_name"],
			Region: c["region"], ProvinceCode: c["province_code"], Sector: Sector(c["sector"]), Address: c["address"],
			IntakeEmail: c["intake_email"], IntakePhone: c["intake_phone"], Website: c["website"],
			Active: true, TLP: policy.TLPGreen}
		for _, r := range strings.FieldsFunc(c["roles"], func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
			if r = strings.TrimSpace(r); r != "" {
				in.Roles = append(in.Roles, Role(r))
			}
		}
		mfa, ok := parseBool(c["require_mfa"])
		if !ok {
			return rowErr("require_mfa", "org.import.bad_bool"), nil
		}
		in.RequireMFA = mfa
		if pc := strings.TrimSpace(c["parent_code"]); pc != "" {
			id, err := lookupID(ctx, w.tx, "SELECT id FROM organisations WHERE code = ?", normCode(pc))
			if err != nil {
				return nil, errs.Internal("org: import", err)
			}
			if id == 0 {
				return rowErr("parent_code", "org.import.parent_not_found", pc), nil
			}
			in.ParentID = id
		}
		if cc := strings.TrimSpace(c["cluster_code"]); cc != "" {
			id, err := lookupID(ctx, w.tx, "SELECT id FROM clusters WHERE code = ?", cc)
			if err != nil {
				return nil, errs.Internal("org: import", err)
			}
			if id == 0 {
				return rowErr("cluster_code", "org.err.cluster_not_found"), nil
			}
			in.ClusterID = id
		}
		rename = map[string]string{"parent_id": "parent_code", "cluster_id": "cluster_code"}
		_, err = s.createTx(ctx, w, in)
	case ImportContacts, ImportRanges:
		code := strings.TrimSpace(c["org_code"])
		if code == "" {
			return rowErr("org_code", "field.required"), nil
		}
		orgID, lerr := lookupID(ctx, w.tx, "SELECT id FROM organisations WHERE code = ?", normCode(code))
		if lerr != nil {
			return nil, errs.Internal("org: import", lerr)
		}
		if orgID == 0 {
			return rowErr("org_code", "org.import.org_not_found", code), nil
		}
		if kind == ImportContacts {
			_, err = s.saveContactTx(ctx, w, orgID, ContactInput{Kind: c["kind"], Name: c["name"], Title: c["title"],
				Email: c["email"], Phone: c["phone"], Phone247: c["phone_247"], PGPKey: c["pgp_key"]})
			break
		}
		v, perr := ParseConstituencyValue(c["value"])
		if perr != nil {
			err = perr
			break
		}
		rename = map[string]string{"cidr": "value", "asn": "value", "domain": "value"}
		switch v.Kind {
		case KindCIDR:
			_, err = s.addRangeTx(ctx, w, orgID, v.String(), c["note"], true)
		case KindASN:
			_, err = s.addASNTx(ctx, w, orgID, v.String(), c["note"])
		case KindDomain:
			_, err = s.addDomainTx(ctx, w, orgID, v.String(), c["note"])
		}
	}
	if err == nil {
		return nil, nil
	}
	nf := RowError{Row: row.line, Field: "org_code", Msg: errs.Msg{Key: "org.import.org_not_found", Args: []any{c["org_code"]}}}
	if kind == ImportOrgs {
		nf = RowError{Row: row.line, Field: "parent_code", Msg: errs.Msg{Key: "org.import.parent_not_found", Args: []any{c["parent_code"]}}}
	}
	return rowErrors(row.line, err, rename, nf)
}

// rowErrors turns a service error into row errors; internal errors stop the
// import. notFound is the row error for an organisation the actor may not
// see (reported as missing, so as not to reveal it).
func rowErrors(line int, err error, rename map[string]string, notFound RowError) ([]RowError, error) {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.KindInternal {
		return nil, err
	}
	switch e.Kind {
	case errs.KindNotFound:
		return []RowError{notFound}, nil
	case errs.KindForbidden, errs.KindUnauthenticated:
		field := ""
		for f := range e.Fields {
			field = f
		}
		if r, ok := rename[field]; ok {
			field = r
		}
		return []RowError{{Row: line, Field: field, Msg: errs.Msg{Key: "org.import.forbidden"}}}, nil
	}
	if len(e.Fields) == 0 {
		return []RowError{{Row: line, Msg: e.Message}}, nil
	}
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	out := make([]RowError, 0, len(names))
	for _, f := range names {
		field := f
		if r, ok := rename[f]; ok {
			field = r
		}
		out = append(out, RowError{Row: line, Field: field, Msg: e.Fields[f]})
	}
	return out, nil
}

func lookupID(ctx context.Context, q store.Q, query string, arg any) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, query, arg).Scan(&id)
	if store.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// parseBool reads yes/no cells in English and Vietnamese; empty is false.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "n", "không", "khong", "f":
		return false, true
	case "1", "true", "yes", "y", "có", "co", "x", "t":
		return true, true
	}
	return false, false
}
