// Package campaign runs the malware-cleanup campaigns of QĐ 566 (chiến dịch
// bóc gỡ mã độc): the national coordinator or a response unit imports lists
// of infected or vulnerable addresses, each address is routed with the
// constituency index to the member that owns it and the ISP that announces
// it, and each member's remediation is tracked to a campaign report.
package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// JobRemind is the name of the reminder job.
const JobRemind = "campaign.remind"

// Notification kinds.
const (
	KindNotified = "campaign.notified"
	KindReminder = "campaign.reminder"
)

// Part statuses (a member's part of a campaign).
const (
	PartNotified     = "notified"
	PartAcknowledged = "acknowledged"
	PartCleaning     = "cleaning"
	PartCleaned      = "cleaned"
	PartNotAffected  = "not_affected"
)

// PartStatuses lists the part statuses in order.
var PartStatuses = []string{PartNotified, PartAcknowledged, PartCleaning, PartCleaned, PartNotAffected}

// Address statuses.
const (
	AddrOpen       = "open"
	AddrCleaned    = "cleaned"
	AddrReinfected = "reinfected"
)

// DefaultAckDays is the acknowledgement period when a campaign gives none.
const DefaultAckDays = 3

// Service is the campaign service.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	Log *slog.Logger
	// Whois is the registry's constituency index (org.Service.WhoisIndex).
	Whois func(context.Context) (*org.Index, error)
}

// NewService returns the service; now is the clock (time.Now when nil).
func NewService(db *store.DB, now func() time.Time, whois func(context.Context) (*org.Index, error), log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Now: now, Whois: whois, Log: log.With("component", "campaign")}
}

func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Campaign is one malware-cleanup campaign.
type Campaign struct {
	ID          int64      `json:"id"`
	OrgID       int64      `json:"org_id"`
	Name        string     `json:"name"`
	Malware     string     `json:"malware"`
	Description string     `json:"description"`
	Actions     string     `json:"actions"`
	TLP         policy.TLP `json:"tlp"`
	StartsAt    time.Time  `json:"starts_at"`
	EndsAt      time.Time  `json:"ends_at"`
	AckDays     int        `json:"ack_days"`
	CreatedBy   int64      `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	// Participants are the members and ISPs its addresses were routed to.
	Participants []int64 `json:"-"`
}

// Resources are the resources the campaign is read against: the runner's
// under the label, shared with the participants (RED is read as
// AMBER+STRICT over them, as for advisories).
func (c Campaign) Resources() []policy.Resource {
	t := c.TLP
	if t == policy.TLPRed {
		t = policy.TLPAmberStrict
	}
	out := []policy.Resource{{OwnerOrg: c.OrgID, TLP: t, SharedOrgs: c.Participants, CreatedBy: c.CreatedBy}}
	if t == policy.TLPAmber {
		for _, p := range c.Participants {
			out = append(out, policy.Resource{OwnerOrg: p, TLP: policy.TLPAmber})
		}
	}
	return out
}

// Check is policy.Check of act on the campaign's resources: nil when one
// allows, else the most telling refusal (Forbidden before NotFound).
func (c Campaign) Check(a policy.Actor, act policy.Action) error {
	return checkAny(a, act, c.Resources())
}

// checkAny is policy.Check over several resources: nil when one allows.
func checkAny(a policy.Actor, act policy.Action, rs []policy.Resource) error {
	var first error
	for _, r := range rs {
		err := policy.Check(a, act, r)
		if err == nil {
			return nil
		}
		if first == nil || errs.Is(first, errs.KindNotFound) {
			first = err
		}
	}
	return first
}

// Input is a new campaign.
type Input struct {
	OrgID       int64 // 0: the actor's organisation
	Name        string
	Malware     string
	Description string
	Actions     string
	TLP         string
	StartsAt    time.Time
	EndsAt      time.Time
	AckDays     int
}

// runnerRoles are the network roles that may run a campaign.
var runnerRoles = []org.Role{org.RoleNationalCoordinator, org.RoleMinistryResponseUnit, org.RoleProvincialResponseUnit, org.RoleSectorCERT}

// Create starts a campaign of the actor's organisation (or of in.OrgID in
// the actor's scope), which must be the national coordinator or a
// response unit.
func (s *Service) Create(ctx context.Context, a policy.Actor, in Input) (Campaign, error) {
	const op = "campaign: create"
	if in.OrgID == 0 {
		in.OrgID = a.OrgID
	}
	if err := policy.Check(a, policy.CampaignManage, policy.Resource{OwnerOrg: in.OrgID, TLP: policy.TLPAmber}); err != nil {
		return Campaign{}, err
	}
	now := s.stamp()
	c := Campaign{OrgID: in.OrgID, Name: strings.TrimSpace(in.Name), Malware: strings.TrimSpace(in.Malware),
		Description: strings.TrimSpace(in.Description), Actions: strings.TrimSpace(in.Actions),
		StartsAt: in.StartsAt.UTC().Truncate(time.Microsecond), EndsAt: in.EndsAt.UTC().Truncate(time.Microsecond),
		AckDays: in.AckDays, CreatedBy: a.UserID, CreatedAt: now}
	e := errs.Invalid(op)
	if c.Name == "" {
		e.Field("name", "campaign.error.required")
	} else if len(c.Name) > 300 {
		e.Field("name", "campaign.error.too_long", 300)
	}
	if c.Malware == "" {
		e.Field("malware", "campaign.error.required")
	}
	if c.Actions == "" {
		e.Field("actions", "campaign.error.required")
	}
	if len(c.Description) > 20000 || len(c.Actions) > 20000 {
		e.Field("description", "campaign.error.too_long", 20000)
	}
	if t, err := policy.ParseTLP(in.TLP); err != nil {
		e.Field("tlp", "campaign.error.tlp")
	} else {
		c.TLP = t
	}
	if c.StartsAt.IsZero() {
		c.StartsAt = now
	}
	if c.EndsAt.IsZero() || !c.EndsAt.After(c.StartsAt) {
		e.Field("ends_at", "campaign.error.ends_at")
	}
	if c.AckDays == 0 {
		c.AckDays = DefaultAckDays
	}
	if c.AckDays < 0 || c.AckDays > 90 {
		e.Field("ack_days", "campaign.error.ack_days")
	}
	if err := e.OrNil(); err != nil {
		return Campaign{}, err
	}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		roles := make([]any, 0, len(runnerRoles)+1)
		roles = append(roles, c.OrgID)
		for _, r := range runnerRoles {
			roles = append(roles, string(r))
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM org_roles WHERE org_id = ? AND role IN (?, ?, ?, ?)`, roles...).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalid(op).Field("org_id", "campaign.error.runner")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO campaigns (org_id, name, malware, description, actions, tlp, starts_at, ends_at,
			ack_days, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.OrgID, c.Name, c.Malware, c.Description, c.Actions, string(c.TLP), c.StartsAt, c.EndsAt, c.AckDays,
			store.NullID(a.UserID), now, now).Scan(&c.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: c.OrgID, Action: "campaign.create", Entity: "campaign",
			EntityID: fmt.Sprint(c.ID), After: c})
	})
	if err != nil {
		return Campaign{}, store.Wrap(op, err)
	}
	return c, nil
}

