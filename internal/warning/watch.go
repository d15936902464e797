package warning

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"certnet/internal/errs"
	"certnet/internal/ingest"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Watch is the 24/7 view's figures for an actor's scope, read from the
// pipeline's counters (ingest_minutes, ingest_rates, ingest_signals and the
// hourly sightings), never from raw events.
type Watch struct {
	At time.Time `json:"at"`
	// Events and matches in the last complete minute and the last 60
	// complete minutes (by arrival); per second is the count / 60 or 3600.
	EventsMinute  int64 `json:"events_last_minute"`
	MatchesMinute int64 `json:"matches_last_minute"`
	EventsHour    int64 `json:"events_last_hour"`
	MatchesHour   int64 `json:"matches_last_hour"`
	// Top indicators and signatures of the hour buckets seen in the last
	// hour; affected members by matched events.
	TopIndicators []Top    `json:"top_indicators"`
	TopSignatures []Top    `json:"top_signatures"`
	Members       []Member `json:"members"`
	// Provinces: matched events by province code (the map).
	Provinces map[string]int64 `json:"provinces"`
	Sources   []ingest.Source  `json:"sources"`
	Warnings  []Warning        `json:"warnings"`
}

// PerSecond is a count over a span in seconds, rounded to one decimal.
func PerSecond(n int64, seconds int) float64 {
	return float64(n*10/int64(seconds)) / 10
}

// EventsPerSecondMinute and the others are the rates shown.
func (w Watch) EventsPerSecondMinute() float64  { return PerSecond(w.EventsMinute, 60) }
func (w Watch) MatchesPerSecondMinute() float64 { return PerSecond(w.MatchesMinute, 60) }
func (w Watch) EventsPerSecondHour() float64    { return PerSecond(w.EventsHour, 3600) }
func (w Watch) MatchesPerSecondHour() float64   { return PerSecond(w.MatchesHour, 3600) }

// Top is a ranked subject.
type Top struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Count int64  `json:"count"`
	Orgs  int    `json:"orgs"`
}

// Member is a member's activity.
type Member struct {
	OrgID    int64  `json:"org_id"`
	Name     string `json:"name"`
	Province string `json:"province,omitempty"`
	Events   int64  `json:"events"`
	Matches  int64  `json:"matches"`
}

const (
	maxTop     = 10
	maxMembers = 15
)

// inScope filters a column of organisation ids to the actor's scope.
func inScope(a policy.Actor, col string) (string, []any) {
	if a.System || a.Scope.All {
		return "", nil
	}
	ids := a.Scope.IDs()
	if len(ids) == 0 {
		return " AND 1 = 0", nil
	}
	in, args := store.InList(ids)
	return " AND " + col + " IN " + in, args
}

// Watch returns the 24/7 figures of the actor's scope.
func (s *Service) Watch(ctx context.Context, a policy.Actor) (Watch, error) {
	const op = "warning: watch"
	if err := policy.Check(a, policy.WarningRead, resource(a.OrgID)); err != nil {
		return Watch{}, err
	}
	now := s.now()
	v := Watch{At: now, Provinces: map[string]int64{}}
	m0 := now.Truncate(time.Minute)
	where, args := inScope(a, "src.org_id")
	rows, err := s.DB.Query(ctx, `SELECT m.minute, m.events, m.matches FROM ingest_minutes m JOIN ingest_sources src ON src.id = m.source_id
		WHERE m.minute >= ? AND m.minute < ?`+where, append([]any{m0.Add(-time.Hour), m0}, args...)...)
	if err != nil {
		return v, store.Wrap(op, err)
	}
	for rows.Next() {
		var t time.Time
		var e, m int64
		if err := rows.Scan(&t, &e, &m); err != nil {
			rows.Close()
			return v, store.Wrap(op, err)
		}
		v.EventsHour += e
		v.MatchesHour += m
		if t.Equal(m0.Add(-time.Minute)) {
			v.EventsMinute += e
			v.MatchesMinute += m
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, store.Wrap(op, err)
	}
	if v.TopIndicators, err = s.topIndicators(ctx, a, now); err != nil {
		return v, store.Wrap(op, err)
	}
	if v.TopSignatures, err = s.topSignatures(ctx, a, now); err != nil {
		return v, store.Wrap(op, err)
	}
	if err := s.members(ctx, a, now, &v); err != nil {
		return v, store.Wrap(op, err)
	}
	if s.Ingest != nil {
		if v.Sources, err = s.Ingest.Sources(ctx, a, 0); err != nil && !errs.Is(err, errs.KindForbidden) {
			return v, err
		}
	}
	if v.Warnings, err = s.List(ctx, a, Filter{State: StateActive, Limit: 20}); err != nil {
		return v, err
	}
	return v, nil
}

func rank(by map[string]*Top) []Top {
	out := make([]Top, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Top) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return compareKeys(a.Key, b.Key)
	})
	return out[:min(len(out), maxTop)]
}

