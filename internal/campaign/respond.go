package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Part is a member's part of a campaign.
type Part struct {
	CampaignID     int64     `json:"campaign_id"`
	OrgID          int64     `json:"org_id"`
	Status         string    `json:"status"`
	Note           string    `json:"note,omitempty"`
	NotifiedAt     time.Time `json:"notified_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ReminderSent   bool      `json:"reminder_sent"`
	LastActivityAt time.Time `json:"last_activity_at"`
}

// next are the allowed moves of a part.
var next = map[string][]string{
	PartNotified:     {PartAcknowledged, PartNotAffected},
	PartAcknowledged: {PartCleaning, PartCleaned, PartNotAffected},
	PartCleaning:     {PartCleaned, PartNotAffected},
}

func loadPart(ctx context.Context, q store.Q, id, orgID int64) (Part, error) {
	p := Part{CampaignID: id, OrgID: orgID}
	var acked sql.NullTime
	var rem int
	err := q.QueryRow(ctx, `SELECT status, note, notified_at, acknowledged_at, reminder_sent, last_activity_at FROM campaign_parts
		WHERE campaign_id = ? AND org_id = ?`, id, orgID).Scan(&p.Status, &p.Note, &p.NotifiedAt, &acked, &rem, &p.LastActivityAt)
	p.AcknowledgedAt, p.ReminderSent = store.TimeOf(acked), rem != 0
	p.NotifiedAt, p.LastActivityAt = p.NotifiedAt.UTC(), p.LastActivityAt.UTC()
	return p, err
}

// SetStatus moves the member's part: acknowledged, cleaning, cleaned or
// not_affected (which needs a note). A move the flow does not allow is a
// conflict and changes nothing.
func (s *Service) SetStatus(ctx context.Context, a policy.Actor, id, orgID int64, status, note string) (Part, error) {
	const op = "campaign: status"
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return Part{}, err
	}
	if err := policy.Check(a, policy.CampaignRespond, policy.Resource{OwnerOrg: orgID, TLP: policy.TLPAmber}); err != nil {
		return Part{}, err
	}
	note = strings.TrimSpace(note)
	e := errs.Invalid(op)
	valid := false
	for _, st := range PartStatuses {
		valid = valid || (st == status && st != PartNotified)
	}
	if !valid {
		e.Field("status", "campaign.error.status")
	}
	if status == PartNotAffected && note == "" {
		e.Field("note", "campaign.error.note_required")
	}
	if len(note) > 5000 {
		e.Field("note", "campaign.error.too_long", 5000)
	}
	if err := e.OrNil(); err != nil {
		return Part{}, err
	}
	now := s.stamp()
	var out Part
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		p, err := loadPart(ctx, tx, c.ID, orgID)
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		ok := false
		for _, n := range next[p.Status] {
			ok = ok || n == status
		}
		if !ok {
			return errs.Conflict(op, "campaign.error.transition", p.Status, status)
		}
		out = p
		out.Status, out.LastActivityAt = status, now
		if note != "" {
			out.Note = note
		}
		if out.AcknowledgedAt.IsZero() {
			out.AcknowledgedAt = now
		}
		res, err := tx.Exec(ctx, `UPDATE campaign_parts SET status = ?, note = ?, acknowledged_at = ?, last_activity_at = ?
			WHERE campaign_id = ? AND org_id = ? AND status = ?`, status, out.Note, out.AcknowledgedAt, now, c.ID, orgID, p.Status)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "campaign.error.changed")
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: "campaign.status", Entity: "campaign_part",
			EntityID: fmt.Sprintf("%d:%d", c.ID, orgID), Before: p, After: out})
	})
	if err != nil {
		return Part{}, store.Wrap(op, err)
	}
	return out, nil
}

// Address is one routed address of a campaign.
type Address struct {
	ID           int64     `json:"id"`
	IP           string    `json:"ip"`
	Port         int       `json:"port,omitempty"`
	ASN          int64     `json:"asn,omitempty"`
	Malware      string    `json:"malware,omitempty"`
	Note         string    `json:"note,omitempty"`
	MemberOrgID  int64     `json:"member_org_id,omitempty"`
	ISPOrgID     int64     `json:"isp_org_id,omitempty"`
	Status       string    `json:"status"`
	Reinfections int       `json:"reinfections"`
	FirstSeenAt  time.Time `json:"first_seen_at"`
	LastSeenAt   time.Time `json:"last_seen_at"`
	CleanedAt    time.Time `json:"cleaned_at,omitzero"`
}

const addrCols = `id, ip, port, asn, malware, note, member_org_id, isp_org_id, status, reinfections, first_seen_at, last_seen_at, cleaned_at`

func scanAddr(sc interface{ Scan(...any) error }) (Address, error) {
	var ad Address
	var m, i sql.NullInt64
	var cl sql.NullTime
	err := sc.Scan(&ad.ID, &ad.IP, &ad.Port, &ad.ASN, &ad.Malware, &ad.Note, &m, &i, &ad.Status, &ad.Reinfections, &ad.FirstSeenAt, &ad.LastSeenAt, &cl)
	ad.MemberOrgID, ad.ISPOrgID, ad.CleanedAt = m.Int64, i.Int64, store.TimeOf(cl)
	ad.FirstSeenAt, ad.LastSeenAt = ad.FirstSeenAt.UTC(), ad.LastSeenAt.UTC()
	return ad, err
}

// Filter narrows an address list.
type Filter struct {
	OrgID    int64  // member or ISP
	Status   string // open, cleaned, reinfected
	Unrouted bool   // only addresses no member owns (the runner's side)
	Limit    int
}

// Addresses lists the campaign's addresses the actor may see: all of them
// for the organisation running it, otherwise those of members and ISPs in
// the actor's scope.
func (s *Service) Addresses(ctx context.Context, a policy.Actor, id int64, f Filter) ([]Address, error) {
	const op = "campaign: addresses"
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + addrCols + ` FROM campaign_addresses WHERE campaign_id = ?`
	args := []any{c.ID}
	if !manages(a, c) {
		if f.Unrouted {
			return nil, errs.Forbidden(op)
		}
		ids := a.Scope.IDs()
		if len(ids) == 0 {
			return nil, nil
		}
		in, inArgs := store.InList(ids)
		q += ` AND (member_org_id IN ` + in + ` OR isp_org_id IN ` + in + `)`
		args = append(append(args, inArgs...), inArgs...)
	}
	if f.OrgID != 0 {
		q += ` AND (member_org_id = ? OR isp_org_id = ?)`
		args = append(args, f.OrgID, f.OrgID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Unrouted {
		q += ` AND member_org_id IS NULL`
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	q += fmt.Sprintf(` ORDER BY id LIMIT %d`, f.Limit)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Address
	for rows.Next() {
		ad, err := scanAddr(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, ad)
	}
	return out, store.Wrap(op, rows.Err())
}

// CheckAddress decides whether the actor may answer for an address: for
// its member or for its ISP.
func CheckAddress(a policy.Actor, ad Address) error {
	var allowed error = errs.NotFound("campaign: clean")
	for _, o := range []int64{ad.MemberOrgID, ad.ISPOrgID} {
		if o == 0 {
			continue
		}
		err := policy.Check(a, policy.CampaignRespond, policy.Resource{OwnerOrg: o, TLP: policy.TLPAmber})
		if err == nil {
			return nil
		}
		if errs.Is(allowed, errs.KindNotFound) {
			allowed = err
		}
	}
	return allowed
}

// MarkCleaned marks an address cleaned, for its member or its ISP.
func (s *Service) MarkCleaned(ctx context.Context, a policy.Actor, id int64, ip string) (Address, error) {
	const op = "campaign: clean"
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return Address{}, err
	}
	addr, err := ParseIP(strings.TrimSpace(ip))
	if err != nil {
		return Address{}, errs.Invalid(op).Field("ip", "campaign.error.ip")
	}
	now := s.stamp()
	var out Address
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		ad, err := scanAddr(tx.QueryRow(ctx, `SELECT `+addrCols+` FROM campaign_addresses WHERE campaign_id = ? AND ip = ?`, c.ID, addr.String()))
		if err != nil {
			return err
		}
		if err := CheckAddress(a, ad); err != nil {
			return err
		}
		if ad.Status == AddrCleaned {
			return errs.Conflict(op, "campaign.error.already_cleaned")
		}
		out = ad
		out.Status, out.CleanedAt = AddrCleaned, now
		if _, err := tx.Exec(ctx, `UPDATE campaign_addresses SET status = ?, cleaned_at = ?, cleaned_by = ?, updated_at = ? WHERE id = ?`,
			AddrCleaned, now, store.NullID(a.UserID), now, ad.ID); err != nil {
			return err
		}
		if ad.MemberOrgID != 0 {
			if _, err := tx.Exec(ctx, `UPDATE campaign_parts SET last_activity_at = ? WHERE campaign_id = ? AND org_id = ?`, now, c.ID, ad.MemberOrgID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: ad.MemberOrgID, Action: "campaign.clean", Entity: "campaign_address",
			EntityID: fmt.Sprint(ad.ID), Before: ad, After: out})
	})
	if err != nil {
		return Address{}, store.Wrap(op, err)
	}
	return out, nil
}

// Parts lists the members' parts the actor may see (all of them for the
// runner, those in the actor's scope otherwise).
func (s *Service) Parts(ctx context.Context, a policy.Actor, id int64) ([]Part, error) {
	const op = "campaign: parts"
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	ids, err := store.IDs(ctx, s.DB, `SELECT org_id FROM campaign_parts WHERE campaign_id = ? ORDER BY org_id`, c.ID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	all := manages(a, c)
	var out []Part
	for _, o := range ids {
		if !all && !a.Scope.Contains(o) {
			continue
		}
		p, err := loadPart(ctx, s.DB, c.ID, o)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Overdue reports whether the part has had no acknowledgement within the
// campaign's period.
func (c Campaign) Overdue(p Part, now time.Time) bool {
	return p.Status == PartNotified && !now.Before(p.NotifiedAt.AddDate(0, 0, c.AckDays))
}

// Remind runs one pass of the reminder job: each part not acknowledged
// within the campaign's period gets one reminder, marked in the same
// transaction with a guard so that a second run never repeats it. It
// returns the number of reminders queued.
func (s *Service) Remind(ctx context.Context) (int, error) {
	const op = "campaign: remind"
	now := s.stamp()
	type due struct{ campaign, org int64 }
	rows, err := s.DB.Query(ctx, `SELECT p.campaign_id, p.org_id, p.notified_at, c.ack_days FROM campaign_parts p
		JOIN campaigns c ON c.id = p.campaign_id
		WHERE p.status = ? AND p.reminder_sent = 0 AND p.notified_at <= ? AND c.ends_at > ? ORDER BY p.id LIMIT 1000`,
		PartNotified, now, now)
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	var list []due
	for rows.Next() {
		var d due
		var at time.Time
		var days int
		if err := rows.Scan(&d.campaign, &d.org, &at, &days); err != nil {
			rows.Close()
			return 0, errs.Internal(op, err)
		}
		if !now.Before(at.UTC().AddDate(0, 0, days)) {
			list = append(list, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, errs.Internal(op, err)
	}
	sys := policy.SystemActor(JobRemind)
	n := 0
	for _, d := range list {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			c, err := loadCampaign(ctx, tx, d.campaign)
			if err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE campaign_parts SET reminder_sent = 1 WHERE campaign_id = ? AND org_id = ? AND status = ? AND reminder_sent = 0`,
				d.campaign, d.org, PartNotified)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return nil
			}
			if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindReminder,
				Key:  fmt.Sprintf("campaign:%d:org:%d:reminder:%d", c.ID, d.org, now.Unix()),
				Orgs: []int64{d.org}, Subject: errs.Msg{Key: "campaign.msg.reminder", Args: []any{c.Name}},
				Link: fmt.Sprintf("/campaigns/%d", c.ID), TLP: c.TLP}); err != nil {
				return err
			}
			n++
			return audit.Record(ctx, tx, now, sys, audit.Change{OrgID: d.org, Action: "campaign.remind", Entity: "campaign_part",
				EntityID: fmt.Sprintf("%d:%d", c.ID, d.org)})
		})
		if err != nil {
			return n, errs.Ensure(op, err)
		}
	}
	return n, nil
}
