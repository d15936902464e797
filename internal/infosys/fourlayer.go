package infosys

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// The four layers of the 4-layer model (CT 14/2019, CV 1552/2020).
const (
	LayerStaff      = "staff"      // 1 local force: the named security staff
	LayerMonitoring = "monitoring" // 2 professional monitoring: in-house SOC or provider
	LayerAssessment = "assessment" // 3 independent periodic assessment
	LayerConnection = "connection" // 4 connection to the national monitoring centre
)

// LayerKeys lists the layers in their order.
var LayerKeys = []string{LayerStaff, LayerMonitoring, LayerAssessment, LayerConnection}

// Monitoring kinds.
const (
	MonitorNone     = ""
	MonitorInHouse  = "inhouse"
	MonitorProvider = "provider"
)

// MonitorKinds lists the monitoring kinds.
var MonitorKinds = []string{MonitorNone, MonitorInHouse, MonitorProvider}

// ReportValidMonths is how long an independent assessment report evidences
// layer 3: the longest periodic assessment cycle (a whole organisation
// every 2 years, DOMAIN.md).
const ReportValidMonths = 24

// Limits of the 4-layer fields.
const (
	maxStaff  = 100
	maxRanges = 200
)

// Staff is one person of the local force: a person of the readiness
// register (PersonID) or a name only.
type Staff struct {
	PersonID int64  `json:"person_id,omitempty"`
	Name     string `json:"name"`
}

