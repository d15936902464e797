package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// ImportResult is the answer to an import.
type ImportResult struct {
	ImportID   int64       `json:"import_id"`
	Rows       int         `json:"rows"`       // valid rows
	New        int         `json:"new"`        // addresses new to the campaign
	Reinfected int         `json:"reinfected"` // cleaned addresses seen again
	Seen       int         `json:"seen"`       // open addresses seen again
	Unrouted   int         `json:"unrouted"`   // rows no member owns
	Members    int         `json:"members"`    // members notified
	Errors     []LineError `json:"errors,omitempty"`
}

// ImportCSV parses a CSV list (gzip allowed) and imports its valid rows;
// the refused lines come back in the result with their numbers.
func (s *Service) ImportCSV(ctx context.Context, a policy.Actor, id int64, source string, r io.Reader) (ImportResult, error) {
	const op = "campaign: import"
	if _, err := s.manageable(ctx, a, id); err != nil {
		return ImportResult{}, err
	}
	rows, bad, err := ParseCSV(r)
	if errors.Is(err, ErrTooLarge) {
		return ImportResult{}, errs.TooLarge(op)
	}
	if err != nil {
		return ImportResult{}, errs.Invalid(op).Field("file", "campaign.error.file", err.Error())
	}
	if len(rows) == 0 {
		e := errs.Invalid(op).Field("file", "campaign.error.no_rows")
		return ImportResult{Errors: bad}, e
	}
	res, err := s.importRows(ctx, a, id, source, rows, len(bad))
	res.Errors = bad
	return res, err
}

// AddAddress adds one address by hand (an import of one row).
func (s *Service) AddAddress(ctx context.Context, a policy.Actor, id int64, row Row) (ImportResult, error) {
	if !row.IP.IsValid() {
		return ImportResult{}, errs.Invalid("campaign: add").Field("ip", "campaign.error.ip")
	}
	if _, err := ParseIP(row.IP.String()); err != nil {
		return ImportResult{}, errs.Invalid("campaign: add").Field("ip", "campaign.error.ip")
	}
	return s.Import(ctx, a, id, "manual", []Row{row})
}

func (s *Service) manageable(ctx context.Context, a policy.Actor, id int64) (Campaign, error) {
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return c, err
	}
	if err := policy.Check(a, policy.CampaignManage, policy.Resource{OwnerOrg: c.OrgID, TLP: policy.TLPAmber}); err != nil {
		return c, err
	}
	return c, nil
}

// Import routes rows and stores them in one transaction: each address to
// the member owning it and its ISP (at most once per campaign: a second
// sighting updates it, a cleaned one reopens as reinfected), a part for
// each member not yet in the campaign, and one message per member (and ISP)
// of the import.
func (s *Service) Import(ctx context.Context, a policy.Actor, id int64, source string, rows []Row) (ImportResult, error) {
	return s.importRows(ctx, a, id, source, rows, 0)
}

