package org

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Contact kinds: the primary and backup contact points (đầu mối), the
// security lead and the intake desk.
const (
	ContactPrimary      = "primary"
	ContactBackup       = "backup"
	ContactSecurityLead = "security_lead"
	ContactIntake       = "intake"
)

// ContactKinds lists the contact kinds in display order.
var ContactKinds = []string{ContactPrimary, ContactBackup, ContactSecurityLead, ContactIntake}

// Contact is a contact point of an organisation.
type Contact struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Title     string    `json:"title,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Phone247  string    `json:"phone_247,omitempty"`
	PGPKey    string    `json:"pgp_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ContactInput is a new (ID 0) or changed contact point.
type ContactInput struct {
	ID       int64
	Kind     string
	Name     string
	Title    string
	Email    string
	Phone    string
	Phone247 string
	PGPKey   string
}

// ContactChange is one entry of the contact-point history.
type ContactChange struct {
	ID        int64     `json:"id"`
	ContactID int64     `json:"contact_id"`
	Change    string    `json:"change"` // create, update, delete
	Before    *Contact  `json:"before,omitempty"`
	After     *Contact  `json:"after,omitempty"`
	ChangedAt time.Time `json:"changed_at"`
	ChangedBy int64     `json:"changed_by,omitempty"`
}

const contactCols = "id, org_id, kind, name, title, email, phone, phone_247, pgp_key, created_at, updated_at"

