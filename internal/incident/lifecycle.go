package incident

import (
	"context"
	"slices"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// TransitionInput carries what some transitions need.
type TransitionInput struct {
	// Reason is required to reject an incident and to go back from
	// recovery to containment (the system is not stable).
	Reason string
	// DuplicateOf is the id or reference of the incident this one
	// duplicates (required to mark it duplicate); the two are linked.
	DuplicateOf string
}

// Transition moves the incident to another step of the process (TT 20
// Điều 11). Forbidden transitions are refused with errs.Conflict
// "incident.err.transition" (from, to); who may do each step:
//   - received → verified / rejected / duplicate: incident.classify
//     (coordinator or analyst of an organisation whose scope holds it);
//   - verified → containment → recovery → containment | review:
//     incident.work;
//   - review → closed: incident.close, i.e. the national coordinator only,
//     and only once a closure report is in and acknowledged.
//
// Entering review records the end of the response (the closure report is
// due 5 days later).
func (s *Service) Transition(ctx context.Context, a policy.Actor, key string, to Status, in TransitionInput) (Incident, error) {
	const op = "incident: transition"
	in.Reason = strings.TrimSpace(in.Reason)
	in.DuplicateOf = strings.TrimSpace(in.DuplicateOf)
	return s.mutate(ctx, a, op, key, "", func(ctx context.Context, w *write, inc *Incident) error {
		from := inc.Status
		tr, ok := transitions[from][to]
		if !ok {
			if err := check(a, policy.IncidentWork, *inc); err != nil {
				return err
			}
			if !to.Valid() {
				return errs.Invalid(op).Field("status", "field.invalid_choice")
			}
			return errs.Conflict(op, "incident.err.transition", string(from), string(to))
		}
		if err := check(a, tr.act, *inc); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if tr.reason && in.Reason == "" {
			v.Field("reason", "incident.err.reason_required")
		}
		checkText(v, "reason", in.Reason, maxText, true, false)
		detail := map[string]any{"from": string(from), "to": string(to)}
		if in.Reason != "" {
			detail["reason"] = in.Reason
		}
		var other Incident
		if to == StatusDuplicate {
			if in.DuplicateOf == "" {
				v.Field("duplicate_of", "incident.err.duplicate_of_required")
			} else {
				var err error
				other, err = getVisible(ctx, w.tx, a, in.DuplicateOf)
				switch {
				case errs.Is(err, errs.KindNotFound):
					v.Field("duplicate_of", "incident.err.incident_unknown")
				case err != nil:
					return err
				case other.ID == inc.ID:
					v.Field("duplicate_of", "incident.err.link_self")
				}
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if to == StatusClosed {
			reports, err := loadReports(ctx, w.tx, inc.ID)
			if err != nil {
				return err
			}
			var in, acked bool
			for _, r := range reports {
				if r.Kind == ReportClosure {
					in = true
					acked = acked || r.Acknowledged()
				}
			}
			if !in {
				return errs.Conflict(op, "incident.err.closure_report_missing")
			}
			if !acked {
				return errs.Conflict(op, "incident.err.closure_report_unacknowledged")
			}
			inc.ClosedAt = w.now
		}
		before := map[string]any{"status": string(from)}
		inc.Status = to
		switch to {
		case StatusReview:
			inc.ResponseEndedAt = w.now
		case StatusDuplicate:
			inc.DuplicateOf = other.ID
			detail["duplicate_of"] = other.Ref
			if err := insertLink(ctx, w, inc.ID, other.ID, LinkDuplicate); err != nil {
				return err
			}
		}
		ev, err := w.event(ctx, inc, EventStatus, detail)
		if err != nil {
			return err
		}
		if err := w.notifyWatchers(ctx, inc, KindStatus, ev, errs.Msg{Key: "incnotify.status",
			Args: []any{inc.Ref, notify.Label(from.LabelKey()), notify.Label(to.LabelKey())}}); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.transition", before, detail)
	})
}

// ClassifyInput is the coordinator's classification; empty fields are
// left as they are.
type ClassifyInput struct {
	Type     Type
	Severity Severity
}

// Classify sets the type and the triage severity (incident.classify).
func (s *Service) Classify(ctx context.Context, a policy.Actor, key string, in ClassifyInput) (Incident, error) {
	const op = "incident: classify"
	return s.mutate(ctx, a, op, key, policy.IncidentClassify, func(ctx context.Context, w *write, inc *Incident) error {
		v := errs.Invalid(op)
		if in.Type != "" && !in.Type.Valid() {
			v.Field("type", "field.invalid_choice")
		}
		if in.Severity != "" && !in.Severity.Valid() {
			v.Field("severity", "field.invalid_choice")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if inc.Status.Terminal() {
			return errs.Conflict(op, "incident.err.terminal", string(inc.Status))
		}
		before := map[string]any{"type": string(inc.Type), "severity": string(inc.Severity)}
		if in.Type != "" {
			inc.Type, inc.RSIT = in.Type, in.Type.RSIT()
		}
		if in.Severity != "" {
			inc.Severity = in.Severity
		}
		after := map[string]any{"type": string(inc.Type), "severity": string(inc.Severity),
			"rsit": inc.RSIT.Class + "/" + inc.RSIT.Type}
		if _, err := w.event(ctx, inc, EventClassified, after); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.classify", before, after)
	})
}

// ProposeSerious proposes to class the incident serious (QĐ 05 Điều 14):
// a coordinator or analyst of the national coordinator, with a reason.
func (s *Service) ProposeSerious(ctx context.Context, a policy.Actor, key, reason string) (Incident, error) {
	const op = "incident: propose serious"
	reason = strings.TrimSpace(reason)
	return s.mutate(ctx, a, op, key, policy.IncidentClassify, func(ctx context.Context, w *write, inc *Incident) error {
		if !a.System {
			ok, err := s.orgHas(ctx, a.OrgID, org.RoleNationalCoordinator)
			if err != nil {
				return err
			}
			if !ok {
				return forbidden(op, "incident.err.not_national_coordinator")
			}
		}
		v := errs.Invalid(op)
		if reason == "" {
			v.Field("reason", "incident.err.reason_required")
		}
		checkText(v, "reason", reason, maxText, true, false)
		if err := v.OrNil(); err != nil {
			return err
		}
		switch {
		case inc.Status.Terminal():
			return errs.Conflict(op, "incident.err.terminal", string(inc.Status))
		case inc.Class == ClassSerious:
			return errs.Conflict(op, "incident.err.already_serious")
		case inc.Serious.State == SeriousProposed:
			return errs.Conflict(op, "incident.err.serious_pending")
		}
		inc.Serious = Serious{State: SeriousProposed, Reason: reason, ProposedBy: a.UserID, ProposedName: a.Label(),
			ProposedOrg: a.OrgID, ProposedAt: w.now}
		ev, err := w.event(ctx, inc, EventSeriousProposed, map[string]any{"reason": reason})
		if err != nil {
			return err
		}
		if err := w.notifySerious(ctx, inc, ev); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.serious.propose", nil, inc.Serious)
	})
}

// DecideSerious records the standing body's decision on a proposal:
// accepted, the incident becomes serious; rejected, it stays ordinary. The
// actor's organisation must hold the standing_body role.
func (s *Service) DecideSerious(ctx context.Context, a policy.Actor, key string, accept bool, note string) (Incident, error) {
	const op = "incident: decide serious"
	note = strings.TrimSpace(note)
	return s.mutate(ctx, a, op, key, policy.IncidentDecideSerious, func(ctx context.Context, w *write, inc *Incident) error {
		if !a.System {
			ok, err := s.orgHas(ctx, a.OrgID, org.RoleStandingBody)
			if err != nil {
				return err
			}
			if !ok {
				return forbidden(op, "incident.err.not_standing_body")
			}
		}
		v := errs.Invalid(op)
		checkText(v, "note", note, maxText, true, false)
		if err := v.OrNil(); err != nil {
			return err
		}
		if inc.Serious.State != SeriousProposed {
			return errs.Conflict(op, "incident.err.serious_none")
		}
		before := inc.Serious
		inc.Serious.DecidedBy, inc.Serious.DecidedName, inc.Serious.DecidedOrg = a.UserID, a.Label(), a.OrgID
		inc.Serious.DecidedAt, inc.Serious.Note = w.now, note
		if accept {
			inc.Serious.State, inc.Class = SeriousAccepted, ClassSerious
		} else {
			inc.Serious.State = SeriousRejected
		}
		if _, err := w.event(ctx, inc, EventSeriousDecided, map[string]any{"accepted": accept, "note": note,
			"class": string(inc.Class)}); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.serious.decide", before, inc.Serious)
	})
}

// AddComment adds a comment to the timeline (incident.work).
func (s *Service) AddComment(ctx context.Context, a policy.Actor, key, text string) (Event, error) {
	const op = "incident: comment"
	text = strings.TrimSpace(text)
	var ev Event
	_, err := s.mutate(ctx, a, op, key, policy.IncidentWork, func(ctx context.Context, w *write, inc *Incident) error {
		v := errs.Invalid(op)
		checkText(v, "text", text, maxText, true, true)
		if err := v.OrNil(); err != nil {
			return err
		}
		var err error
		if ev, err = w.event(ctx, inc, EventComment, map[string]any{"text": text}); err != nil {
			return err
		}
		if err := w.notifyWatchers(ctx, inc, KindComment, ev, errs.Msg{Key: "incnotify.comment", Args: []any{inc.Ref}}); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.comment", nil, map[string]any{"event_id": ev.ID})
	})
	return ev, err
}

// Watch adds the actor to the incident's watchers (anyone who sees it).
func (s *Service) Watch(ctx context.Context, a policy.Actor, key string) error {
	return s.watch(ctx, a, key, true)
}

// Unwatch removes the actor from the incident's watchers.
func (s *Service) Unwatch(ctx context.Context, a policy.Actor, key string) error {
	return s.watch(ctx, a, key, false)
}

func (s *Service) watch(ctx context.Context, a policy.Actor, key string, on bool) error {
	const op = "incident: watch"
	if a.UserID == 0 {
		return errs.Invalid(op).Field("user", "incident.err.watch_user")
	}
	_, err := s.mutate(ctx, a, op, key, policy.IncidentRead, func(ctx context.Context, w *write, inc *Incident) error {
		var res interface{ RowsAffected() (int64, error) }
		var err error
		kind := EventWatch
		if on {
			res, err = w.tx.Exec(ctx, `INSERT INTO incident_watchers (incident_id, user_id, created_at) VALUES (?, ?, ?)
				ON CONFLICT (incident_id, user_id) DO NOTHING`, inc.ID, a.UserID, w.now)
		} else {
			kind = EventUnwatch
			res, err = w.tx.Exec(ctx, "DELETE FROM incident_watchers WHERE incident_id = ? AND user_id = ?", inc.ID, a.UserID)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // nothing changed
		}
		_, err = w.event(ctx, inc, kind, map[string]any{"user_id": a.UserID})
		return err
	})
	return err
}

// Watchers lists the user ids watching the incident.
func (s *Service) Watchers(ctx context.Context, a policy.Actor, key string) ([]int64, error) {
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	out, err := store.IDs(ctx, s.DB, "SELECT user_id FROM incident_watchers WHERE incident_id = ? ORDER BY user_id", inc.ID)
	if err != nil {
		return nil, errs.Internal("incident: watchers", err)
	}
	return out, nil
}

func insertLink(ctx context.Context, w *write, from, to int64, kind LinkKind) error {
	_, err := w.tx.Exec(ctx, `INSERT INTO incident_links (incident_id, other_id, kind, created_at, created_by)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id, other_id) DO UPDATE SET kind = excluded.kind`,
		from, to, string(kind), w.now, store.NullID(w.a.UserID))
	return err
}

// Link links the incident to another one the actor may see (incident.work
// on this one).
func (s *Service) Link(ctx context.Context, a policy.Actor, key, otherKey string, kind LinkKind) error {
	const op = "incident: link"
	_, err := s.mutate(ctx, a, op, key, policy.IncidentWork, func(ctx context.Context, w *write, inc *Incident) error {
		v := errs.Invalid(op)
		if !slices.Contains(LinkKinds, kind) {
			v.Field("kind", "field.invalid_choice")
		}
		other, err := getVisible(ctx, w.tx, a, otherKey)
		switch {
		case errs.Is(err, errs.KindNotFound):
			v.Field("other", "incident.err.incident_unknown")
		case err != nil:
			return err
		case other.ID == inc.ID:
			v.Field("other", "incident.err.link_self")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := insertLink(ctx, w, inc.ID, other.ID, kind); err != nil {
			return err
		}
		detail := map[string]any{"other": other.Ref, "kind": string(kind)}
		if _, err := w.event(ctx, inc, EventLink, detail); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.link", nil, detail)
	})
	return err
}

// Links lists the incident's links, both ways, to incidents the actor may
// see.
func (s *Service) Links(ctx context.Context, a policy.Actor, key string) ([]Link, error) {
	const op = "incident: links"
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT other_id, kind, created_at FROM incident_links WHERE incident_id = ?
		UNION ALL SELECT incident_id, kind, created_at FROM incident_links WHERE other_id = ? ORDER BY 3`, inc.ID, inc.ID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var links []Link
	for rows.Next() {
		var l Link
		var k string
		if err := rows.Scan(&l.OtherID, &k, &l.CreatedAt); err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		l.Kind, l.CreatedAt = LinkKind(k), l.CreatedAt.UTC()
		links = append(links, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	out := links[:0]
	for _, l := range links {
		other, err := loadIncident(ctx, s.DB, l.OtherID)
		if err != nil || checkVisible(a, policy.IncidentRead, other) != nil {
			continue
		}
		l.OtherRef = other.Ref
		out = append(out, l)
	}
	return out, nil
}

// AddReport files a later report: progress, support request or closure
// report (form 04). The notice and the initial report are filed by
// Create. Reports are refused on rejected, duplicate and closed incidents;
// a closure report only once the incident is in recovery or review.
func (s *Service) AddReport(ctx context.Context, a policy.Actor, key string, kind ReportKind, in ReportInput) (Report, error) {
	const op = "incident: report"
	var out Report
	_, err := s.mutate(ctx, a, op, key, policy.IncidentReport, func(ctx context.Context, w *write, inc *Incident) error {
		v := errs.Invalid(op)
		in.Summary, in.Support = strings.TrimSpace(in.Summary), strings.TrimSpace(in.Support)
		in.Result, in.Lessons = strings.TrimSpace(in.Result), strings.TrimSpace(in.Lessons)
		in.InitialRef, in.SystemName = strings.TrimSpace(in.InitialRef), strings.TrimSpace(in.SystemName)
		in.SystemOwner = strings.TrimSpace(in.SystemOwner)
		if kind != ReportClosure {
			// Handling and damage belong to the closure report (form 05
			// counts them from there): a form that offers them for every
			// kind does not file them with a progress report.
			in.Handling, in.DamageVND, in.DamageNote = "", nil, ""
		}
		switch kind {
		case ReportProgress:
			checkText(v, "summary", in.Summary, maxText, true, true)
		case ReportSupport:
			checkText(v, "summary", in.Summary, maxText, true, false)
			checkText(v, "support", in.Support, maxText, true, true)
		case ReportClosure:
			if in.InitialRef == "" {
				in.InitialRef = inc.Ref
			}
			if in.InitialDate.IsZero() {
				in.InitialDate = inc.ReportedAt
			}
			if in.SystemName == "" {
				in.SystemName = inc.Details.System.Name
			}
			if in.SystemOwner == "" {
				in.SystemOwner = inc.Details.System.OwnerName
			}
			if in.SystemLevel == 0 {
				in.SystemLevel = inc.Details.System.Level
			}
			if in.DetectedAt.IsZero() {
				in.DetectedAt = inc.DetectedAt
			}
			checkText(v, "summary", in.Summary, maxText, true, false)
			checkText(v, "result", in.Result, maxText, true, true)
			checkText(v, "lessons", in.Lessons, maxText, true, true)
			checkText(v, "initial_ref", in.InitialRef, maxLine, false, false)
			checkText(v, "system_name", in.SystemName, maxLine, false, false)
			checkText(v, "system_owner", in.SystemOwner, maxLine, false, false)
			if in.SystemLevel < 0 || in.SystemLevel > 5 {
				v.Field("system_level", "incident.err.level")
			}
			if in.DetectedAt.After(w.now.Add(clockSkew)) {
				v.Field("detected_at", "incident.err.detected_future")
			}
			validateClosure(v, &in)
		default:
			return v.Field("kind", "incident.err.report_kind")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if inc.Status.Terminal() {
			return errs.Conflict(op, "incident.err.terminal", string(inc.Status))
		}
		if kind == ReportClosure && inc.Status != StatusRecovery && inc.Status != StatusReview {
			return errs.Conflict(op, "incident.err.closure_too_early", string(inc.Status))
		}
		out = Report{IncidentID: inc.ID, Kind: kind, Body: in, SubmittedBy: a.UserID, SubmittedName: a.Label(),
			SubmittedOrgID: a.OrgID, SubmittedAt: w.now}
		if err := insertReport(ctx, w.tx, &out); err != nil {
			return err
		}
		if kind == ReportClosure {
			// The latest closure report says how the incident was handled
			// and what it cost: form 05 counts them from the incident row.
			if err := saveClosure(ctx, w.tx, inc.ID, in); err != nil {
				return err
			}
		}
		detail := map[string]any{"report_id": out.ID, "report_kind": string(kind)}
		if _, err := w.event(ctx, inc, EventReport, detail); err != nil {
			return err
		}
		if err := w.notifyReport(ctx, inc, out); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.report", nil, out)
	})
	return out, err
}

// Acknowledge records that the receiving side got a report (TT 20: every
// receiving unit acknowledges immediately): anyone who may work the
// incident (incident.work — the national coordinator, the response units
// whose scope holds it) at an organisation other than the one that filed
// the report.
func (s *Service) Acknowledge(ctx context.Context, a policy.Actor, key string, reportID int64) (Report, error) {
	const op = "incident: acknowledge"
	var out Report
	_, err := s.mutate(ctx, a, op, key, policy.IncidentWork, func(ctx context.Context, w *write, inc *Incident) error {
		r, err := scanReport(w.tx.QueryRow(ctx, "SELECT "+reportCols+" FROM incident_reports WHERE id = ? AND incident_id = ?",
			reportID, inc.ID))
		if store.IsNoRows(err) {
			e := errs.NotFound(op)
			e.Message = errs.Msg{Key: "incident.err.report_not_found"}
			return e
		}
		if err != nil {
			return err
		}
		if !a.System && a.OrgID == r.SubmittedOrgID {
			return forbidden(op, "incident.err.ack_own_report")
		}
		if r.Acknowledged() {
			return errs.Conflict(op, "incident.err.already_acknowledged")
		}
		r.AckBy, r.AckName, r.AckOrgID, r.AckAt = a.UserID, a.Label(), a.OrgID, w.now
		if _, err := w.tx.Exec(ctx, `UPDATE incident_reports SET ack_by = ?, ack_by_name = ?, ack_org_id = ?, ack_at = ?
			WHERE id = ?`, store.NullID(a.UserID), a.Label(), store.NullID(a.OrgID), w.now, r.ID); err != nil {
			return err
		}
		out = r
		detail := map[string]any{"report_id": r.ID, "report_kind": string(r.Kind),
			"seconds": int64(r.TimeToAck().Seconds())}
		if _, err := w.event(ctx, inc, EventAcknowledged, detail); err != nil {
			return err
		}
		if err := w.notifyAck(ctx, inc, r); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.acknowledge", nil, detail)
	})
	return out, err
}