// Layers is the 4-layer evidence of an organisation (SystemID 0) or of one
// of its systems. A system inherits, layer by layer, what its owner
// organisation records, unless it records that layer itself.
type Layers struct {
	ID             int64     `json:"id,omitempty"`
	OrgID          int64     `json:"org_id"`
	SystemID       int64     `json:"system_id,omitempty"`
	Staff          []Staff   `json:"staff"`
	Monitoring     string    `json:"monitoring"`
	Provider       string    `json:"monitoring_provider"`
	ContractStart  time.Time `json:"contract_start,omitzero"`
	ContractEnd    time.Time `json:"contract_end,omitzero"`
	Assessor       string    `json:"assessor"`
	LastReportOn   time.Time `json:"last_report_on,omitzero"`
	ConnectedSince time.Time `json:"connected_since,omitzero"`
	RangesShared   []string  `json:"ranges_shared"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// has reports whether the row records anything for the layer.
func (l Layers) has(layer string) bool {
	switch layer {
	case LayerStaff:
		return len(l.Staff) > 0
	case LayerMonitoring:
		return l.Monitoring != ""
	case LayerAssessment:
		return l.Assessor != "" || !l.LastReportOn.IsZero()
	case LayerConnection:
		return !l.ConnectedSince.IsZero() || len(l.RangesShared) > 0
	}
	return false
}

// window is when the row evidences the layer: [from, until) with a zero
// until open-ended; ok false when it does not at all. Staff and an
// in-house SOC count from when they were recorded; a provider from the
// contract's start to the end of its last day; a report for
// ReportValidMonths from its date; a connection from its date.
func (l Layers) window(layer string) (from, until time.Time, ok bool) {
	switch layer {
	case LayerStaff:
		return l.CreatedAt, time.Time{}, len(l.Staff) > 0
	case LayerMonitoring:
		switch l.Monitoring {
		case MonitorInHouse:
			return l.CreatedAt, time.Time{}, true
		case MonitorProvider:
			if l.Provider == "" || l.ContractStart.IsZero() || l.ContractEnd.IsZero() {
				return time.Time{}, time.Time{}, false
			}
			return l.ContractStart, dayAfter(l.ContractEnd), true
		}
	case LayerAssessment:
		if l.Assessor == "" || l.LastReportOn.IsZero() {
			return time.Time{}, time.Time{}, false
		}
		return l.LastReportOn, dayAfter(l.LastReportOn.In(Local).AddDate(0, ReportValidMonths, 0)), true
	case LayerConnection:
		return l.ConnectedSince, time.Time{}, !l.ConnectedSince.IsZero()
	}
	return time.Time{}, time.Time{}, false
}

// dayAfter is the start of the day after t's day in Vietnam.
func dayAfter(t time.Time) time.Time {
	t = t.In(Local)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, Local).UTC()
}

// LayerStatus is one layer of a system or organisation at a moment.
type LayerStatus struct {
	Layer     string    `json:"layer"`
	Evidenced bool      `json:"evidenced"`
	Inherited bool      `json:"inherited"` // from the owner organisation's record
	Recorded  bool      `json:"recorded"`  // something is recorded for it
	From      time.Time `json:"from,omitzero"`
	Until     time.Time `json:"until,omitzero"` // evidence ends (exclusive)
}

// Status is the 4-layer status at now of a system (own, with its owner's
// org record) or of an organisation (own only, org zero).
func Status(own, org Layers, now time.Time) []LayerStatus {
	out := make([]LayerStatus, 0, len(LayerKeys))
	for _, k := range LayerKeys {
		src, inh := own, false
		if !own.has(k) && org.has(k) {
			src, inh = org, true
		}
		st := LayerStatus{Layer: k, Inherited: inh, Recorded: src.has(k)}
		if from, until, ok := src.window(k); ok {
			st.From, st.Until = from, until
			st.Evidenced = !now.Before(from) && (until.IsZero() || now.Before(until))
		}
		out = append(out, st)
	}
	return out
}

// Complete reports whether every layer is evidenced.
func Complete(st []LayerStatus) bool {
	for _, x := range st {
		if !x.Evidenced {
			return false
		}
	}
	return len(st) == len(LayerKeys)
}

// completeWindow is when all four layers are evidenced together, from the
// system's and its owner's records: the latest start and the earliest end;
// ok false when never.
func completeWindow(own, org Layers) (from, until time.Time, ok bool) {
	for _, k := range LayerKeys {
		src := own
		if !own.has(k) {
			src = org
		}
		f, u, has := src.window(k)
		if !has {
			return time.Time{}, time.Time{}, false
		}
		if f.After(from) {
			from = f
		}
		if !u.IsZero() && (until.IsZero() || u.Before(until)) {
			until = u
		}
	}
	if !until.IsZero() && !from.Before(until) {
		return time.Time{}, time.Time{}, false
	}
	return from, until, true
}

// LayersInput is what a form or the API gives for the 4-layer record; the
// dates are YYYY-MM-DD (Vietnam), empty for none.
type LayersInput struct {
	Staff          []Staff  `json:"staff"`
	Monitoring     string   `json:"monitoring"`
	Provider       string   `json:"monitoring_provider"`
	ContractStart  string   `json:"contract_start"`
	ContractEnd    string   `json:"contract_end"`
	Assessor       string   `json:"assessor"`
	LastReportOn   string   `json:"last_report_on"`
	ConnectedSince string   `json:"connected_since"`
	RangesShared   []string `json:"ranges_shared"`
}

func layerDate(v *errs.Error, field, s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	d, err := time.ParseInLocation(time.DateOnly, s, Local)
	if err != nil || d.Year() < 1990 || d.Year() > 2200 {
		v.Field(field, "infosys.err.date")
		return time.Time{}
	}
	return d.UTC()
}

// validateLayers checks the input against the organisations the record
// belongs to (people of the readiness register must be of one of them) and
// returns the record to store.
func validateLayers(ctx context.Context, q store.Q, in LayersInput, orgs []int64, now time.Time) (Layers, error) {
	v := errs.Invalid("infosys: layers")
	var l Layers
	if len(in.Staff) > maxStaff {
		v.Field("staff", "infosys.err.too_many", maxStaff)
	}
	for _, st := range in.Staff {
		st.Name = strings.TrimSpace(st.Name)
		if st.PersonID != 0 {
			in, args := store.InList(orgs)
			var name string
			err := q.QueryRow(ctx, "SELECT full_name FROM readiness_people WHERE id = ? AND org_id IN "+in, append([]any{st.PersonID}, args...)...).Scan(&name)
			if store.IsNoRows(err) {
				v.Field("staff", "infosys.err.person")
				continue
			}
			if err != nil {
				return l, err
			}
			st.Name = name
		}
		if st.Name == "" {
			continue
		}
		text(v, "staff", st.Name, maxName, false)
		if !slices.ContainsFunc(l.Staff, func(x Staff) bool { return x.Name == st.Name && x.PersonID == st.PersonID }) {
			l.Staff = append(l.Staff, st)
		}
	}
	l.Monitoring, l.Provider, l.Assessor = in.Monitoring, strings.TrimSpace(in.Provider), strings.TrimSpace(in.Assessor)
	if !slices.Contains(MonitorKinds, l.Monitoring) {
		v.Field("monitoring", "field.invalid_choice")
	}
	text(v, "monitoring_provider", l.Provider, maxName, l.Monitoring == MonitorProvider)
	text(v, "assessor", l.Assessor, maxName, false)
	l.ContractStart, l.ContractEnd = layerDate(v, "contract_start", in.ContractStart), layerDate(v, "contract_end", in.ContractEnd)
	l.LastReportOn, l.ConnectedSince = layerDate(v, "last_report_on", in.LastReportOn), layerDate(v, "connected_since", in.ConnectedSince)
	if l.Monitoring == MonitorProvider {
		if strings.TrimSpace(in.ContractStart) == "" {
			v.Field("contract_start", "infosys.err.required")
		}
		if strings.TrimSpace(in.ContractEnd) == "" {
			v.Field("contract_end", "infosys.err.required")
		}
	}
	if !l.ContractStart.IsZero() && !l.ContractEnd.IsZero() && l.ContractEnd.Before(l.ContractStart) {
		v.Field("contract_end", "infosys.err.end_before_start")
	}
	if l.Monitoring != MonitorProvider {
		l.Provider, l.ContractStart, l.ContractEnd = "", time.Time{}, time.Time{}
	}
	if !l.LastReportOn.IsZero() && l.Assessor == "" {
		v.Field("assessor", "infosys.err.required")
	}
	tomorrow := dayAfter(now)
	if !l.LastReportOn.IsZero() && !l.LastReportOn.Before(tomorrow) {
		v.Field("last_report_on", "infosys.err.future")
	}
	if !l.ConnectedSince.IsZero() && !l.ConnectedSince.Before(tomorrow) {
		v.Field("connected_since", "infosys.err.future")
	}
	if len(in.RangesShared) > maxRanges {
		v.Field("ranges_shared", "infosys.err.too_many", maxRanges)
	}
	for _, r := range in.RangesShared {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		p, err := netip.ParsePrefix(r)
		if err != nil {
			a, aerr := netip.ParseAddr(r)
			if aerr != nil {
				v.Field("ranges_shared", "infosys.err.range", r)
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if s := p.Masked().String(); !slices.Contains(l.RangesShared, s) {
			l.RangesShared = append(l.RangesShared, s)
		}
	}
	if len(l.RangesShared) > 0 && l.ConnectedSince.IsZero() {
		v.Field("connected_since", "infosys.err.required")
	}
	return l, v.OrNil()
}

const layerCols = "id, org_id, system_id, staff, monitoring, monitoring_provider, contract_start, contract_end, assessor, last_report_on, connected_since, ranges_shared, created_at, updated_at"

func scanLayers(r scanner) (Layers, error) {
	var l Layers
	var staff, ranges string
	var cs, ce, lr, conn sql.NullTime
	if err := r.Scan(&l.ID, &l.OrgID, &l.SystemID, &staff, &l.Monitoring, &l.Provider, &cs, &ce, &l.Assessor, &lr, &conn, &ranges,
		&l.CreatedAt, &l.UpdatedAt); err != nil {
		return l, err
	}
	if err := json.Unmarshal([]byte(staff), &l.Staff); err != nil {
		return l, err
	}
	l.ContractStart, l.ContractEnd, l.LastReportOn, l.ConnectedSince = store.TimeOf(cs), store.TimeOf(ce), store.TimeOf(lr), store.TimeOf(conn)
	if ranges != "" {
		l.RangesShared = strings.Split(ranges, "\n")
	}
	return l, nil
}

// loadLayers reads the record of the organisation (systemID 0) or of the
// system (whoever owns it now); an empty record of that organisation and
// system when there is none.
func loadLayers(ctx context.Context, q store.Q, orgID, systemID int64) (Layers, error) {
	var r scanner
	if systemID != 0 {
		r = q.QueryRow(ctx, "SELECT "+layerCols+" FROM infosys_layers WHERE system_id = ?", systemID)
	} else {
		r = q.QueryRow(ctx, "SELECT "+layerCols+" FROM infosys_layers WHERE org_id = ? AND system_id = 0", orgID)
	}
	l, err := scanLayers(r)
	if store.IsNoRows(err) {
		return Layers{OrgID: orgID, SystemID: systemID}, nil
	}
	return l, err
}

// OrgLayers returns an organisation's own 4-layer record and its status at
// the service's clock.
func (s *Service) OrgLayers(ctx context.Context, a policy.Actor, orgID int64) (Layers, []LayerStatus, error) {
	const op = "infosys: org layers"
	if ok, err := orgExists(ctx, s.DB, orgID); err != nil {
		return Layers{}, nil, errs.Internal(op, err)
	} else if !ok {
		return Layers{}, nil, errs.NotFound(op)
	}
	if err := check(a, policy.InfosysRead, orgID, 0); err != nil {
		return Layers{}, nil, err
	}
	l, err := loadLayers(ctx, s.DB, orgID, 0)
	if err != nil {
		return l, nil, errs.Internal(op, err)
	}
	return l, Status(l, Layers{}, s.now()), nil
}

// SystemLayers returns a system, its own 4-layer record, its owner's, and
// its status at the service's clock.
func (s *Service) SystemLayers(ctx context.Context, a policy.Actor, systemID int64) (System, Layers, Layers, []LayerStatus, error) {
	const op = "infosys: system layers"
	sys, err := getSystem(ctx, s.DB, systemID)
	if err != nil {
		return sys, Layers{}, Layers{}, nil, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return System{}, Layers{}, Layers{}, nil, err
	}
	own, err := loadLayers(ctx, s.DB, sys.OwnerOrgID, sys.ID)
	if err != nil {
		return sys, own, Layers{}, nil, errs.Internal(op, err)
	}
	org, err := loadLayers(ctx, s.DB, sys.OwnerOrgID, 0)
	if err != nil {
		return sys, own, org, nil, errs.Internal(op, err)
	}
	return sys, own, org, Status(own, org, s.now()), nil
}

// SaveOrgLayers records an organisation's own 4 layers (its systems
// inherit them): for those who may write for it.
func (s *Service) SaveOrgLayers(ctx context.Context, a policy.Actor, orgID int64, in LayersInput) (Layers, error) {
	const op = "infosys: save org layers"
	if ok, err := orgExists(ctx, s.DB, orgID); err != nil {
		return Layers{}, errs.Internal(op, err)
	} else if !ok {
		return Layers{}, errs.NotFound(op)
	}
	if err := check(a, policy.InfosysWrite, orgID, 0); err != nil {
		return Layers{}, err
	}
	return s.saveLayers(ctx, a, op, orgID, 0, []int64{orgID}, in)
}

// SaveSystemLayers records a system's own 4 layers: for its owner's and
// operator's writers.
func (s *Service) SaveSystemLayers(ctx context.Context, a policy.Actor, systemID int64, in LayersInput) (Layers, error) {
	const op = "infosys: save system layers"
	sys, err := getSystem(ctx, s.DB, systemID)
	if err != nil {
		return Layers{}, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return Layers{}, err
	}
	orgs := []int64{sys.OwnerOrgID}
	if sys.OperatorOrgID != 0 {
		orgs = append(orgs, sys.OperatorOrgID)
	}
	return s.saveLayers(ctx, a, op, sys.OwnerOrgID, sys.ID, orgs, in)
}

func (s *Service) saveLayers(ctx context.Context, a policy.Actor, op string, orgID, systemID int64, orgs []int64, in LayersInput) (Layers, error) {
	var out Layers
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		l, err := validateLayers(ctx, tx, in, orgs, now)
		if err != nil {
			return err
		}
		before, err := loadLayers(ctx, tx, orgID, systemID)
		if err != nil {
			return err
		}
		staff, err := json.Marshal(nonNil(l.Staff))
		if err != nil {
			return err
		}
		args := []any{string(staff), l.Monitoring, l.Provider, store.NullTime(l.ContractStart), store.NullTime(l.ContractEnd),
			l.Assessor, store.NullTime(l.LastReportOn), store.NullTime(l.ConnectedSince), strings.Join(l.RangesShared, "\n"),
			store.NullID(a.UserID), now, orgID}
		var row scanner
		if before.ID != 0 {
			// A system's record follows the system to a new owner.
			row = tx.QueryRow(ctx, `UPDATE infosys_layers SET staff = ?, monitoring = ?, monitoring_provider = ?, contract_start = ?,
				contract_end = ?, assessor = ?, last_report_on = ?, connected_since = ?, ranges_shared = ?, updated_by = ?, updated_at = ?,
				org_id = ? WHERE id = ? RETURNING `+layerCols, append(args, before.ID)...)
		} else {
			row = tx.QueryRow(ctx, `INSERT INTO infosys_layers (staff, monitoring, monitoring_provider, contract_start, contract_end,
				assessor, last_report_on, connected_since, ranges_shared, updated_by, updated_at, org_id, system_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+layerCols, append(args, systemID, now)...)
		}
		if out, err = scanLayers(row); err != nil {
			return err
		}
		var b any
		if before.ID != 0 {
			b = before
		}
		id := itoa(orgID)
		entity := "infosys_org_layers"
		if systemID != 0 {
			id, entity = itoa(systemID), "infosys_system_layers"
		}
		return record(ctx, tx, now, a, orgID, "infosys.layers.save", entity, id, b, out)
	})
	return out, err
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// layersBatch is how many systems refreshLayers recomputes per transaction.
const layersBatch = 2000

