package org

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Province is a provincial-level unit. Provinces are data, not code: they
// were merged into 34 units on 1 July 2025 and may change again.
type Province struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Region    string `json:"region,omitempty"`
	SortOrder int    `json:"sort_order"`
	// Map places the province on the dashboards' tile-grid map; nil when
	// it is not placed.
	Map *MapTile `json:"map,omitempty"`
}

// MapTile is a cell of the tile-grid map, counted from the top-left.
type MapTile struct {
	Col int `json:"col"`
	Row int `json:"row"`
}

// maxMapCell bounds the tile grid.
const maxMapCell = 40

// Cluster is a cluster (cụm) of the network, with its head and deputy; the
// head rotates yearly.
type Cluster struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	HeadOrgID   int64  `json:"head_org_id,omitempty"`
	DeputyOrgID int64  `json:"deputy_org_id,omitempty"`
	HeadYear    int    `json:"head_year,omitempty"`
	// Filled on reads.
	HeadName   string `json:"head_name,omitempty"`
	DeputyName string `json:"deputy_name,omitempty"`
}

var regCodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$`)

// Provinces lists the provinces in their display order.
func (s *Service) Provinces(ctx context.Context) ([]Province, error) {
	rows, err := s.DB.Query(ctx, "SELECT code, name, region, sort_order, map_col, map_row, map_set FROM provinces ORDER BY sort_order, name_fold, code")
	if err != nil {
		return nil, errs.Internal("org: provinces", err)
	}
	defer rows.Close()
	out := []Province{}
	for rows.Next() {
		var p Province
		var t MapTile
		var placed bool
		if err := rows.Scan(&p.Code, &p.Name, &p.Region, &p.SortOrder, &t.Col, &t.Row, &placed); err != nil {
			return nil, errs.Internal("org: provinces", err)
		}
		if placed {
			p.Map = &t
		}
		out = append(out, p)
	}
	return out, errs.Ensure("org: provinces", rows.Err())
}

// SaveProvince adds or changes a province (by code). Organisations in the
// province are re-indexed for search when its name changes.
func (s *Service) SaveProvince(ctx context.Context, a policy.Actor, p Province) error {
	const op = "org: save province"
	if err := policy.Check(a, policy.RegistryEdit, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return err
	}
	p.Code = strings.TrimSpace(p.Code)
	p.Name = strings.TrimSpace(p.Name)
	p.Region = strings.ToLower(strings.TrimSpace(p.Region))
	v := errs.Invalid(op)
	if p.Code == "" {
		v.Field("code", "field.required")
	} else if !regCodeRE.MatchString(p.Code) {
		v.Field("code", "org.err.code_format")
	}
	if p.Name == "" {
		v.Field("name", "field.required")
	}
	checkText(v, "name", p.Name, maxShort, false)
	if p.Region != "" && !slices.Contains(Regions, p.Region) {
		v.Field("region", "field.invalid_choice")
	}
	if p.SortOrder < 0 || p.SortOrder > 1_000_000 {
		v.Field("sort_order", "org.err.count_range", 1_000_000)
	}
	var tile MapTile
	if p.Map != nil {
		tile = *p.Map
		if tile.Col < 0 || tile.Col > maxMapCell || tile.Row < 0 || tile.Row > maxMapCell {
			v.Field("map", "org.err.count_range", maxMapCell)
		}
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	now := s.stamp()
	return errs.Ensure(op, s.DB.InTx(ctx, func(tx *store.Tx) error {
		if p.Map != nil {
			var other string
			err := tx.QueryRow(ctx, "SELECT name FROM provinces WHERE map_set = ? AND map_col = ? AND map_row = ? AND code <> ?",
				true, tile.Col, tile.Row, p.Code).Scan(&other)
			if err == nil {
				return errs.Invalid(op).Field("map", "org.err.map_taken", other)
			} else if !store.IsNoRows(err) {
				return errs.Internal(op, err)
			}
		}
		var before *Province
		var old Province
		err := tx.QueryRow(ctx, "SELECT code, name, region, sort_order FROM provinces WHERE code = ?", p.Code).
			Scan(&old.Code, &old.Name, &old.Region, &old.SortOrder)
		switch {
		case err == nil:
			before = &old
		case !store.IsNoRows(err):
			return errs.Internal(op, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO provinces (code, name, name_fold, region, sort_order, map_col, map_row, map_set)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_fold = excluded.name_fold,
			region = excluded.region, sort_order = excluded.sort_order, map_col = excluded.map_col,
			map_row = excluded.map_row, map_set = excluded.map_set`,
			p.Code, p.Name, i18n.Fold(p.Name), p.Region, p.SortOrder, tile.Col, tile.Row, p.Map != nil); err != nil {
			return errs.Internal(op, err)
		}
		if before != nil && before.Name != p.Name {
			if err := reindexProvince(ctx, tx, p); err != nil {
				return errs.Internal(op, err)
			}
		}
		c := audit.Change{Action: "province.save", Entity: "province", EntityID: p.Code, After: p}
		if before != nil {
			c.Before = before
		}
		return audit.Record(ctx, tx, now, a, c)
	}))
}

