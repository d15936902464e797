package infosys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Import of an existing inventory (issue 6 item 6): one system a row of an
// XLSX workbook (first sheet) or a CSV file, in the column layout of
// docs/infosys-import.md (ImportColumns). The import is previewed first
// (DryRun: every row checked as the import would, in a transaction rolled
// back), then confirmed; it runs in one transaction. A row names its owner
// by member code; a system already registered under that owner with that
// name is updated. Refused rows come back with their line and column.

// Limits of an inventory import.
const (
	MaxImportBytes = 8 << 20
	MaxImportRows  = 5000
)

// ImportColumn is a column of the import layout.
type ImportColumn struct {
	Name     string // the header, as in the template
	Required bool
}

// ImportColumns is the column layout, in the template's order. Headers
// are matched case-insensitively, spaces and hyphens as underscores; the
// Vietnamese headers of the template's instructions (the i18n labels
// infosys.import.col.<name>) are accepted too.
var ImportColumns = []ImportColumn{
	{"owner_code", true}, {"name", true}, {"operator_code", false}, {"purpose", false}, {"sector", false},
	{"ioc", false}, {"national_critical", false}, {"data_kind", false}, {"personal_count", false},
	{"public_service_level", false}, {"users", false}, {"addresses", false}, {"domains", false},
	{"providers", false}, {"components", false}, {"plan_deployed", false}, {"level", false}, {"level_approved_on", false},
}

// ImportHeaderAliases are the Vietnamese headers accepted for each column
// (the template's second sheet lists them).
var ImportHeaderAliases = map[string]string{
	"mã_chủ_quản": "owner_code", "mã_đơn_vị_chủ_quản": "owner_code",
	"tên_hệ_thống":       "name",
	"mã_đơn_vị_vận_hành": "operator_code", "mã_vận_hành": "operator_code",
	"mục_đích": "purpose", "lĩnh_vực": "sector", "trung_tâm_ioc": "ioc",
	"quan_trọng_quốc_gia": "national_critical", "loại_dữ_liệu": "data_kind",
	"số_người_có_dữ_liệu_cá_nhân": "personal_count", "mức_dịch_vụ_công": "public_service_level",
	"số_người_dùng": "users", "địa_chỉ_ip": "addresses", "tên_miền": "domains",
	"nhà_cung_cấp": "providers", "thành_phần": "components", "đã_triển_khai_phương_án": "plan_deployed",
	"cấp_độ": "level", "ngày_phê_duyệt_cấp_độ": "level_approved_on",
}

// ImportProblem is why a row (or the file) was refused: its line, the
// column and an i18n message.
type ImportProblem struct {
	Line    int    `json:"line"`
	Column  string `json:"column"`
	Key     string `json:"key"`
	Args    []any  `json:"args,omitempty"`
	Message string `json:"message,omitempty"` // filled in the caller's language by the web and API
}

// Import row outcomes.
const (
	ImportCreate = "create"
	ImportUpdate = "update"
	ImportSkip   = "skip"
)

// ImportedRow is a row as the import reads it and what it does with it.
type ImportedRow struct {
	Line      int             `json:"line"`
	OwnerCode string          `json:"owner_code"`
	Name      string          `json:"name"`
	DataKind  string          `json:"data_kind"`
	Level     int             `json:"level,omitempty"`
	Action    string          `json:"action"`
	SystemID  int64           `json:"system_id,omitempty"` // the system updated (or created, once confirmed)
	Problems  []ImportProblem `json:"problems,omitempty"`
}

// SystemImport is the report of an import (or of its preview).
type SystemImport struct {
	DryRun   bool            `json:"dry_run"`
	Rows     int             `json:"rows"`
	Created  int             `json:"created"`
	Updated  int             `json:"updated"`
	Skipped  int             `json:"skipped"`
	Items    []ImportedRow   `json:"items"`
	Problems []ImportProblem `json:"problems,omitempty"` // every row problem, by line
}

// ImportOptions tune an import.
type ImportOptions struct {
	Format   string // "xlsx" or "csv"; empty: guessed from the content
	DryRun   bool   // check everything, write nothing (the preview)
	SkipBad  bool   // import the good rows when some are refused
	Progress func(done, total int)
}

