package incident

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Kinds of the incident notifications (people choose per kind how they are
// told).
const (
	KindCreated         = "incident.created"
	KindReportFiled     = "incident.report_filed"
	KindAcknowledged    = "incident.acknowledged"
	KindStatus          = "incident.status"
	KindComment         = "incident.comment"
	KindSeriousProposed = "incident.serious_proposed"
)

// workRoles are who is told of a new incident or report to acknowledge.
var workRoles = []policy.Role{policy.RoleCoordinator, policy.RoleAnalyst}

// chainOrgs is the organisation, its ancestors (the response units whose
// scope holds it, up to the national coordinator) and every organisation
// holding the national coordinator role, in one query.
func chainOrgs(ctx context.Context, w *write, orgID int64) ([]int64, error) {
	return store.IDs(ctx, w.tx, `WITH RECURSIVE chain(id, parent_id, depth) AS (
			SELECT id, parent_id, 0 FROM organisations WHERE id = ?
			UNION ALL
			SELECT o.id, o.parent_id, c.depth + 1 FROM organisations o JOIN chain c ON o.id = c.parent_id WHERE c.depth < 32)
		SELECT id FROM chain UNION SELECT org_id FROM org_roles WHERE role = ?`, orgID, string(org.RoleNationalCoordinator))
}

// watcherIDs are the incident's watchers but the actor.
func watcherIDs(ctx context.Context, w *write, incID int64) ([]int64, error) {
	return store.IDs(ctx, w.tx, "SELECT user_id FROM incident_watchers WHERE incident_id = ? AND user_id <> ? ORDER BY user_id",
		incID, w.a.UserID)
}

// tell queues m about inc in the transaction, with the incident's link and
// TLP. The TLP also narrows who is told: RED only to the person who reported
// it, AMBER+STRICT only to the two organisations.
func (w *write) tell(ctx context.Context, inc *Incident, m notify.Message) error {
	switch inc.TLP {
	case policy.TLPRed:
		m.Orgs = nil
		m.Users = slices.DeleteFunc(m.Users, func(id int64) bool { return id != inc.ReportedBy })
	case policy.TLPAmberStrict:
		m.Orgs = slices.DeleteFunc(m.Orgs, func(id int64) bool { return id != inc.AffectedOrgID && id != inc.ReporterOrgID })
	}
	if len(m.Orgs) == 0 && len(m.Users) == 0 {
		return nil
	}
	m.Link, m.TLP = "/incidents/"+url.PathEscape(inc.Ref), inc.TLP
	// An exercise incident's messages stay inside certnet, marked.
	m.Exercise = m.Exercise || inc.ExerciseID != 0
	return notify.Enqueue(ctx, w.tx, w.now, m)
}

// notifyCreated: the affected organisation's chain and the national
// coordinator (coordinators and analysts).
func (w *write) notifyCreated(ctx context.Context, inc *Incident, r Report) error {
	orgs, err := chainOrgs(ctx, w, inc.AffectedOrgID)
	if err != nil {
		return err
	}
	return w.tell(ctx, inc, notify.Message{Kind: KindCreated, Key: fmt.Sprintf("incident:%d:created", inc.ID),
		Orgs: orgs, Roles: workRoles, Subject: errs.Msg{Key: "incnotify.created", Args: []any{inc.Ref, inc.Title}},
		Body: errs.Msg{Key: "incnotify.created_body", Args: []any{notify.Label(inc.Type.LabelKey()), notify.Label(inc.Severity.LabelKey()), notify.Label(r.Kind.LabelKey())}}})
}

// notifyReport: whoever must acknowledge it — the chain but the filer.
func (w *write) notifyReport(ctx context.Context, inc *Incident, r Report) error {
	orgs, err := chainOrgs(ctx, w, inc.AffectedOrgID)
	if err != nil {
		return err
	}
	orgs = slices.DeleteFunc(orgs, func(id int64) bool { return id == r.SubmittedOrgID })
	return w.tell(ctx, inc, notify.Message{Kind: KindReportFiled, Key: fmt.Sprintf("incident:%d:report:%d", inc.ID, r.ID),
		Orgs: orgs, Roles: workRoles, Subject: errs.Msg{Key: "incnotify.report", Args: []any{inc.Ref, notify.Label(r.Kind.LabelKey())}},
		Body: errs.Msg{Key: "incnotify.report_body", Args: []any{inc.Title}}})
}

// notifyAck: the organisation that filed the report.
func (w *write) notifyAck(ctx context.Context, inc *Incident, r Report) error {
	if r.SubmittedOrgID == 0 {
		return nil
	}
	return w.tell(ctx, inc, notify.Message{Kind: KindAcknowledged, Key: fmt.Sprintf("incident:%d:report:%d:ack", inc.ID, r.ID),
		Orgs: []int64{r.SubmittedOrgID}, Subject: errs.Msg{Key: "incnotify.ack", Args: []any{inc.Ref, notify.Label(r.Kind.LabelKey())}},
		Body: errs.Msg{Key: "incnotify.ack_body", Args: []any{r.AckName}}})
}

// notifyWatchers: a status change or a comment (ev), to the watchers.
func (w *write) notifyWatchers(ctx context.Context, inc *Incident, kind string, ev Event, subject errs.Msg) error {
	users, err := watcherIDs(ctx, w, inc.ID)
	if err != nil || len(users) == 0 {
		return err
	}
	return w.tell(ctx, inc, notify.Message{Kind: kind, Key: fmt.Sprintf("incident:%d:event:%d", inc.ID, ev.ID),
		Users: users, Subject: subject, Body: errs.Msg{Key: "incnotify.by", Args: []any{ev.Actor}}})
}

// notifySerious: the standing body decides on the proposal.
func (w *write) notifySerious(ctx context.Context, inc *Incident, ev Event) error {
	orgs, err := store.IDs(ctx, w.tx, "SELECT org_id FROM org_roles WHERE role = ? ORDER BY org_id", string(org.RoleStandingBody))
	if err != nil {
		return err
	}
	return w.tell(ctx, inc, notify.Message{Kind: KindSeriousProposed, Key: fmt.Sprintf("incident:%d:event:%d", inc.ID, ev.ID),
		Orgs: orgs, Subject: errs.Msg{Key: "incnotify.serious", Args: []any{inc.Ref, inc.Title}},
		Body: errs.Msg{Key: "incnotify.serious_body", Args: []any{inc.Serious.Reason}}})
}