// reindexProvince recomputes the search text of the province's
// organisations, which includes the province's name.
func reindexProvince(ctx context.Context, tx *store.Tx, p Province) error {
	rows, err := tx.Query(ctx, "SELECT id, code, name, name_en, short_name FROM organisations WHERE province_code = ?", p.Code)
	if err != nil {
		return err
	}
	type row struct {
		id int64
		in Input
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.in.Code, &r.in.Name, &r.in.NameEN, &r.in.ShortName); err != nil {
			rows.Close()
			return err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range list {
		if _, err := tx.Exec(ctx, "UPDATE organisations SET search_text = ? WHERE id = ?", searchText(r.in, p.Name), r.id); err != nil {
			return err
		}
	}
	return nil
}

// Clusters lists the clusters with the names of their head and deputy.
func (s *Service) Clusters(ctx context.Context) ([]Cluster, error) {
	rows, err := s.DB.Query(ctx, `SELECT c.id, c.code, c.name, COALESCE(c.head_org_id, 0), COALESCE(c.deputy_org_id, 0),
		c.head_year, COALESCE(h.name, ''), COALESCE(d.name, '') FROM clusters c
		LEFT JOIN organisations h ON h.id = c.head_org_id LEFT JOIN organisations d ON d.id = c.deputy_org_id
		ORDER BY c.code`)
	if err != nil {
		return nil, errs.Internal("org: clusters", err)
	}
	defer rows.Close()
	out := []Cluster{}
	for rows.Next() {
		var c Cluster
		if err := rows.Scan(&c.ID, &c.Code, &c.Name, &c.HeadOrgID, &c.DeputyOrgID, &c.HeadYear, &c.HeadName, &c.DeputyName); err != nil {
			return nil, errs.Internal("org: clusters", err)
		}
		out = append(out, c)
	}
	return out, errs.Ensure("org: clusters", rows.Err())
}

func getCluster(ctx context.Context, q store.Q, id int64) (Cluster, error) {
	var c Cluster
	err := q.QueryRow(ctx, `SELECT c.id, c.code, c.name, COALESCE(c.head_org_id, 0), COALESCE(c.deputy_org_id, 0),
		c.head_year, COALESCE(h.name, ''), COALESCE(d.name, '') FROM clusters c
		LEFT JOIN organisations h ON h.id = c.head_org_id LEFT JOIN organisations d ON d.id = c.deputy_org_id
		WHERE c.id = ?`, id).Scan(&c.ID, &c.Code, &c.Name, &c.HeadOrgID, &c.DeputyOrgID, &c.HeadYear, &c.HeadName, &c.DeputyName)
	if store.IsNoRows(err) {
		return c, errs.NotFound("org: cluster")
	}
	if err != nil {
		return c, errs.Internal("org: cluster", err)
	}
	return c, nil
}

// SaveCluster adds (ID 0) or changes a cluster.
func (s *Service) SaveCluster(ctx context.Context, a policy.Actor, c Cluster) (Cluster, error) {
	const op = "org: save cluster"
	if err := policy.Check(a, policy.RegistryEdit, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return Cluster{}, err
	}
	c.Code = strings.TrimSpace(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	v := errs.Invalid(op)
	if c.Code == "" {
		v.Field("code", "field.required")
	} else if !regCodeRE.MatchString(c.Code) {
		v.Field("code", "org.err.code_format")
	}
	if c.Name == "" {
		v.Field("name", "field.required")
	}
	checkText(v, "name", c.Name, maxShort*2, false)
	now := s.stamp()
	if c.HeadYear != 0 && (c.HeadYear < 2000 || c.HeadYear > now.Year()+1) {
		v.Field("head_year", "org.err.profile_year", now.Year()+1)
	}
	if c.HeadOrgID != 0 && c.HeadOrgID == c.DeputyOrgID {
		v.Field("deputy_org_id", "org.err.cluster_same_head")
	}
	var out Cluster
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		for field, id := range map[string]int64{"head_org_id": c.HeadOrgID, "deputy_org_id": c.DeputyOrgID} {
			if id == 0 {
				continue
			}
			var one int
			if err := tx.QueryRow(ctx, "SELECT 1 FROM organisations WHERE id = ?", id).Scan(&one); store.IsNoRows(err) {
				v.Field(field, "org.err.org_not_found")
			} else if err != nil {
				return errs.Internal(op, err)
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		var before *Cluster
		if c.ID != 0 {
			b, err := getCluster(ctx, tx, c.ID)
			if err != nil {
				return err
			}
			before = &b
		}
		var other int64
		err := tx.QueryRow(ctx, "SELECT id FROM clusters WHERE code = ? AND id <> ?", c.Code, c.ID).Scan(&other)
		if err == nil {
			return conflict(op, "code", "org.err.cluster_code_taken", c.Code)
		} else if !store.IsNoRows(err) {
			return errs.Internal(op, err)
		}
		if before == nil {
			err = tx.QueryRow(ctx, `INSERT INTO clusters (code, name, head_org_id, deputy_org_id, head_year, created_at,
				updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.Code, c.Name, store.NullID(c.HeadOrgID),
				store.NullID(c.DeputyOrgID), c.HeadYear, now, now).Scan(&c.ID)
		} else {
			_, err = tx.Exec(ctx, `UPDATE clusters SET code = ?, name = ?, head_org_id = ?, deputy_org_id = ?,
				head_year = ?, updated_at = ? WHERE id = ?`, c.Code, c.Name, store.NullID(c.HeadOrgID),
				store.NullID(c.DeputyOrgID), c.HeadYear, now, c.ID)
		}
		if err != nil {
			if store.IsUniqueViolation(err) {
				return conflict(op, "code", "org.err.cluster_code_taken", c.Code)
			}
			return errs.Internal(op, err)
		}
		if out, err = getCluster(ctx, tx, c.ID); err != nil {
			return err
		}
		action := "cluster.create"
		ch := audit.Change{Entity: "cluster", EntityID: strconv.FormatInt(c.ID, 10), After: out}
		if before != nil {
			action, ch.Before = "cluster.update", before
		}
		ch.Action = action
		return audit.Record(ctx, tx, now, a, ch)
	})
	if err != nil {
		return Cluster{}, errs.Ensure(op, err)
	}
	return out, nil
}
