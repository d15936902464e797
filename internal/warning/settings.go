package warning

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// settingsKey is the settings row holding the thresholds (JSON).
const settingsKey = "warning.settings"

// Settings are the early-warning thresholds.
type Settings struct {
	// MinOrgs: a subject seen at this many organisations within the window
	// raises a warning.
	MinOrgs int `json:"min_orgs"`
	// MinProvinces: or at this many provinces (0: not used).
	MinProvinces int `json:"min_provinces"`
	// WindowMinutes is the window of the spread and of the incidents.
	WindowMinutes int `json:"window_minutes"`
	// RateFactor k: an hour above k × the baseline is a jump …
	RateFactor float64 `json:"rate_factor"`
	// RateMinEvents … when it counts at least this many events.
	RateMinEvents int64 `json:"rate_min_events"`
	// IncidentConfidence: an indicator of at least this confidence seen in
	// a member's range opens an incident for it (0: never).
	IncidentConfidence int `json:"incident_confidence"`
}

// DefaultSettings are the thresholds until the national administrator
// changes them.
func DefaultSettings() Settings {
	return Settings{MinOrgs: 3, MinProvinces: 3, WindowMinutes: 60, RateFactor: 5, RateMinEvents: 1000, IncidentConfidence: 80}
}

// Bounds of the settings.
const (
	maxMinOrgs    = 100_000
	maxWindow     = 7 * 24 * 60
	maxRateFactor = 1000
	maxRateMin    = 1_000_000_000
)

// Validate checks the settings; field errors go to e.
func (st Settings) Validate(e *errs.Error) {
	if st.MinOrgs < 2 || st.MinOrgs > maxMinOrgs {
		e.Field("min_orgs", "warning.err.range", 2, maxMinOrgs)
	}
	if st.MinProvinces < 0 || st.MinProvinces > 100 {
		e.Field("min_provinces", "warning.err.range", 0, 100)
	}
	if st.WindowMinutes < 5 || st.WindowMinutes > maxWindow {
		e.Field("window_minutes", "warning.err.range", 5, maxWindow)
	}
	if math.IsNaN(st.RateFactor) || st.RateFactor < 1.5 || st.RateFactor > maxRateFactor {
		e.Field("rate_factor", "warning.err.factor", 1.5, maxRateFactor)
	}
	if st.RateMinEvents < 1 || st.RateMinEvents > maxRateMin {
		e.Field("rate_min_events", "warning.err.range", 1, maxRateMin)
	}
	if st.IncidentConfidence < 0 || st.IncidentConfidence > 100 {
		e.Field("incident_confidence", "warning.err.range", 0, 100)
	}
}

// loadSettings reads the thresholds (the defaults when never saved; a
// damaged row reads as the defaults too, logged).
func (s *Service) loadSettings(ctx context.Context, q store.Q) (Settings, error) {
	var v string
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", settingsKey).Scan(&v)
	if store.IsNoRows(err) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("warning: settings: %w", err)
	}
	st := DefaultSettings()
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		s.Log.Error("warning: settings row unreadable; using the defaults", "err", err)
		return DefaultSettings(), nil
	}
	e := errs.Invalid("warning: settings")
	if st.Validate(e); e.OrNil() != nil {
		s.Log.Error("warning: settings row out of bounds; using the defaults", "value", v)
		return DefaultSettings(), nil
	}
	return st, nil
}

// Settings returns the thresholds, for those who read warnings.
func (s *Service) Settings(ctx context.Context, a policy.Actor) (Settings, error) {
	if err := policy.Check(a, policy.WarningRead, resource(a.OrgID)); err != nil {
		return Settings{}, err
	}
	return s.loadSettings(ctx, s.DB)
}

// SaveSettings changes the thresholds (national administrator), audited.
func (s *Service) SaveSettings(ctx context.Context, a policy.Actor, st Settings) (Settings, error) {
	const op = "warning: save settings"
	if err := policy.Check(a, policy.WarningSettings, resource(a.OrgID)); err != nil {
		return Settings{}, err
	}
	e := errs.Invalid(op)
	if st.Validate(e); e.OrNil() != nil {
		return Settings{}, e
	}
	b, _ := json.Marshal(st)
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingsKey, string(b)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.now(), a, audit.Change{OrgID: a.OrgID, Action: "warning.settings", Entity: "settings",
			EntityID: settingsKey, Before: before, After: st})
	})
	if err != nil {
		return Settings{}, store.Wrap(op, err)
	}
	return st, nil
}