// errRollback ends a preview's transaction.
var errRollback = errors.New("infosys: import preview")

// ImportSystems imports an inventory file. Without SkipBad, one refused
// row refuses the import (Invalid on "file", nothing written, the report
// says which rows); a file that cannot be read is Invalid on "file".
func (s *Service) ImportSystems(ctx context.Context, a policy.Actor, r io.Reader, opt ImportOptions) (SystemImport, error) {
	const op = "infosys: import systems"
	rep := SystemImport{DryRun: opt.DryRun}
	if err := policy.Check(a, policy.InfosysWrite, resource(a.OrgID, 0)); err != nil && !a.System {
		return rep, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return rep, errs.Internal(op, err)
	}
	if len(data) > MaxImportBytes {
		return rep, errs.Invalid(op).Field("file", "infosys.import.err.too_large", MaxImportBytes>>20)
	}
	recs, err := ParseInventory(opt.Format, data)
	if err != nil {
		return rep, err
	}
	rep.Rows = len(recs)
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		seen := map[string]int{}
		for i, rec := range recs {
			item, err := s.importRow(ctx, tx, a, now, rec, seen)
			if err != nil {
				return err
			}
			rep.Items = append(rep.Items, item)
			switch item.Action {
			case ImportCreate:
				rep.Created++
			case ImportUpdate:
				rep.Updated++
			default:
				rep.Skipped++
				rep.Problems = append(rep.Problems, item.Problems...)
			}
			if opt.Progress != nil {
				opt.Progress(i+1, len(recs))
			}
		}
		if opt.DryRun {
			return errRollback
		}
		if rep.Skipped > 0 && !opt.SkipBad {
			return errRollback
		}
		return record(ctx, tx, now, a, a.OrgID, "infosys.systems.import", "infosys_system", "import", nil,
			map[string]any{"rows": rep.Rows, "created": rep.Created, "updated": rep.Updated, "skipped": rep.Skipped})
	})
	if errors.Is(err, errRollback) {
		err = nil
		if !opt.DryRun {
			// Nothing was written: the report still says what each row
			// would have done, and which rows stopped it.
			rep.Created, rep.Updated = 0, 0
			return rep, errs.Invalid(op).Field("file", "infosys.import.err.rows", rep.Skipped, rep.Rows)
		}
	}
	if err != nil {
		return SystemImport{}, store.Wrap(op, err)
	}
	return rep, nil
}