// importRows is Import recording how many lines the parser refused.
func (s *Service) importRows(ctx context.Context, a policy.Actor, id int64, source string, rows []Row, refused int) (ImportResult, error) {
	const op = "campaign: import"
	c, err := s.manageable(ctx, a, id)
	if err != nil {
		return ImportResult{}, err
	}
	if len(rows) == 0 {
		return ImportResult{}, errs.Invalid(op).Field("file", "campaign.error.no_rows")
	}
	if len(rows) > MaxRows {
		return ImportResult{}, errs.TooLarge(op)
	}
	if s.Whois == nil {
		return ImportResult{}, errs.Internal(op, errors.New("no constituency index"))
	}
	x, err := s.Whois(ctx)
	if err != nil {
		return ImportResult{}, errs.Ensure(op, err)
	}
	isps := map[int64]bool{}
	ispIDs, err := store.IDs(ctx, s.DB, `SELECT org_id FROM org_roles WHERE role = 'isp'`)
	if err != nil {
		return ImportResult{}, errs.Internal(op, err)
	}
	for _, i := range ispIDs {
		isps[i] = true
	}
	now := s.stamp()
	var res ImportResult
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		res = ImportResult{Rows: len(rows)}
		if err := tx.QueryRow(ctx, `INSERT INTO campaign_imports (campaign_id, source, rows_ok, rows_bad, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, c.ID, source, len(rows), refused, store.NullID(a.UserID), now).Scan(&res.ImportID); err != nil {
			return err
		}
		touched := map[int64]bool{} // members and ISPs with news in this import
		members := map[int64]bool{}
		seen := map[string]bool{}
		for _, r := range rows {
			ip := r.IP.Unmap().String()
			if seen[ip] {
				continue
			}
			seen[ip] = true
			member, isp := route(x, isps, r.IP, r.ASN)
			// A response unit's campaign reaches only its own scope.
			if member != 0 && !a.Scope.Contains(member) {
				member = 0
			}
			if isp != 0 && !a.Scope.Contains(isp) {
				isp = 0
			}
			if member == 0 {
				res.Unrouted++
			}
			seenAt := r.SeenAt
			if seenAt.IsZero() {
				seenAt = now
			}
			malware := r.Malware
			if malware == "" {
				malware = c.Malware
			}
			firstAt := seenAt
			if !r.FirstSeen.IsZero() && r.FirstSeen.Before(seenAt) {
				firstAt = r.FirstSeen
			}
			var addrID int64
			var status string
			err := tx.QueryRow(ctx, `SELECT id, status FROM campaign_addresses WHERE campaign_id = ? AND ip = ?`, c.ID, ip).Scan(&addrID, &status)
			switch {
			case store.IsNoRows(err):
				if _, err := tx.Exec(ctx, `INSERT INTO campaign_addresses (campaign_id, ip, port, asn, malware, note, member_org_id, isp_org_id,
					status, first_import_id, last_import_id, first_seen_at, last_seen_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, ip, r.Port, r.ASN, malware, r.Note, store.NullID(member), store.NullID(isp),
					AddrOpen, res.ImportID, res.ImportID, firstAt, seenAt, now); err != nil {
					return err
				}
				res.New++
			case err != nil:
				return err
			case status == AddrCleaned:
				if _, err := tx.Exec(ctx, `UPDATE campaign_addresses SET status = ?, reinfections = reinfections + 1, last_import_id = ?,
					last_seen_at = ?, member_org_id = ?, isp_org_id = ?, port = ?, updated_at = ? WHERE id = ?`, AddrReinfected, res.ImportID, seenAt,
					store.NullID(member), store.NullID(isp), r.Port, now, addrID); err != nil {
					return err
				}
				res.Reinfected++
			default:
				if _, err := tx.Exec(ctx, `UPDATE campaign_addresses SET last_import_id = ?, last_seen_at = ?, member_org_id = ?, isp_org_id = ?,
					updated_at = ? WHERE id = ?`, res.ImportID, seenAt, store.NullID(member), store.NullID(isp), now, addrID); err != nil {
					return err
				}
				res.Seen++
				continue // nothing new for the member
			}
			if member != 0 {
				touched[member], members[member] = true, true
			}
			if isp != 0 {
				touched[isp] = true
			}
		}
		for m := range members {
			if err := s.openPart(ctx, tx, c, m, now); err != nil {
				return err
			}
		}
		res.Members = len(members)
		orgs := make([]int64, 0, len(touched))
		for o := range touched {
			orgs = append(orgs, o)
		}
		slices.Sort(orgs)
		for _, o := range orgs {
			if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindNotified,
				Key:  fmt.Sprintf("campaign:%d:import:%d:org:%d", c.ID, res.ImportID, o),
				Orgs: []int64{o}, Subject: errs.Msg{Key: "campaign.msg.notified", Args: []any{c.Name}},
				Link: fmt.Sprintf("/campaigns/%d", c.ID), TLP: c.TLP}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: c.OrgID, Action: "campaign.import", Entity: "campaign",
			EntityID: fmt.Sprint(c.ID), After: map[string]any{"import_id": res.ImportID, "source": source, "rows": res.Rows,
				"new": res.New, "reinfected": res.Reinfected, "unrouted": res.Unrouted, "members": res.Members}})
	})
	if err != nil {
		return ImportResult{}, store.Wrap(op, err)
	}
	return res, nil
}

// openPart adds the member's part (notified) or reopens a finished one
// that has new or reinfected addresses.
func (s *Service) openPart(ctx context.Context, tx *store.Tx, c Campaign, member int64, now any) error {
	var status string
	var acked sql.NullTime
	err := tx.QueryRow(ctx, `SELECT status, acknowledged_at FROM campaign_parts WHERE campaign_id = ? AND org_id = ?`, c.ID, member).Scan(&status, &acked)
	if store.IsNoRows(err) {
		_, err = tx.Exec(ctx, `INSERT INTO campaign_parts (campaign_id, org_id, status, notified_at, last_activity_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, member, PartNotified, now, now)
		return err
	}
	if err != nil {
		return err
	}
	if status != PartCleaned && status != PartNotAffected {
		return nil
	}
	next := PartCleaning
	if !acked.Valid {
		next = PartNotified
	}
	_, err = tx.Exec(ctx, `UPDATE campaign_parts SET status = ?, notified_at = ?, reminder_sent = 0, last_activity_at = ?
		WHERE campaign_id = ? AND org_id = ?`, next, now, now, c.ID, member)
	return err
}
