package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// orgCols and orgFrom select an organisation with the names of its parent,
// province and cluster. Scan them with scanOrg.
const orgCols = `o.id, o.code, o.name, o.name_en, o.short_name, COALESCE(o.parent_id, 0), o.region,
	COALESCE(o.province_code, ''), COALESCE(o.cluster_id, 0), o.sector, o.address, o.intake_email,
	o.intake_phone, o.website, o.security_lead, o.profile, o.profile_year, o.require_mfa, o.active, o.tlp,
	o.created_at, o.updated_at, o.contacts_updated_at, COALESCE(p.name, ''), COALESCE(p.tlp, ''),
	COALESCE(pr.name, ''), COALESCE(c.name, '')`

const orgFrom = ` FROM organisations o
	LEFT JOIN organisations p ON p.id = o.parent_id
	LEFT JOIN provinces pr ON pr.code = o.province_code
	LEFT JOIN clusters c ON c.id = o.cluster_id`

type scanner interface{ Scan(dest ...any) error }

// orgRow is an organisation as read, with the parent's label so that a
// reader who may not see the parent does not learn its name.
type orgRow struct {
	Org
	parentTLP policy.TLP
}

func scanOrg(sc scanner) (orgRow, error) {
	var r orgRow
	o := &r.Org
	var profile, tlp, ptlp, sector string
	var contacts sql.NullTime
	err := sc.Scan(&o.ID, &o.Code, &o.Name, &o.NameEN, &o.ShortName, &o.ParentID, &o.Region, &o.ProvinceCode,
		&o.ClusterID, &sector, &o.Address, &o.IntakeEmail, &o.IntakePhone, &o.Website, &o.SecurityLead,
		&profile, &o.ProfileYear, &o.RequireMFA, &o.Active, &tlp, &o.CreatedAt, &o.UpdatedAt, &contacts,
		&o.ParentName, &ptlp, &o.ProvinceName, &o.ClusterName)
	if err != nil {
		return r, err
	}
	o.Sector = Sector(sector)
	o.TLP = policy.TLP(tlp)
	r.parentTLP = policy.TLP(ptlp)
	o.CreatedAt = o.CreatedAt.UTC()
	o.UpdatedAt = o.UpdatedAt.UTC()
	if contacts.Valid {
		o.ContactsUpdatedAt = contacts.Time.UTC()
	}
	if profile != "" && profile != "{}" {
		if err := json.Unmarshal([]byte(profile), &o.Profile); err != nil {
			// A profile damaged by hand must not hide the organisation.
			o.Profile = Profile{}
		}
	}
	return r, nil
}

// view hides what the actor may not see of a row read from the store.
func (r orgRow) view(a policy.Actor) Org {
	o := r.Org
	if o.ParentID != 0 && !policy.CanSee(a, policy.Resource{OwnerOrg: o.ParentID, TLP: r.parentTLP}) {
		o.ParentName = ""
	}
	return o
}

// getOrg reads one organisation with its roles; errs.NotFound if missing.
func getOrg(ctx context.Context, q store.Q, where string, arg any) (orgRow, error) {
	row := q.QueryRow(ctx, "SELECT "+orgCols+orgFrom+" WHERE "+where, arg)
	r, err := scanOrg(row)
	if store.IsNoRows(err) {
		return r, errs.NotFound("org: get")
	}
	if err != nil {
		return r, errs.Internal("org: get", err)
	}
	roles, err := loadRoles(ctx, q, []int64{r.ID})
	if err != nil {
		return r, err
	}
	r.Roles = roles[r.ID]
	if r.Roles == nil {
		r.Roles = []Role{}
	}
	return r, nil
}

func getOrgByID(ctx context.Context, q store.Q, id int64) (orgRow, error) {
	return getOrg(ctx, q, "o.id = ?", id)
}

// idList formats ids from the store for an IN list. They are integers, never
// user input.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// loadRoles returns the roles of the given organisations, in display order.
func loadRoles(ctx context.Context, q store.Q, ids []int64) (map[int64][]Role, error) {
	out := make(map[int64][]Role, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		rows, err := q.Query(ctx, "SELECT org_id, role FROM org_roles WHERE org_id IN ("+idList(chunk)+")")
		if err != nil {
			return nil, errs.Internal("org: roles", err)
		}
		for rows.Next() {
			var id int64
			var r string
			if err := rows.Scan(&id, &r); err != nil {
				rows.Close()
				return nil, errs.Internal("org: roles", err)
			}
			out[id] = append(out[id], Role(r))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, errs.Internal("org: roles", err)
		}
	}
	for id, rs := range out {
		out[id] = sortRoles(rs)
	}
	return out, nil
}