func loadCampaign(ctx context.Context, q store.Q, id int64) (Campaign, error) {
	var c Campaign
	var tlp string
	var by sql.NullInt64
	err := q.QueryRow(ctx, `SELECT id, org_id, name, malware, description, actions, tlp, starts_at, ends_at, ack_days, created_by, created_at
		FROM campaigns WHERE id = ?`, id).Scan(&c.ID, &c.OrgID, &c.Name, &c.Malware, &c.Description, &c.Actions, &tlp,
		&c.StartsAt, &c.EndsAt, &c.AckDays, &by, &c.CreatedAt)
	if err != nil {
		return c, err
	}
	c.TLP, c.CreatedBy = policy.TLP(tlp), by.Int64
	c.StartsAt, c.EndsAt, c.CreatedAt = c.StartsAt.UTC(), c.EndsAt.UTC(), c.CreatedAt.UTC()
	c.Participants, err = store.IDs(ctx, q, `SELECT member_org_id FROM campaign_addresses WHERE campaign_id = ? AND member_org_id IS NOT NULL
		UNION SELECT isp_org_id FROM campaign_addresses WHERE campaign_id = ? AND isp_org_id IS NOT NULL
		UNION SELECT org_id FROM campaign_parts WHERE campaign_id = ?`, id, id, id)
	return c, err
}

// Get returns a campaign the actor may read.
func (s *Service) Get(ctx context.Context, a policy.Actor, id int64) (Campaign, error) {
	const op = "campaign: get"
	c, err := loadCampaign(ctx, s.DB, id)
	if err != nil {
		return Campaign{}, store.Wrap(op, err)
	}
	if err := checkAny(a, policy.CampaignRead, c.Resources()); err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// List returns the campaigns the actor may read, newest first.
func (s *Service) List(ctx context.Context, a policy.Actor) ([]Campaign, error) {
	const op = "campaign: list"
	ids, err := store.IDs(ctx, s.DB, `SELECT id FROM campaigns ORDER BY starts_at DESC, id DESC LIMIT 1000`)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var out []Campaign
	for _, id := range ids {
		c, err := loadCampaign(ctx, s.DB, id)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		if checkAny(a, policy.CampaignRead, c.Resources()) == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// Manages reports whether the actor is on the side running the campaign
// (every address, the unrouted list, the report).
func (c Campaign) Manages(a policy.Actor) bool { return manages(a, c) }

// manages reports whether the actor may manage the campaign (the runner's
// side), which also decides who sees every address.
func manages(a policy.Actor, c Campaign) bool {
	return policy.Check(a, policy.CampaignRead, policy.Resource{OwnerOrg: c.OrgID, TLP: policy.TLPAmberStrict}) == nil &&
		a.Scope.Contains(c.OrgID)
}

// route finds the member owning ip (longest prefix) and the ISP that
// announces it: the organisation with the ISP role owning the longest
// range covering it, else the owner of the row's AS number.
func route(x *org.Index, isps map[int64]bool, ip netip.Addr, asn int64) (member, isp int64) {
	id, pfx, ok := x.Lookup(ip)
	if ok {
		member = id
		for {
			if isps[id] {
				isp = id
				break
			}
			if pfx.Bits() == 0 {
				break
			}
			id, pfx, ok = x.LookupPrefix(netip.PrefixFrom(pfx.Addr(), pfx.Bits()-1).Masked())
			if !ok {
				break
			}
		}
	}
	if isp == 0 && asn != 0 {
		if id, ok := x.LookupASN(asn); ok {
			isp = id
		}
	}
	return member, isp
}
