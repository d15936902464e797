package intel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Evidence on an advisory answer: a recipient attaches files to its answer
// (a patch report, a scan showing the fix, the list of affected hosts).
// As for information-system attachments (internal/infosys) a file's name,
// size and type are checked before it is kept, its content must match its
// type, its bytes are stored in the row with their SHA-256 (checked again
// on download) and it is always downloaded as an attachment
// (incident.ServeFile). The recipient's organisation uploads; those who
// follow that recipient (its organisation, the publisher's side, a
// response unit over it) list and download; uploads and downloads are
// audited.

// MaxAnswerEvidence is the size limit of one evidence file.
const MaxAnswerEvidence = 10 << 20

// answerEvidenceTypes are the accepted types by extension.
var answerEvidenceTypes = incident.FileTypes{
	".pdf":  {Media: "application/pdf", Valid: incident.Signature("%PDF-")},
	".png":  {Media: "image/png", Valid: incident.Signature("\x89PNG\r\n\x1a\n")},
	".jpg":  {Media: "image/jpeg", Valid: incident.Signature("\xff\xd8\xff")},
	".jpeg": {Media: "image/jpeg", Valid: incident.Signature("\xff\xd8\xff")},
	".docx": {Media: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Valid: incident.Signature("PK\x03\x04")},
	".xlsx": {Media: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Valid: incident.Signature("PK\x03\x04")},
	".zip":  {Media: "application/zip", Valid: incident.Signature("PK\x03\x04")},
	".txt":  {Media: "text/plain", Valid: utf8.Valid},
	".csv":  {Media: "text/csv", Valid: utf8.Valid},
	".log":  {Media: "text/plain", Valid: utf8.Valid},
}

// AnswerEvidenceExtensions lists the accepted extensions, sorted.
func AnswerEvidenceExtensions() []string { return answerEvidenceTypes.Extensions() }