// importRow checks one row and, when it is good, creates or updates its
// system in tx.
func (s *Service) importRow(ctx context.Context, tx *store.Tx, a policy.Actor, now time.Time, rec InventoryRecord, seen map[string]int) (ImportedRow, error) {
	item := ImportedRow{Line: rec.Line, OwnerCode: rec.Cells["owner_code"], Name: strings.TrimSpace(rec.Cells["name"])}
	fail := func(col, key string, args ...any) {
		item.Problems = append(item.Problems, ImportProblem{Line: rec.Line, Column: col, Key: key, Args: args})
	}
	for _, c := range rec.Unknown {
		fail(c, "infosys.import.err.extra")
	}
	in, level, approved := importInput(rec, fail, now)
	item.DataKind, item.Level = in.DataKind, level
	// The owner: a member the actor may keep systems for.
	var ownerID, operatorID int64
	if code := strings.TrimSpace(rec.Cells["owner_code"]); code == "" {
		fail("owner_code", "infosys.err.required")
	} else if id, err := s.orgByCode(ctx, tx, a, code, policy.InfosysWrite); err != nil {
		return item, err
	} else if id == 0 {
		fail("owner_code", "infosys.import.err.owner", code)
	} else {
		ownerID = id
	}
	if code := strings.TrimSpace(rec.Cells["operator_code"]); code != "" {
		id, err := s.orgByCode(ctx, tx, a, code, policy.InfosysRead)
		if err != nil {
			return item, err
		}
		if id == 0 {
			fail("operator_code", "infosys.import.err.org", code)
		}
		operatorID = id
	}
	in.OwnerOrgID, in.OperatorOrgID = ownerID, operatorID
	var before System
	if ownerID != 0 && item.Name != "" {
		key := fmt.Sprintf("%d|%s", ownerID, strings.ToLower(item.Name))
		if first, dup := seen[key]; dup {
			fail("name", "infosys.import.err.duplicate", first)
		} else {
			seen[key] = rec.Line
		}
		err := tx.QueryRow(ctx, "SELECT id FROM infosys_systems WHERE owner_org_id = ? AND name = ?", ownerID, item.Name).Scan(&item.SystemID)
		switch {
		case store.IsNoRows(err):
		case err != nil:
			return item, err
		default:
			if before, err = getSystem(ctx, tx, item.SystemID); err != nil {
				return item, err
			}
		}
	}
	if level > 0 && ownerID != 0 {
		act := policy.InfosysApprove
		if level == 5 {
			act = policy.InfosysApproveNational
		}
		if check(a, act, ownerID, operatorID) != nil {
			fail("level", "infosys.import.err.level_authority", level)
		}
	}
	if ownerID != 0 {
		err := s.validate(ctx, tx, &in)
		if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
			for _, f := range slices.Sorted(mapKeys(e.Fields)) {
				m := e.Fields[f]
				col := f
				switch f {
				case "owner_org_id":
					col = "owner_code"
				case "operator_org_id":
					col = "operator_code"
				}
				fail(col, m.Key, m.Args...)
			}
		} else if err != nil {
			return item, err
		}
	}
	if len(item.Problems) > 0 {
		item.Action = ImportSkip
		return item, nil
	}
	addrs, doms := strings.Join(in.Addresses, "\n"), strings.Join(in.Domains, "\n")
	if item.SystemID == 0 {
		item.Action = ImportCreate
		if err := tx.QueryRow(ctx, `INSERT INTO infosys_systems (owner_org_id, operator_org_id, name, purpose, sector, ioc,
			national_critical, data_kind, personal_count, public_service_level, users, addresses, domains, providers,
			components, plan_deployed, level, level_approved_on, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.OwnerOrgID, store.NullID(in.OperatorOrgID), in.Name, in.Purpose, in.Sector, in.IOC, in.NationalCritical, in.DataKind,
			in.PersonalCount, in.PublicServiceLevel, in.Users, addrs, doms, in.Providers, in.Components, in.PlanDeployed,
			level, nullTime(approved), now, now).Scan(&item.SystemID); err != nil {
			return item, err
		}
		after, err := getSystem(ctx, tx, item.SystemID)
		if err != nil {
			return item, err
		}
		return item, record(ctx, tx, now, a, ownerID, "infosys.system.create", "infosys_system", item.SystemID, nil, after)
	}
	item.Action = ImportUpdate
	if level == 0 {
		level, approved = before.Level, before.LevelApprovedOn
	}
	if _, err := tx.Exec(ctx, `UPDATE infosys_systems SET operator_org_id = ?, purpose = ?, sector = ?, ioc = ?, national_critical = ?,
		data_kind = ?, personal_count = ?, public_service_level = ?, users = ?, addresses = ?, domains = ?, providers = ?,
		components = ?, plan_deployed = ?, level = ?, level_approved_on = ?, updated_at = ? WHERE id = ?`,
		store.NullID(in.OperatorOrgID), in.Purpose, in.Sector, in.IOC, in.NationalCritical, in.DataKind, in.PersonalCount,
		in.PublicServiceLevel, in.Users, addrs, doms, in.Providers, in.Components, in.PlanDeployed, level, nullTime(approved),
		now, item.SystemID); err != nil {
		return item, err
	}
	after, err := getSystem(ctx, tx, item.SystemID)
	if err != nil {
		return item, err
	}
	if err := noteChange(ctx, tx, now, a, before, after, "import"); err != nil {
		return item, err
	}
	return item, record(ctx, tx, now, a, ownerID, "infosys.system.update", "infosys_system", item.SystemID, before, after)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// orgByCode finds a member by code (or numeric id) that the actor may act
// on with act; 0 when there is none or the actor may not (the two are not
// told apart, so the import does not reveal members outside its scope).
func (s *Service) orgByCode(ctx context.Context, q store.Q, a policy.Actor, code string, act policy.Action) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM organisations WHERE UPPER(code) = ?", strings.ToUpper(code)).Scan(&id)
	if store.IsNoRows(err) {
		if n, perr := strconv.ParseInt(code, 10, 64); perr == nil && n > 0 {
			if ok, err := orgExists(ctx, q, n); err != nil {
				return 0, err
			} else if ok {
				id, err = n, nil
			}
		}
	}
	if store.IsNoRows(err) || id == 0 {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if check(a, act, id, 0) != nil {
		return 0, nil
	}
	return id, nil
}

// importInput turns a row's cells into a system's input, the level and its
// approval date, reporting values that cannot be read.
func importInput(rec InventoryRecord, fail func(col, key string, args ...any), now time.Time) (SystemInput, int, time.Time) {
	c := rec.Cells
	in := SystemInput{Name: strings.TrimSpace(c["name"]), Purpose: c["purpose"], Providers: c["providers"], Components: c["components"],
		Sector: strings.ToLower(strings.TrimSpace(c["sector"])), Addresses: SplitList(c["addresses"]), Domains: SplitList(c["domains"])}
	if in.Name == "" {
		fail("name", "infosys.err.required")
	}
	switch v := strings.ToLower(strings.TrimSpace(c["ioc"])); v {
	case "", "none", "không", "khong", "no":
		in.IOC = IOCNone
	case IOCProvincial, "tỉnh", "tinh":
		in.IOC = IOCProvincial
	case IOCCity, "thành phố", "thanh pho", "đô thị":
		in.IOC = IOCCity
	default:
		in.IOC = v // refused by validate
	}
	in.DataKind = strings.ToLower(strings.TrimSpace(c["data_kind"]))
	var ok bool
	if in.NationalCritical, ok = importBool(c["national_critical"]); !ok {
		fail("national_critical", "infosys.import.err.bool")
	}
	if in.PlanDeployed, ok = importBool(c["plan_deployed"]); !ok {
		fail("plan_deployed", "infosys.import.err.bool")
	}
	num := func(col string) int64 {
		n, ok := importNumber(c[col])
		if !ok {
			fail(col, "infosys.err.number")
		}
		return n
	}
	in.PersonalCount, in.Users = num("personal_count"), num("users")
	in.PublicServiceLevel = int(num("public_service_level"))
	level := int(num("level"))
	if level < 0 || level > 5 {
		fail("level", "infosys.import.err.level")
		level = 0
	}
	var approved time.Time
	if d := strings.TrimSpace(c["level_approved_on"]); d != "" {
		t, err := importDate(d)
		switch {
		case err != nil:
			fail("level_approved_on", "infosys.err.date")
		case t.After(now):
			fail("level_approved_on", "infosys.import.err.future")
		case level == 0:
			fail("level", "infosys.err.required")
		default:
			approved = t
		}
	} else if level > 0 {
		approved = now
	}
	return in, level, approved
}

func importBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "no", "false", "không", "khong", "n":
		return false, true
	case "1", "yes", "true", "có", "co", "x", "y":
		return true, true
	}
	return false, false
}

// importNumber reads a count written with thousands separators
// ("50.000", "50 000", "50,000") or as a spreadsheet number ("50000",
// "5E+4" is refused); empty is 0.
func importNumber(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	clean := strings.NewReplacer(" ", "", "\u00a0", "", ".", "", ",", "").Replace(s)
	if strings.HasSuffix(s, ".0") || strings.HasSuffix(s, ",0") {
		clean = strings.NewReplacer(" ", "", "\u00a0", "", ".", "", ",", "").Replace(s[:len(s)-2])
	}
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// importDate reads a date as YYYY-MM-DD, DD/MM/YYYY (Vietnamese usage) or
// a spreadsheet's serial day number.
func importDate(s string) (time.Time, error) {
	for _, l := range []string{time.DateOnly, "02/01/2006", "2/1/2006"} {
		if t, err := time.ParseInLocation(l, s, Local); err == nil {
			if t.Year() < 1990 || t.Year() > 2100 {
				return time.Time{}, errors.New("year out of range")
			}
			return t.UTC(), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n > 32874 && n < 73051 { // 1990–2099
		return time.Date(1899, 12, 30, 0, 0, 0, 0, Local).AddDate(0, 0, n).UTC(), nil
	}
	return time.Time{}, errors.New("not a date")
}
