package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// ExerciseAdvisoryInput is an advisory an exercise injects: written and
// published at once by the drill's organiser to one participant.
type ExerciseAdvisoryInput struct {
	ExerciseID  int64
	OwnerOrgID  int64 // the drill's organiser (an organisation that publishes)
	TargetOrgID int64 // the participant
	Title       string
	Body        string // the scenario's text: summary, body and recommended actions
	Severity    string
	DeadlineAt  time.Time
}

// OrgPublishes reports whether the organisation may publish advisories
// (the national coordinator and the response units).
func (s *Service) OrgPublishes(ctx context.Context, orgID int64) (bool, error) {
	return publishes(ctx, s.DB, orgID)
}

// PublishExercise writes and publishes an exercise advisory in one
// transaction, then runs then in it (an error from then undoes it all).
// The advisory carries the exercise's id: its one recipient is the
// participant, its messages are marked exercise (kept inside certnet), its
// escalation goes to the organiser only, and it is left out of the real
// lists, rates and the public page. Only the exercise service calls it.
func (s *Service) PublishExercise(ctx context.Context, in ExerciseAdvisoryInput,
	then func(ctx context.Context, tx *store.Tx, v Advisory) error) (Advisory, error) {
	const op = "advisory: publish exercise"
	sys := policy.SystemActor("exercise")
	var out Advisory
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		if in.ExerciseID == 0 {
			return errs.Invalid(op).Field("exercise_id", "field.required")
		}
		ok, err := publishes(ctx, tx, in.OwnerOrgID)
		if err != nil {
			return err
		}
		if !ok {
			e := errs.Forbidden(op)
			e.Message = errs.Msg{Key: "intel.adv.err.not_publisher"}
			return e
		}
		summary := in.Body
		if utf8.RuneCountInString(summary) > maxAdvSummary {
			summary = string([]rune(summary)[:maxAdvSummary-1]) + "…"
		}
		ai := AdvisoryInput{OwnerOrgID: in.OwnerOrgID, Title: in.Title, Summary: summary, Body: in.Body, Actions: in.Body,
			Severity: in.Severity, TLP: policy.TLPAmber, DeadlineAt: in.DeadlineAt, Targeting: Targeting{Orgs: []int64{in.TargetOrgID}}}
		e := errs.Invalid(op)
		if err := s.validateAdvisory(ctx, tx, sys, &ai, e); err != nil {
			return err
		}
		if ai.DeadlineAt.IsZero() || !ai.DeadlineAt.After(now) {
			e.Field("deadline_at", "intel.adv.err.deadline_past")
		}
		if strings.TrimSpace(ai.Actions) == "" {
			e.Field("actions", "intel.adv.err.actions_required")
		}
		if err := e.OrNil(); err != nil {
			return err
		}
		products, _ := json.Marshal([]Product{})
		target, _ := json.Marshal(ai.Targeting)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO advisories (owner_org_id, title, title_en, summary, summary_en, body, body_en, severity,
			cves, products, actions, tlp, deadline_at, status, targeting, stix_id, created_by, created_name, published_name, created_at,
			updated_at, published_at, exercise_id)
			VALUES (?, ?, '', ?, '', ?, '', ?, '', ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.OwnerOrgID, ai.Title, ai.Summary, ai.Body, ai.Severity, string(products), ai.Actions, string(ai.TLP), ai.DeadlineAt,
			AdvisoryPublished, string(target), ai.STIXID, sys.Label(), sys.Label(), now, now, now, in.ExerciseID).Scan(&id); err != nil {
			return fmt.Errorf("insert advisory: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO advisory_recipients (advisory_id, org_id, status, delivered_at, ack_due_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, id, in.TargetOrgID, RecipientDelivered, now, now.Add(AdvisoryAckPeriod), now); err != nil {
			return fmt.Errorf("recipient: %w", err)
		}
		if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindAdvisoryPublished, Key: fmt.Sprintf("advisory:%d:published", id),
			Orgs: []int64{in.TargetOrgID}, Subject: errs.Msg{Key: "intel.adv.msg.published", Args: []any{ai.Title}},
			Body: errs.Msg{Key: "intel.adv.msg.published_body", Args: []any{ai.Summary, i18n.FormatTime(ai.DeadlineAt)}},
			Link: fmt.Sprintf("/advisories/%d", id), TLP: ai.TLP, Exercise: true}); err != nil {
			return err
		}
		if out, err = loadAdvisory(ctx, tx, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, sys, audit.Change{OrgID: in.OwnerOrgID, Action: "advisory.publish", Entity: "advisory",
			EntityID: fmt.Sprint(id), After: map[string]any{"status": out.Status, "exercise_id": in.ExerciseID,
				"recipients": []int64{in.TargetOrgID}}}); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, out)
		}
		return nil
	})
	if err != nil {
		return Advisory{}, store.Wrap(op, err)
	}
	return out, nil
}
