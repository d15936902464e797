package warning

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/ingest"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// maxWarningOrgs is the most affected organisations kept per warning (the
// counts stay whole).
const maxWarningOrgs = 2000

type orgHit struct {
	count       int64
	first, last time.Time
}

func (h *orgHit) add(n int64, first, last time.Time) {
	if h.count == 0 || first.Before(h.first) {
		h.first = first
	}
	if last.After(h.last) {
		h.last = last
	}
	h.count += n
}

// candidate is a warning the counters call for.
type candidate struct {
	kind, subject, key, label string
	indicatorID               int64
	orgs                      map[int64]*orgHit
	provinces                 int
	total                     int64
	rate                      int64
	baseline                  float64
	rateHour                  time.Time
	first, last               time.Time
}

func (c *candidate) activeKey() string { return c.kind + "|" + c.subject + "|" + c.key }

func (c *candidate) hit(org, n int64, first, last time.Time) {
	h := c.orgs[org]
	if h == nil {
		h = &orgHit{}
		c.orgs[org] = h
	}
	h.add(n, first, last)
	c.total += n
	if c.first.IsZero() || first.Before(c.first) {
		c.first = first
	}
	if last.After(c.last) {
		c.last = last
	}
}

// Result is what one evaluation did.
type Result struct {
	Raised, Updated, Ended int
	Incidents, Updates     int
}

// Evaluate reads the counters and raises, updates and ends warnings, and
// opens or updates incidents; the job runs it every minute. It decides from
// the database only, so a second run changes nothing.
func (s *Service) Evaluate(ctx context.Context) (Result, error) {
	var res Result
	now := s.now()
	st, err := s.loadSettings(ctx, s.DB)
	if err != nil {
		return res, err
	}
	provOf, err := s.provinceOf(ctx)
	if err != nil {
		return res, err
	}
	cands, err := s.spread(ctx, st, now, provOf)
	if err != nil {
		return res, err
	}
	rates, err := s.rates(ctx, st, now, provOf)
	if err != nil {
		return res, err
	}
	cands = append(cands, rates...)
	national, err := store.IDs(ctx, s.DB, "SELECT org_id FROM org_roles WHERE role = 'national_coordinator' ORDER BY org_id")
	if err != nil {
		return res, fmt.Errorf("warning: national coordinator: %w", err)
	}
	active := map[string]bool{}
	for _, c := range cands {
		active[c.activeKey()] = true
		raised, updated, err := s.upsert(ctx, c, now, national)
		if err != nil {
			return res, err
		}
		if raised {
			res.Raised++
		} else if updated {
			res.Updated++
		}
	}
	if res.Ended, err = s.endGone(ctx, active, now); err != nil {
		return res, err
	}
	if res.Incidents, res.Updates, err = s.incidents(ctx, st, now, national); err != nil {
		return res, err
	}
	return res, nil
}

