package infosys

import (
	"context"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Re-classification (NĐ 85/2016 art. 11, issue 6 item 2): a system whose
// facts that decide its level change after its level was approved must be
// classified again. Every such change is kept (infosys_system_changes) with
// the level the system held then; with the approved dossiers it is the
// system's level history.

// changedLevelFields lists the level-bearing fields that differ.
func changedLevelFields(before, after System) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("owner_org_id", before.OwnerOrgID != after.OwnerOrgID)
	add("data_kind", before.DataKind != after.DataKind)
	add("personal_count", before.PersonalCount != after.PersonalCount)
	add("public_service_level", before.PublicServiceLevel != after.PublicServiceLevel)
	add("users", before.Users != after.Users)
	add("national_critical", before.NationalCritical != after.NationalCritical)
	add("ioc", before.IOC != after.IOC)
	add("sector", before.Sector != after.Sector)
	return out
}

// noteChange records, in the change's transaction, a change of the fields
// that decide the level (nothing when none changed).
func noteChange(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, before, after System, note string) error {
	fields := changedLevelFields(before, after)
	if len(fields) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "INSERT INTO infosys_system_changes (system_id, at, actor, fields, level, note) VALUES (?, ?, ?, ?, ?, ?)",
		after.ID, now, a.Label(), strings.Join(fields, ","), before.Level, note)
	return err
}

// History kinds.
const (
	HistoryChange   = "change"   // level-bearing facts changed
	HistoryApproved = "approved" // a level was approved
)

// HistoryEntry is one line of a system's level history.
type HistoryEntry struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Actor     string    `json:"actor,omitempty"`
	Fields    []string  `json:"fields,omitempty"`
	Level     int       `json:"level"` // the level held when the facts changed, or the level approved
	DossierID int64     `json:"dossier_id,omitempty"`
	Decision  string    `json:"decision_ref,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// LevelHistory returns the system's level history, newest first, and
// whether it must be classified again (it holds an approved level and a
// level-bearing fact changed since).
func (s *Service) LevelHistory(ctx context.Context, a policy.Actor, systemID int64) ([]HistoryEntry, bool, error) {
	const op = "infosys: level history"
	sys, err := s.System(ctx, a, systemID)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.DB.Query(ctx, "SELECT at, actor, fields, level, note FROM infosys_system_changes WHERE system_id = ? ORDER BY id", systemID)
	if err != nil {
		return nil, false, errs.Internal(op, err)
	}
	var out []HistoryEntry
	for rows.Next() {
		h := HistoryEntry{Kind: HistoryChange}
		var fields string
		if err := rows.Scan(&h.At, &h.Actor, &fields, &h.Level, &h.Note); err != nil {
			rows.Close()
			return nil, false, errs.Internal(op, err)
		}
		h.At, h.Fields = h.At.UTC(), strings.Split(fields, ",")
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, errs.Internal(op, err)
	}
	ds, err := s.dossiers(ctx, systemID)
	if err != nil {
		return nil, false, err
	}
	for _, d := range ds {
		if d.Status == StatusApproved {
			out = append(out, HistoryEntry{At: d.DecidedAt, Kind: HistoryApproved, Level: d.ProposedLevel, DossierID: d.ID, Decision: d.DecisionRef})
		}
	}
	slices.SortStableFunc(out, func(x, y HistoryEntry) int { return y.At.Compare(x.At) })
	return out, NeedsReclass(sys, out), nil
}

// NeedsReclass reports whether a classified system changed, in a way that
// bears on its level, after its level was approved.
func NeedsReclass(sys System, history []HistoryEntry) bool {
	if sys.Level == 0 || sys.LevelApprovedOn.IsZero() {
		return false
	}
	for _, h := range history {
		if h.Kind == HistoryChange && h.At.After(sys.LevelApprovedOn) {
			return true
		}
	}
	return false
}

// SameLevelFacts reports whether two versions of a system agree on every
// fact that decides its level.
func SameLevelFacts(before, after System) bool { return len(changedLevelFields(before, after)) == 0 }