// refreshLayers recomputes layers_from and layers_until of the systems
// whose layers_gen moved past layers_at_gen — triggers bump it when the
// system's or its owner's layer record changes, or the owner does
// (migration 00024) — so that the KPIs count from the stored window.
func refreshLayers(ctx context.Context, db *store.DB) error {
	for {
		n := 0
		err := db.InTx(ctx, func(tx *store.Tx) error {
			type stale struct{ id, owner, gen int64 }
			var xs []stale
			rows, err := tx.Query(ctx, "SELECT s.id, s.owner_org_id, s.layers_gen FROM infosys_systems s WHERE s.layers_at_gen <> s.layers_gen ORDER BY s.id LIMIT ?", layersBatch)
			if err != nil {
				return err
			}
			for rows.Next() {
				var x stale
				if err := rows.Scan(&x.id, &x.owner, &x.gen); err != nil {
					rows.Close()
					return err
				}
				xs = append(xs, x)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(xs) == 0 {
				return err
			}
			// The layer records of these systems and of their owners.
			var ids, owners []int64
			for _, x := range xs {
				ids, owners = append(ids, x.id), append(owners, x.owner)
			}
			slices.Sort(owners)
			owners = slices.Compact(owners)
			inS, argS := store.InList(ids)
			inO, argO := store.InList(owners)
			sysRecs, orgRecs := map[int64]Layers{}, map[int64]Layers{}
			lrows, err := tx.Query(ctx, "SELECT "+layerCols+" FROM infosys_layers WHERE system_id IN "+inS+" OR (system_id = 0 AND org_id IN "+inO+")",
				append(argS, argO...)...)
			if err != nil {
				return err
			}
			for lrows.Next() {
				l, err := scanLayers(lrows)
				if err != nil {
					lrows.Close()
					return err
				}
				if l.SystemID != 0 {
					sysRecs[l.SystemID] = l
				} else {
					orgRecs[l.OrgID] = l
				}
			}
			lrows.Close()
			if err := lrows.Err(); err != nil {
				return err
			}
			for _, x := range xs {
				var from, until any
				if f, u, ok := completeWindow(sysRecs[x.id], orgRecs[x.owner]); ok {
					from, until = store.NullTime(f), store.NullTime(u)
				}
				if _, err := tx.Exec(ctx, "UPDATE infosys_systems SET layers_from = ?, layers_until = ?, layers_at_gen = ? WHERE id = ? AND layers_gen = ?",
					from, until, x.gen, x.id, x.gen); err != nil {
					return err
				}
			}
			n = len(xs)
			return nil
		})
		if err != nil || n < layersBatch {
			return err
		}
	}
}

// SystemComplete is one system of an organisation with whether its four
// layers are evidenced now.
type SystemComplete struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Complete bool   `json:"complete"`
}

// maxOrgSystems bounds the list of an organisation's systems on its
// 4-layer page.
const maxOrgSystems = 500

// OrgSystemsComplete lists (by name, at most 500) the systems an
// organisation owns with whether each has all four layers now, from the
// stored windows.
func (s *Service) OrgSystemsComplete(ctx context.Context, a policy.Actor, orgID int64) ([]SystemComplete, error) {
	const op = "infosys: org systems layers"
	if err := check(a, policy.InfosysRead, orgID, 0); err != nil {
		return nil, err
	}
	if err := refreshLayers(ctx, s.DB); err != nil {
		return nil, errs.Internal(op, err)
	}
	now := s.now()
	rows, err := s.DB.Query(ctx, "SELECT id, name, layers_from, layers_until FROM infosys_systems WHERE owner_org_id = ? ORDER BY name, id LIMIT ?",
		orgID, maxOrgSystems)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []SystemComplete{}
	for rows.Next() {
		var x SystemComplete
		var from, until sql.NullTime
		if err := rows.Scan(&x.ID, &x.Name, &from, &until); err != nil {
			return nil, errs.Internal(op, err)
		}
		x.Complete = from.Valid && !now.Before(from.Time) && (!until.Valid || now.Before(until.Time))
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}
