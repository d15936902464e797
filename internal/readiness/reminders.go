package readiness

import (
	"context"
	"fmt"
	"time"

	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// JobReminders is the name of the reminder sweep on the jobs runner.
const JobReminders = "readiness.reminders"

// NotifyCertExpiring is the notification kind of a certificate about to expire.
const NotifyCertExpiring = "readiness.certificate_expiring"

// NotifyNoDrill is the notification kind of a ministry or province with no
// drill done or planned this year, sent from DrillReminderMonth on.
const NotifyNoDrill = "readiness.no_drill"

// DrillReminderMonth is the month from which a ministry or province with
// no drill this year is reminded (one quarter is left).
const DrillReminderMonth = time.October

func init() {
	notify.RegisterKind(NotifyCertExpiring, "readiness.notify.kind.cert_expiring")
	notify.RegisterKind(NotifyNoDrill, "readiness.notify.kind.no_drill")
}

// CertWarning is how long before its expiry a certificate is announced.
const CertWarning = 30 * 24 * time.Hour

// ExpiringCertificate is a certificate about to expire, with its holder.
type ExpiringCertificate struct {
	Certificate
	PersonName string `json:"person_name"`
	OrgID      int64  `json:"org_id"`
}

// expiring lists valid certificates expiring within CertWarning of now,
// of the organisations matching where (over p).
func (s *Service) expiring(ctx context.Context, now time.Time, where string, args ...any) ([]ExpiringCertificate, error) {
	today := day(now)
	rows, err := s.DB.Query(ctx, `SELECT c.id, c.person_id, c.name, c.issuer, c.obtained_on, c.expires_on, c.created_at,
		p.full_name, p.org_id FROM readiness_certificates c JOIN readiness_people p ON p.id = c.person_id
		WHERE c.expires_on IS NOT NULL AND c.expires_on >= ? AND c.expires_on < ? AND `+where+`
		ORDER BY c.expires_on, c.id`, append([]any{today, now.Add(CertWarning)}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ExpiringCertificate
	for rows.Next() {
		var e ExpiringCertificate
		var c Certificate
		if err := rows.Scan(&c.ID, &c.PersonID, &c.Name, &c.Issuer, &c.ObtainedOn, &c.ExpiresOn, &c.CreatedAt,
			&e.PersonName, &e.OrgID); err != nil {
			return nil, err
		}
		c.ObtainedOn, c.ExpiresOn, c.CreatedAt = c.ObtainedOn.UTC(), c.ExpiresOn.UTC(), c.CreatedAt.UTC()
		e.Certificate = c
		out = append(out, e)
	}
	return out, rows.Err()
}

// Expiring lists the certificates in the actor's scope that expire within
// CertWarning ("what needs me now").
func (s *Service) Expiring(ctx context.Context, a policy.Actor) ([]ExpiringCertificate, error) {
	where, args := scopeWhere(a, "p.org_id")
	xs, err := s.expiring(ctx, s.now(), where, args...)
	if err != nil {
		return nil, errs.Internal("readiness: expiring", err)
	}
	out := xs[:0]
	for _, x := range xs {
		if policy.Check(a, policy.ReadinessRead, Resource(x.OrgID)) == nil {
			out = append(out, x)
		}
	}
	return out, nil
}

// Remind tells the administrators and coordinators of each organisation
// about certificates of their people that expire within CertWarning. Run
// by the jobs runner; idempotent (one message per certificate and expiry).
func (s *Service) Remind(ctx context.Context) (int, error) {
	const op = "readiness: remind"
	now := s.now()
	xs, err := s.expiring(ctx, now, "1=1")
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	n := 0
	for _, x := range xs {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			return notify.Enqueue(ctx, tx, now, notify.Message{
				Kind:    NotifyCertExpiring,
				Key:     fmt.Sprintf("readiness:cert:%d:expires:%s", x.ID, x.ExpiresOn.Format(time.DateOnly)),
				Orgs:    []int64{x.OrgID},
				Roles:   []policy.Role{policy.RoleAdmin, policy.RoleCoordinator},
				Subject: errs.Msg{Key: "readiness.notify.cert_expiring", Args: []any{x.Name, x.PersonName}},
				Body: errs.Msg{Key: "readiness.notify.cert_expiring_body",
					Args: []any{x.PersonName, x.Name, x.ExpiresOn.Format(time.DateOnly)}},
				Link: "/readiness/people",
				TLP:  policy.TLPAmber,
			})
		})
		if err != nil {
			return n, errs.Internal(op, err)
		}
		n++
	}
	// Response plans due for their yearly review, or past it.
	m, err := s.remindPlans(ctx, now)
	n += m
	if err != nil {
		return n, err
	}
	// From October, ministries and provinces with no drill done or planned
	// this year: once a year each.
	if now.In(Local).Month() >= DrillReminderMonth {
		y, err := s.Year(ctx, policy.SystemActor("readiness reminders"))
		if err != nil {
			return n, err
		}
		for _, o := range y.NotDrilled {
			if o.Planned {
				continue
			}
			err := s.DB.InTx(ctx, func(tx *store.Tx) error {
				return notify.Enqueue(ctx, tx, now, notify.Message{
					Kind:    NotifyNoDrill,
					Key:     fmt.Sprintf("readiness:no-drill:%d:%d", o.OrgID, y.Year),
					Orgs:    []int64{o.OrgID},
					Roles:   []policy.Role{policy.RoleAdmin, policy.RoleCoordinator},
					Subject: errs.Msg{Key: "readiness.notify.no_drill", Args: []any{y.Year}},
					Body:    errs.Msg{Key: "readiness.notify.no_drill_body", Args: []any{y.Year}},
					Link:    "/readiness/drills",
					TLP:     policy.TLPGreen,
				})
			})
			if err != nil {
				return n, errs.Internal(op, err)
			}
			n++
		}
	}
	return n, nil
}