// provinceOf maps each organisation to its province code ("" for none).
func (s *Service) provinceOf(ctx context.Context) (map[int64]string, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, COALESCE(province_code, '') FROM organisations")
	if err != nil {
		return nil, fmt.Errorf("warning: provinces: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

func countProvinces(orgs map[int64]*orgHit, provOf map[int64]string) int {
	seen := map[string]bool{}
	for o := range orgs {
		if p := provOf[o]; p != "" {
			seen[p] = true
		}
	}
	return len(seen)
}

// spread finds the indicators, signatures and CVEs seen at enough
// organisations or provinces within the window.
func (s *Service) spread(ctx context.Context, st Settings, now time.Time, provOf map[int64]string) ([]*candidate, error) {
	from := now.Add(-time.Duration(st.WindowMinutes) * time.Minute)
	by := map[string]*candidate{}
	get := func(subject, key string) *candidate {
		k := subject + "|" + key
		c := by[k]
		if c == nil {
			c = &candidate{kind: KindSpread, subject: subject, key: key, orgs: map[int64]*orgHit{}}
			by[k] = c
		}
		return c
	}
	rows, err := s.DB.Query(ctx, `SELECT indicator_id, org_id, count, first_seen, last_seen FROM intel_sightings
		WHERE last_seen >= ? AND source = 'ingest' AND org_id IS NOT NULL`, from)
	if err != nil {
		return nil, fmt.Errorf("warning: sightings: %w", err)
	}
	for rows.Next() {
		var ind, o, n int64
		var first, last time.Time
		if err := rows.Scan(&ind, &o, &n, &first, &last); err != nil {
			rows.Close()
			return nil, err
		}
		c := get(SubjectIndicator, strconv.FormatInt(ind, 10))
		c.indicatorID = ind
		c.hit(o, n, first, last)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.DB.Query(ctx, `SELECT kind, key, org_id, count, first_seen, last_seen, name FROM ingest_signals
		WHERE hour >= ? AND last_seen >= ?`, from.Truncate(time.Hour), from)
	if err != nil {
		return nil, fmt.Errorf("warning: signals: %w", err)
	}
	for rows.Next() {
		var kind, key, name string
		var o, n int64
		var first, last time.Time
		if err := rows.Scan(&kind, &key, &o, &n, &first, &last, &name); err != nil {
			rows.Close()
			return nil, err
		}
		subject := SubjectSignature
		if kind == ingest.SignalCVE {
			subject = SubjectCVE
		}
		c := get(subject, key)
		c.hit(o, n, first, last)
		if subject == SubjectSignature && name != "" {
			c.label = name + " (" + key + ")"
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []*candidate
	var inds []int64
	for _, c := range by {
		c.provinces = countProvinces(c.orgs, provOf)
		if len(c.orgs) < st.MinOrgs && (st.MinProvinces == 0 || c.provinces < st.MinProvinces) {
			continue
		}
		switch {
		case c.subject == SubjectIndicator:
			inds = append(inds, c.indicatorID)
		case c.label == "":
			c.label = c.key
		}
		out = append(out, c)
	}
	labels, err := s.indicatorLabels(ctx, inds)
	if err != nil {
		return nil, err
	}
	for _, c := range out {
		if c.subject == SubjectIndicator {
			c.label = labels[c.indicatorID]
			if c.label == "" {
				c.label = "#" + c.key
			}
		}
	}
	slices.SortFunc(out, func(a, b *candidate) int { return compareKeys(a.activeKey(), b.activeKey()) })
	return out, nil
}

func compareKeys(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// indicatorLabels names indicators as "kind value".
func (s *Service) indicatorLabels(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		in, args := store.InList(chunk)
		rows, err := s.DB.Query(ctx, "SELECT id, kind, value FROM intel_indicators WHERE id IN "+in, args...)
		if err != nil {
			return nil, fmt.Errorf("warning: indicators: %w", err)
		}
		for rows.Next() {
			var id int64
			var kind, value string
			if err := rows.Scan(&id, &kind, &value); err != nil {
				rows.Close()
				return nil, err
			}
			if len(value) > 250 {
				value = value[:250] + "…"
			}
			out[id] = kind + " " + value
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// median of the values (0 for none).
func median(v []int64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	return float64(v[n/2-1]+v[n/2]) / 2
}

// Baseline is a subject's expected count for hour h from its hourly counts
// (a missing hour counts 0): the median of the same hour of the previous 7
// days when the subject has a week of history, else the median of the
// trailing 24 hours when it has a day; ok is false without a day of
// history (a new source has no baseline and raises nothing).
func Baseline(counts map[int64]int64, earliest, h time.Time) (float64, bool) {
	const day = 24 * time.Hour
	var v []int64
	switch {
	case !earliest.After(h.Add(-7 * day)):
		for d := 1; d <= 7; d++ {
			v = append(v, counts[h.Add(-time.Duration(d)*day).Unix()])
		}
	case !earliest.After(h.Add(-day)):
		for i := 1; i <= 24; i++ {
			v = append(v, counts[h.Add(-time.Duration(i)*time.Hour).Unix()])
		}
	default:
		return 0, false
	}
	return median(v), true
}

// rates finds the sources and members whose current or previous hour
// jumped above their baseline.
func (s *Service) rates(ctx context.Context, st Settings, now time.Time, provOf map[int64]string) ([]*candidate, error) {
	h0 := now.Truncate(time.Hour)
	type subj struct {
		subject string
		id      int64
	}
	// First the subjects whose current or previous hour reaches the
	// minimum (few), then their 8 days of hours (the primary key's prefix):
	// never a scan of every subject's week each minute.
	var subjects []subj
	seen := map[subj]bool{}
	rows, err := s.DB.Query(ctx, "SELECT subject, subject_id FROM ingest_rates WHERE hour >= ? AND events >= ?",
		h0.Add(-time.Hour), st.RateMinEvents)
	if err != nil {
		return nil, fmt.Errorf("warning: rates: %w", err)
	}
	for rows.Next() {
		var k subj
		if err := rows.Scan(&k.subject, &k.id); err != nil {
			rows.Close()
			return nil, err
		}
		if !seen[k] {
			seen[k] = true
			subjects = append(subjects, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts := map[subj]map[int64]int64{}
	earliest := map[subj]time.Time{}
	for _, k := range subjects {
		rows, err := s.DB.Query(ctx, "SELECT hour, events FROM ingest_rates WHERE subject = ? AND subject_id = ? AND hour >= ?",
			k.subject, k.id, h0.Add(-8*24*time.Hour))
		if err != nil {
			return nil, fmt.Errorf("warning: rates: %w", err)
		}
		m := map[int64]int64{}
		counts[k] = m
		for rows.Next() {
			var hour time.Time
			var n int64
			if err := rows.Scan(&hour, &n); err != nil {
				rows.Close()
				return nil, err
			}
			m[hour.UTC().Unix()] += n
			if e, ok := earliest[k]; !ok || hour.Before(e) {
				earliest[k] = hour
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []*candidate
	for k, m := range counts {
		for _, h := range []time.Time{h0, h0.Add(-time.Hour)} {
			n := m[h.Unix()]
			if n < st.RateMinEvents {
				continue
			}
			base, ok := Baseline(m, earliest[k], h)
			if !ok || float64(n) <= st.RateFactor*base {
				continue
			}
			subject := SubjectSource
			if k.subject == ingest.RateOrg {
				subject = SubjectOrg
			}
			c := &candidate{kind: KindRate, subject: subject, key: strconv.FormatInt(k.id, 10), orgs: map[int64]*orgHit{},
				rate: n, baseline: base, rateHour: h}
			out = append(out, c)
			break
		}
	}
	for _, c := range out {
		id, _ := strconv.ParseInt(c.key, 10, 64)
		var orgID int64
		var name string
		var err error
		if c.subject == SubjectSource {
			var src string
			err = s.DB.QueryRow(ctx, `SELECT s.name, s.org_id, o.name FROM ingest_sources s JOIN organisations o ON o.id = s.org_id
				WHERE s.id = ?`, id).Scan(&src, &orgID, &name)
			name = src + " — " + name
		} else {
			orgID = id
			err = s.DB.QueryRow(ctx, "SELECT name FROM organisations WHERE id = ?", id).Scan(&name)
		}
		if store.IsNoRows(err) {
			name, orgID = "#"+c.key, 0
		} else if err != nil {
			return nil, fmt.Errorf("warning: rate subject: %w", err)
		}
		c.label = name
		end := c.rateHour.Add(time.Hour)
		if end.After(now) {
			end = now
		}
		if orgID != 0 {
			c.hit(orgID, c.rate, c.rateHour, end)
		} else {
			c.first, c.last, c.total = c.rateHour, end, c.rate
		}
		c.provinces = countProvinces(c.orgs, provOf)
	}
	slices.SortFunc(out, func(a, b *candidate) int { return compareKeys(a.activeKey(), b.activeKey()) })
	return out, nil
}

// sysActor is certnet's early warning acting.
var sysActor = policy.SystemActor("early-warning")

// upsert raises the candidate's warning, or updates the one already
// raised for it (active_key is unique: never a second one).
func (s *Service) upsert(ctx context.Context, c *candidate, now time.Time, national []int64) (raised, updated bool, err error) {
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		raised, updated = false, false
		var id, total, rate int64
		var orgs, provs int
		var last time.Time
		err := tx.QueryRow(ctx, "SELECT id, orgs, provinces, total, rate, last_seen FROM warnings WHERE active_key = ?", c.activeKey()).
			Scan(&id, &orgs, &provs, &total, &rate, &last)
		switch {
		case store.IsNoRows(err):
			err = tx.QueryRow(ctx, `INSERT INTO warnings (kind, subject, subject_key, label, indicator_id, state, active_key, orgs, provinces,
				total, rate, baseline, first_seen, last_seen, raised_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				RETURNING id`, c.kind, c.subject, c.key, c.label, store.NullID(c.indicatorID), StateOpen, c.activeKey(), len(c.orgs),
				c.provinces, c.total, c.rate, c.baseline, c.first, c.last, now, now).Scan(&id)
			if err != nil {
				return fmt.Errorf("warning: raise: %w", err)
			}
			raised = true
			if err := audit.Record(ctx, tx, now, sysActor, audit.Change{Action: "warning.raise", Entity: "warning",
				EntityID: strconv.FormatInt(id, 10), After: map[string]any{"kind": c.kind, "subject": c.subject, "key": c.key,
					"orgs": len(c.orgs), "provinces": c.provinces, "total": c.total, "rate": c.rate, "baseline": c.baseline}}); err != nil {
				return err
			}
			if len(national) > 0 {
				if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindRaised, Key: fmt.Sprintf("warning:%d:raised", id),
					Orgs: national, Roles: []policy.Role{policy.RoleCoordinator, policy.RoleAnalyst},
					Subject: errs.Msg{Key: "warning.notify.raised", Args: []any{id}},
					Body:    errs.Msg{Key: "warning.notify.raised_body", Args: []any{len(c.orgs), c.provinces, c.total}},
					Link:    fmt.Sprintf("/warnings/%d", id), TLP: policy.TLPAmber}); err != nil {
					return err
				}
			}
		case err != nil:
			return fmt.Errorf("warning: find active: %w", err)
		default:
			if orgs == len(c.orgs) && provs == c.provinces && total == c.total && rate == c.rate && last.Equal(c.last) {
				return nil
			}
			_, err := tx.Exec(ctx, `UPDATE warnings SET label = ?, orgs = ?, provinces = ?, total = ?, rate = ?, baseline = ?,
				first_seen = CASE WHEN first_seen < ? THEN first_seen ELSE ? END, last_seen = ?, updated_at = ? WHERE id = ?`,
				c.label, len(c.orgs), c.provinces, c.total, c.rate, c.baseline, c.first, c.first, c.last, now, id)
			if err != nil {
				return fmt.Errorf("warning: update: %w", err)
			}
			updated = true
		}
		return s.storeOrgs(ctx, tx, id, c)
	})
	return raised, updated, err
}

// storeOrgs replaces the warning's affected organisations.
func (s *Service) storeOrgs(ctx context.Context, tx *store.Tx, id int64, c *candidate) error {
	if _, err := tx.Exec(ctx, "DELETE FROM warning_orgs WHERE warning_id = ?", id); err != nil {
		return err
	}
	ids := make([]int64, 0, len(c.orgs))
	for o := range c.orgs {
		ids = append(ids, o)
	}
	// The most affected first, when there are too many to keep.
	slices.SortFunc(ids, func(a, b int64) int {
		if d := c.orgs[b].count - c.orgs[a].count; d != 0 {
			if d > 0 {
				return 1
			}
			return -1
		}
		return int(a - b)
	})
	for _, o := range ids[:min(len(ids), maxWarningOrgs)] {
		h := c.orgs[o]
		if _, err := tx.Exec(ctx, "INSERT INTO warning_orgs (warning_id, org_id, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
			id, o, h.count, h.first, h.last); err != nil {
			return fmt.Errorf("warning: affected organisation: %w", err)
		}
	}
	return nil
}

// endGone ends the warnings whose condition no longer holds: their
// active_key is cleared, so a later recurrence raises a new warning.
func (s *Service) endGone(ctx context.Context, active map[string]bool, now time.Time) (int, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, active_key FROM warnings WHERE active_key IS NOT NULL")
	if err != nil {
		return 0, fmt.Errorf("warning: active: %w", err)
	}
	type ak struct {
		id  int64
		key string
	}
	var gone []ak
	for rows.Next() {
		var x ak
		if err := rows.Scan(&x.id, &x.key); err != nil {
			rows.Close()
			return 0, err
		}
		if !active[x.key] {
			gone = append(gone, x)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, x := range gone {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, "UPDATE warnings SET active_key = NULL, ended_at = ?, updated_at = ? WHERE id = ? AND active_key = ?",
				now, now, x.id, x.key)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			n++
			return audit.Record(ctx, tx, now, sysActor, audit.Change{Action: "warning.end", Entity: "warning",
				EntityID: strconv.FormatInt(x.id, 10), After: map[string]any{"ended_at": now}})
		})
		if err != nil {
			return n, fmt.Errorf("warning: end %d: %w", x.id, err)
		}
	}
	return n, nil
}