// AnswerEvidence is a file attached to a recipient's answer.
type AnswerEvidence struct {
	ID           int64     `json:"id"`
	AdvisoryID   int64     `json:"advisory_id"`
	RecipientID  int64     `json:"recipient_id"`
	Name         string    `json:"name"`
	MediaType    string    `json:"media_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	Note         string    `json:"note,omitempty"`
	UploadedName string    `json:"uploaded_name"`
	UploadedAt   time.Time `json:"uploaded_at"`
}

// Evidence is the file as incident.ServeFile wants it.
func (x AnswerEvidence) Evidence() incident.Evidence {
	return incident.Evidence{Name: x.Name, Size: x.Size, SHA256: x.SHA256}
}

// AnswerEvidenceInput is an upload; Body is read after the other checks.
type AnswerEvidenceInput struct {
	Name string
	Note string
	Body io.Reader
}

const answerEvidenceCols = "id, advisory_id, recipient_id, name, media_type, size, sha256, note, uploaded_name, uploaded_at"

func scanAnswerEvidence(sc scanner) (AnswerEvidence, error) {
	var x AnswerEvidence
	err := sc.Scan(&x.ID, &x.AdvisoryID, &x.RecipientID, &x.Name, &x.MediaType, &x.Size, &x.SHA256, &x.Note, &x.UploadedName, &x.UploadedAt)
	x.UploadedAt = x.UploadedAt.UTC()
	return x, err
}

func recipientByID(ctx context.Context, q store.Q, advisoryID, rid int64) (Recipient, error) {
	return scanRecipient(q.QueryRow(ctx, "SELECT "+recipientCols+recipientFrom+" WHERE r.advisory_id = ? AND r.id = ?", advisoryID, rid))
}

// followsRecipient reports whether the actor, who may read the advisory,
// may see this recipient's answer: as Recipients lists them (the
// publisher's side sees every one, others those of their scope).
func followsRecipient(a policy.Actor, v Advisory, r Recipient) bool {
	return AdvisoryManager(a, v) || a.System || a.Scope.Contains(r.OrgID) || (a.OrgID != 0 && a.OrgID == r.OrgID)
}

// followed loads an advisory and one of its recipients the actor may
// follow; anything else is not found.
func (s *Service) followed(ctx context.Context, q store.Q, a policy.Actor, id, rid int64) (Advisory, Recipient, error) {
	v, err := s.readable(ctx, q, a, id)
	if err != nil {
		return Advisory{}, Recipient{}, err
	}
	r, err := recipientByID(ctx, q, id, rid)
	if store.IsNoRows(err) {
		return Advisory{}, Recipient{}, errs.NotFound("advisory: recipient")
	}
	if err != nil {
		return Advisory{}, Recipient{}, err
	}
	if !followsRecipient(a, v, r) {
		return Advisory{}, Recipient{}, errs.NotFound("advisory: recipient")
	}
	return v, r, nil
}

// AttachAnswerEvidence stores a file on the actor's organisation's answer
// to a published advisory (recipient rid). Name and note are checked
// first, then the body is read up to the limit and its content must match
// its type; nothing is stored when any check fails.
func (s *Service) AttachAnswerEvidence(ctx context.Context, a policy.Actor, id, rid int64, in AnswerEvidenceInput) (AnswerEvidence, error) {
	const op = "advisory: attach evidence"
	check := func(q store.Q) (Advisory, Recipient, error) { return s.ownAnswer(ctx, q, a, id, rid, op) }
	if _, _, err := check(s.DB); err != nil {
		return AnswerEvidence{}, store.Wrap(op, err)
	}
	in.Name, in.Note = strings.TrimSpace(in.Name), strings.TrimSpace(in.Note)
	e := checkAnswerEvidenceMeta(op, in.Name, in.Note)
	if in.Body == nil {
		e.Field("file", "field.required")
	}
	if err := e.OrNil(); err != nil {
		return AnswerEvidence{}, err
	}
	data, t, err := answerEvidenceTypes.Read(op, in.Name, in.Body, MaxAnswerEvidence, answerEvidenceKeys)
	if err != nil {
		return AnswerEvidence{}, err
	}
	sum := sha256.Sum256(data)
	x := AnswerEvidence{AdvisoryID: id, RecipientID: rid, Name: in.Name, MediaType: t.Media,
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Note: in.Note, UploadedName: a.Label()}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		_, r, err := check(tx)
		if err != nil {
			return err
		}
		x.UploadedAt = now
		if err := tx.QueryRow(ctx, `INSERT INTO advisory_evidence (advisory_id, recipient_id, name, media_type, size, sha256, content, note,
			uploaded_by, uploaded_name, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, rid, x.Name, x.MediaType, x.Size, x.SHA256, data, x.Note, store.NullID(a.UserID), x.UploadedName, now).Scan(&x.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: r.OrgID, Action: "advisory.evidence.add", Entity: "advisory_evidence",
			EntityID: fmt.Sprint(x.ID), After: x})
	})
	if err != nil {
		return AnswerEvidence{}, store.Wrap(op, err)
	}
	return x, nil
}

// ownAnswer loads a published advisory and the recipient whose answer the
// actor changes: policy lets only the recipient's own organisation, with a
// role that answers advisories, add files to it or take them off.
func (s *Service) ownAnswer(ctx context.Context, q store.Q, a policy.Actor, id, rid int64, op string) (Advisory, Recipient, error) {
	v, err := s.readable(ctx, q, a, id)
	if err != nil {
		return v, Recipient{}, err
	}
	r, err := recipientByID(ctx, q, id, rid)
	if store.IsNoRows(err) {
		return v, r, errs.NotFound(op)
	}
	if err != nil {
		return v, r, err
	}
	if err := policy.Check(a, policy.AdvisoryRespond, policy.Resource{OwnerOrg: r.OrgID, TLP: policy.TLPGreen}); err != nil {
		return v, r, err
	}
	if v.Status != AdvisoryPublished {
		return v, r, errs.Conflict(op, "intel.adv.err.not_published")
	}
	return v, r, nil
}

// answerEvidenceKeys prefixes the messages of a refused upload.
const answerEvidenceKeys = "intel.adv.evidence.err."

// checkAnswerEvidenceMeta checks an upload's file name (a plain name of
// an accepted type) and note, before the body is read.
func checkAnswerEvidenceMeta(op, name, note string) *errs.Error {
	e := errs.Invalid(op)
	answerEvidenceTypes.CheckName(e, name, answerEvidenceKeys)
	checkAdvText(e, "note", note, 1000, false, false)
	return e
}