func (s *Service) topIndicators(ctx context.Context, a policy.Actor, now time.Time) ([]Top, error) {
	where, args := inScope(a, "s.org_id")
	rows, err := s.DB.Query(ctx, `SELECT s.indicator_id, s.org_id, s.count, i.kind, i.value, i.tlp, i.owner_org_id, i.created_by
		FROM intel_sightings s JOIN intel_indicators i ON i.id = s.indicator_id
		WHERE s.last_seen >= ? AND s.source = 'ingest' AND s.org_id IS NOT NULL`+where, append([]any{now.Add(-time.Hour)}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[string]*Top{}
	orgs := map[string]map[int64]bool{}
	for rows.Next() {
		var id, o, n, owner int64
		var by2 sql.NullInt64
		var kind, value, tlp string
		if err := rows.Scan(&id, &o, &n, &kind, &value, &tlp, &owner, &by2); err != nil {
			return nil, err
		}
		k := strconv.FormatInt(id, 10)
		t := by[k]
		if t == nil {
			label := kind + " " + value
			if !a.System && policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner, TLP: policy.TLP(tlp), CreatedBy: by2.Int64}) != nil {
				label = "#" + k
			}
			t = &Top{Key: k, Label: label}
			by[k] = t
			orgs[k] = map[int64]bool{}
		}
		t.Count += n
		orgs[k][o] = true
		t.Orgs = len(orgs[k])
	}
	return rank(by), rows.Err()
}

func (s *Service) topSignatures(ctx context.Context, a policy.Actor, now time.Time) ([]Top, error) {
	where, args := inScope(a, "org_id")
	rows, err := s.DB.Query(ctx, `SELECT key, org_id, count, name FROM ingest_signals WHERE kind = ? AND hour >= ? AND last_seen >= ?`+where,
		append([]any{ingest.SignalSignature, now.Add(-time.Hour).Truncate(time.Hour), now.Add(-time.Hour)}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[string]*Top{}
	orgs := map[string]map[int64]bool{}
	for rows.Next() {
		var key, name string
		var o, n int64
		if err := rows.Scan(&key, &o, &n, &name); err != nil {
			return nil, err
		}
		t := by[key]
		if t == nil {
			t = &Top{Key: key, Label: key}
			by[key] = t
			orgs[key] = map[int64]bool{}
		}
		if name != "" {
			t.Label = name
		}
		t.Count += n
		orgs[key][o] = true
		t.Orgs = len(orgs[key])
	}
	return rank(by), rows.Err()
}

// members fills the affected members and the provinces' activity from the
// organisations' hourly counters of the current and previous hour.
func (s *Service) members(ctx context.Context, a policy.Actor, now time.Time, v *Watch) error {
	where, args := inScope(a, "r.subject_id")
	rows, err := s.DB.Query(ctx, `SELECT r.subject_id, r.events, r.matches, o.name, COALESCE(o.province_code, '') FROM ingest_rates r
		JOIN organisations o ON o.id = r.subject_id WHERE r.subject = ? AND r.hour >= ?`+where,
		append([]any{ingest.RateOrg, now.Add(-time.Hour).Truncate(time.Hour)}, args...)...)
	if err != nil {
		return err
	}
	by := map[int64]*Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.OrgID, &m.Events, &m.Matches, &m.Name, &m.Province); err != nil {
			rows.Close()
			return err
		}
		if m.Province != "" {
			v.Provinces[m.Province] += m.Matches
		}
		if x := by[m.OrgID]; x != nil {
			x.Events += m.Events
			x.Matches += m.Matches
			continue
		}
		by[m.OrgID] = &m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	list := make([]Member, 0, len(by))
	for _, m := range by {
		list = append(list, *m)
	}
	slices.SortFunc(list, func(x, y Member) int {
		if x.Matches != y.Matches {
			if x.Matches > y.Matches {
				return -1
			}
			return 1
		}
		return int(x.OrgID - y.OrgID)
	})
	for _, m := range list {
		if len(v.Members) == maxMembers {
			break
		}
		if !a.System && s.Orgs != nil {
			if _, err := s.Orgs.Get(ctx, a, m.OrgID); err != nil {
				if errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindForbidden) {
					continue // hidden by its label
				}
				return err
			}
		}
		v.Members = append(v.Members, m)
	}
	return nil
}