// searchText is what the directory search matches: the folded names, the
// code and the province's name.
func searchText(in Input, provinceName string) string {
	parts := []string{in.Name, in.NameEN, in.ShortName, in.Code, provinceName}
	return i18n.Fold(strings.Join(parts, " "))
}

func profileJSON(p Profile) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("org: profile: %w", err)
	}
	return string(b), nil
}

func insertOrg(ctx context.Context, tx *store.Tx, in Input, provinceName string, now time.Time) (int64, error) {
	prof, err := profileJSON(in.Profile)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO organisations (code, name, name_en, short_name, search_text, sort_name,
		parent_id, region, province_code, cluster_id, sector, address, intake_email, intake_phone, website,
		security_lead, profile, profile_year, require_mfa, active, tlp, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Code, in.Name, in.NameEN, in.ShortName, searchText(in, provinceName), i18n.Fold(in.Name),
		store.NullID(in.ParentID), in.Region, nullStr(in.ProvinceCode), store.NullID(in.ClusterID), string(in.Sector),
		in.Address, in.IntakeEmail, in.IntakePhone, in.Website, in.SecurityLead, prof, in.ProfileYear,
		in.RequireMFA, in.Active, string(in.TLP), now, now).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, setRoles(ctx, tx, id, in.Roles)
}

func updateOrg(ctx context.Context, tx *store.Tx, id int64, in Input, provinceName string, now time.Time) error {
	prof, err := profileJSON(in.Profile)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE organisations SET code = ?, name = ?, name_en = ?, short_name = ?,
		search_text = ?, sort_name = ?, parent_id = ?, region = ?, province_code = ?, cluster_id = ?, sector = ?,
		address = ?, intake_email = ?, intake_phone = ?, website = ?, security_lead = ?, profile = ?,
		profile_year = ?, require_mfa = ?, active = ?, tlp = ?, updated_at = ? WHERE id = ?`,
		in.Code, in.Name, in.NameEN, in.ShortName, searchText(in, provinceName), i18n.Fold(in.Name),
		store.NullID(in.ParentID), in.Region, nullStr(in.ProvinceCode), store.NullID(in.ClusterID), string(in.Sector),
		in.Address, in.IntakeEmail, in.IntakePhone, in.Website, in.SecurityLead, prof, in.ProfileYear,
		in.RequireMFA, in.Active, string(in.TLP), now, id)
	if err != nil {
		return err
	}
	return setRoles(ctx, tx, id, in.Roles)
}

func setRoles(ctx context.Context, tx *store.Tx, id int64, roles []Role) error {
	if _, err := tx.Exec(ctx, "DELETE FROM org_roles WHERE org_id = ?", id); err != nil {
		return err
	}
	for _, r := range roles {
		if _, err := tx.Exec(ctx, "INSERT INTO org_roles (org_id, role) VALUES (?, ?)", id, string(r)); err != nil {
			return err
		}
	}
	return nil
}

// chainIDs returns the organisation and its ancestors, nearest first. It
// stops after 64 levels, so a cycle in hand-edited data cannot loop.
func chainIDs(ctx context.Context, q store.Q, id int64) ([]int64, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE chain(id, parent_id, depth) AS (
			SELECT id, parent_id, 0 FROM organisations WHERE id = ?
			UNION ALL
			SELECT o.id, o.parent_id, chain.depth + 1 FROM organisations o
			JOIN chain ON o.id = chain.parent_id WHERE chain.depth < 64
		) SELECT id FROM chain ORDER BY depth`, id)
	if err != nil {
		return nil, errs.Internal("org: chain", err)
	}
	defer rows.Close()
	var out []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, errs.Internal("org: chain", err)
		}
		if seen[v] {
			break
		}
		seen[v] = true
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("org: chain", err)
	}
	return out, nil
}

// isAncestor reports whether anc is a strict ancestor of id.
func isAncestor(ctx context.Context, q store.Q, anc, id int64) (bool, error) {
	if anc == 0 || anc == id {
		return false, nil
	}
	ids, err := chainIDs(ctx, q, id)
	if err != nil {
		return false, err
	}
	for _, v := range ids[min(1, len(ids)):] {
		if v == anc {
			return true, nil
		}
	}
	return false, nil
}

// codeTaken reports whether another organisation already uses the code.
func codeTaken(ctx context.Context, q store.Q, code string, except int64) (bool, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM organisations WHERE code = ? AND id <> ?", code, except).Scan(&id)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}