// AnswerEvidenceList lists the files of one recipient's answer, newest
// first, for those who follow that recipient.
func (s *Service) AnswerEvidenceList(ctx context.Context, a policy.Actor, id, rid int64) ([]AnswerEvidence, error) {
	const op = "advisory: evidence"
	if _, _, err := s.followed(ctx, s.DB, a, id, rid); err != nil {
		return nil, store.Wrap(op, err)
	}
	return s.evidenceOf(ctx, op, "recipient_id = ?", rid)
}

// AnswerEvidenceByRecipient lists the files of every recipient the actor
// follows on an advisory, by recipient id (for the recipient table).
func (s *Service) AnswerEvidenceByRecipient(ctx context.Context, a policy.Actor, id int64) (map[int64][]AnswerEvidence, error) {
	const op = "advisory: evidence"
	v, err := s.readable(ctx, s.DB, a, id)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	all, err := s.evidenceOf(ctx, op, "advisory_id = ?", id)
	if err != nil {
		return nil, err
	}
	out := map[int64][]AnswerEvidence{}
	if len(all) == 0 {
		return out, nil
	}
	orgs := map[int64]int64{}
	rows, err := s.DB.Query(ctx, "SELECT id, org_id FROM advisory_recipients WHERE advisory_id = ?", id)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid, oid int64
		if err := rows.Scan(&rid, &oid); err != nil {
			return nil, errs.Internal(op, err)
		}
		orgs[rid] = oid
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	for _, x := range all {
		if followsRecipient(a, v, Recipient{ID: x.RecipientID, OrgID: orgs[x.RecipientID]}) {
			out[x.RecipientID] = append(out[x.RecipientID], x)
		}
	}
	return out, nil
}

func (s *Service) evidenceOf(ctx context.Context, op, cond string, arg int64) ([]AnswerEvidence, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+answerEvidenceCols+" FROM advisory_evidence WHERE "+cond+" ORDER BY id DESC", arg)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []AnswerEvidence{}
	for rows.Next() {
		x, err := scanAnswerEvidence(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, x)
	}
	return out, errs.Ensure(op, rows.Err())
}

// OpenAnswerEvidence returns a file of a recipient's answer for download
// by someone who follows that recipient; the download is audited and the
// bytes are checked against their SHA-256.
func (s *Service) OpenAnswerEvidence(ctx context.Context, a policy.Actor, id, rid, fid int64) (AnswerEvidence, []byte, error) {
	const op = "advisory: download evidence"
	var x AnswerEvidence
	var data []byte
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		_, r, err := s.followed(ctx, tx, a, id, rid)
		if err != nil {
			return err
		}
		x, err = scanAnswerEvidence(tx.QueryRow(ctx, "SELECT "+answerEvidenceCols+" FROM advisory_evidence WHERE id = ? AND recipient_id = ?", fid, rid))
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		var content []byte
		if err := tx.QueryRow(ctx, "SELECT content FROM advisory_evidence WHERE id = ?", fid).Scan(&content); err != nil {
			return err
		}
		if sum := sha256.Sum256(content); hex.EncodeToString(sum[:]) != x.SHA256 {
			return errs.Internal(op, incident.ErrCorrupt)
		}
		data = content
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: r.OrgID, Action: "advisory.evidence.download", Entity: "advisory_evidence",
			EntityID: fmt.Sprint(x.ID), After: map[string]any{"name": x.Name, "sha256": x.SHA256}})
	})
	if err != nil {
		return AnswerEvidence{}, nil, store.Wrap(op, err)
	}
	return x, data, nil
}

// RemoveAnswerEvidence takes a file off the actor's organisation's answer
// to a published advisory (one attached by mistake, a scan replaced by a
// newer one). Only the recipient's own organisation removes, as only it
// attaches; the audit entry keeps the file's name and SHA-256.
func (s *Service) RemoveAnswerEvidence(ctx context.Context, a policy.Actor, id, rid, fid int64) error {
	const op = "advisory: remove evidence"
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		_, r, err := s.ownAnswer(ctx, tx, a, id, rid, op)
		if err != nil {
			return err
		}
		x, err := scanAnswerEvidence(tx.QueryRow(ctx, "SELECT "+answerEvidenceCols+" FROM advisory_evidence WHERE id = ? AND recipient_id = ?", fid, rid))
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM advisory_evidence WHERE id = ?", fid); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: r.OrgID, Action: "advisory.evidence.remove", Entity: "advisory_evidence",
			EntityID: fmt.Sprint(x.ID), Before: x})
	})
	return store.Wrap(op, err)
}