func scanContact(sc scanner) (Contact, error) {
	var c Contact
	err := sc.Scan(&c.ID, &c.OrgID, &c.Kind, &c.Name, &c.Title, &c.Email, &c.Phone, &c.Phone247, &c.PGPKey,
		&c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// Contacts lists an organisation's contact points, primary first.
func (s *Service) Contacts(ctx context.Context, a policy.Actor, orgID int64) ([]Contact, error) {
	if _, err := orgFor(ctx, s.DB, a, policy.OrgRead, orgID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+contactCols+" FROM contacts WHERE org_id = ? ORDER BY id", orgID)
	if err != nil {
		return nil, errs.Internal("org: contacts", err)
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, errs.Internal("org: contacts", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("org: contacts", err)
	}
	slices.SortStableFunc(out, func(x, y Contact) int { return kindRank(x.Kind) - kindRank(y.Kind) })
	return out, nil
}

func kindRank(k string) int {
	if i := slices.Index(ContactKinds, k); i >= 0 {
		return i
	}
	return len(ContactKinds)
}

var fingerprintRE = regexp.MustCompile(`^(0X)?[0-9A-F]{16}$|^(0X)?[0-9A-F]{40}$|^[0-9A-F]{64}$`)

func normalizeContact(in *ContactInput) {
	in.Kind = strings.ToLower(strings.TrimSpace(in.Kind))
	in.Name = strings.TrimSpace(in.Name)
	in.Title = strings.TrimSpace(in.Title)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Phone = strings.TrimSpace(in.Phone)
	in.Phone247 = strings.TrimSpace(in.Phone247)
	in.PGPKey = strings.TrimSpace(in.PGPKey)
}

func validateContact(v *errs.Error, in ContactInput) {
	if in.Kind == "" {
		v.Field("kind", "field.required")
	} else if !slices.Contains(ContactKinds, in.Kind) {
		v.Field("kind", "field.invalid_choice")
	}
	if in.Name == "" {
		v.Field("name", "field.required")
	}
	checkText(v, "name", in.Name, maxShort*2, false)
	checkText(v, "title", in.Title, maxShort*2, false)
	checkEmail(v, "email", in.Email)
	checkPhone(v, "phone", in.Phone)
	checkPhone(v, "phone_247", in.Phone247)
	if in.Email == "" && in.Phone == "" && in.Phone247 == "" {
		v.Field("email", "org.err.contact_unreachable")
	}
	if in.PGPKey != "" {
		checkText(v, "pgp_key", in.PGPKey, maxPGPKey, true)
		fp := strings.ToUpper(strings.ReplaceAll(in.PGPKey, " ", ""))
		if !strings.HasPrefix(in.PGPKey, "-----BEGIN PGP PUBLIC KEY BLOCK-----") && !fingerprintRE.MatchString(fp) {
			v.Field("pgp_key", "org.err.pgp_key_format")
		}
	}
}

// SaveContact adds (ID 0) or changes a contact point. The change is kept in
// the contact history (before and after) and in the audit log.
func (s *Service) SaveContact(ctx context.Context, a policy.Actor, orgID int64, in ContactInput) (Contact, error) {
	var out Contact
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.saveContactTx(ctx, s.newWrite(tx, a), orgID, in)
		out = c
		return err
	})
	if err != nil {
		return Contact{}, errs.Ensure("org: save contact", err)
	}
	return out, nil
}

func (s *Service) saveContactTx(ctx context.Context, w *write, orgID int64, in ContactInput) (Contact, error) {
	const op = "org: save contact"
	if _, err := orgFor(ctx, w.tx, w.a, policy.ContactWrite, orgID); err != nil {
		return Contact{}, err
	}
	normalizeContact(&in)
	v := errs.Invalid(op)
	validateContact(v, in)
	if err := v.OrNil(); err != nil {
		return Contact{}, err
	}
	var before *Contact
	if in.ID != 0 {
		c, err := scanContact(w.tx.QueryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE id = ? AND org_id = ?", in.ID, orgID))
		if store.IsNoRows(err) {
			return Contact{}, errs.NotFound(op)
		}
		if err != nil {
			return Contact{}, errs.Internal(op, err)
		}
		before = &c
	}
	after := Contact{ID: in.ID, OrgID: orgID, Kind: in.Kind, Name: in.Name, Title: in.Title, Email: in.Email,
		Phone: in.Phone, Phone247: in.Phone247, PGPKey: in.PGPKey, CreatedAt: w.now, UpdatedAt: w.now}
	change := "create"
	if before != nil {
		change = "update"
		after.CreatedAt = before.CreatedAt
		if _, err := w.tx.Exec(ctx, `UPDATE contacts SET kind = ?, name = ?, title = ?, email = ?, phone = ?,
			phone_247 = ?, pgp_key = ?, updated_at = ?, updated_by = ? WHERE id = ? AND org_id = ?`,
			in.Kind, in.Name, in.Title, in.Email, in.Phone, in.Phone247, in.PGPKey, w.now, store.NullID(w.a.UserID),
			in.ID, orgID); err != nil {
			return Contact{}, errs.Internal(op, err)
		}
	} else {
		err := w.tx.QueryRow(ctx, `INSERT INTO contacts (org_id, kind, name, title, email, phone, phone_247, pgp_key,
			created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			orgID, in.Kind, in.Name, in.Title, in.Email, in.Phone, in.Phone247, in.PGPKey, w.now, w.now,
			store.NullID(w.a.UserID)).Scan(&after.ID)
		if err != nil {
			return Contact{}, errs.Internal(op, err)
		}
	}
	if err := s.contactChanged(ctx, w, op, orgID, after.ID, change, before, &after); err != nil {
		return Contact{}, err
	}
	return after, nil
}

// contactChanged writes the history row, stamps the organisation's last
// contact change and records the audit entry.
func (s *Service) contactChanged(ctx context.Context, w *write, op string, orgID, contactID int64, change string,
	before, after *Contact) error {
	bj, err := contactJSON(before)
	if err != nil {
		return errs.Internal(op, err)
	}
	aj, err := contactJSON(after)
	if err != nil {
		return errs.Internal(op, err)
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO contact_history (contact_id, org_id, change, before_json, after_json,
		changed_at, changed_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		contactID, orgID, change, bj, aj, w.now, store.NullID(w.a.UserID)); err != nil {
		return errs.Internal(op, err)
	}
	if _, err := w.tx.Exec(ctx, "UPDATE organisations SET contacts_updated_at = ? WHERE id = ?", w.now, orgID); err != nil {
		return errs.Internal(op, err)
	}
	c := audit.Change{OrgID: orgID, Action: "contact." + change, Entity: "contact",
		EntityID: strconv.FormatInt(contactID, 10), Before: bj, After: aj}
	if err := audit.Record(ctx, w.tx, w.now, w.a, c); err != nil {
		return errs.Internal(op, err)
	}
	return nil
}

func contactJSON(c *Contact) (string, error) {
	if c == nil {
		return "", nil
	}
	b, err := json.Marshal(c)
	return string(b), err
}

// DeleteContact removes a contact point; the history keeps it.
func (s *Service) DeleteContact(ctx context.Context, a policy.Actor, orgID, contactID int64) error {
	const op = "org: delete contact"
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w := s.newWrite(tx, a)
		if _, err := orgFor(ctx, tx, a, policy.ContactWrite, orgID); err != nil {
			return err
		}
		c, err := scanContact(tx.QueryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE id = ? AND org_id = ?", contactID, orgID))
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return errs.Internal(op, err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM contacts WHERE id = ? AND org_id = ?", contactID, orgID); err != nil {
			return errs.Internal(op, err)
		}
		return s.contactChanged(ctx, w, op, orgID, contactID, "delete", &c, nil)
	})
	return errs.Ensure(op, err)
}

// ContactHistory lists the changes to an organisation's contact points,
// newest first. Those who maintain the contact points (ContactWrite) and
// those who audit the organisation (AuditRead) may read it.
func (s *Service) ContactHistory(ctx context.Context, a policy.Actor, orgID int64) ([]ContactChange, error) {
	const op = "org: contact history"
	r, err := getOrgByID(ctx, s.DB, orgID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(a, policy.ContactWrite, r.Resource()); err != nil {
		if err2 := policy.Check(a, policy.AuditRead, r.Resource()); err2 != nil {
			return nil, err
		}
	}
	rows, err := s.DB.Query(ctx, `SELECT id, contact_id, change, before_json, after_json, changed_at,
		COALESCE(changed_by, 0) FROM contact_history WHERE org_id = ? ORDER BY changed_at DESC, id DESC LIMIT 1000`, orgID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []ContactChange{}
	for rows.Next() {
		var c ContactChange
		var bj, aj string
		if err := rows.Scan(&c.ID, &c.ContactID, &c.Change, &bj, &aj, &c.ChangedAt, &c.ChangedBy); err != nil {
			return nil, errs.Internal(op, err)
		}
		c.ChangedAt = c.ChangedAt.UTC()
		c.Before, c.After = parseContactJSON(bj), parseContactJSON(aj)
		out = append(out, c)
	}
	return out, errs.Ensure(op, rows.Err())
}

func parseContactJSON(s string) *Contact {
	if s == "" {
		return nil
	}
	var c Contact
	if json.Unmarshal([]byte(s), &c) != nil {
		return nil
	}
	return &c
}
