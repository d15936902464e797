package infosys

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Attachments of a system or of one of its dossiers: design documents,
// the expert opinion a level 4–5 dossier needs, assessment reports. Like
// incident evidence (internal/incident) a file is checked (name, size,
// type) before it is kept, stored with its SHA-256 and always downloaded
// as an attachment, never shown inline (incident.ServeFile). Unlike
// evidence the bytes are kept in the database, in the row's transaction:
// these are documents of a few megabytes, and a file then goes with the
// database's backups and never outlives its row.

// MaxAttachment is the size limit of one attachment.
const MaxAttachment = 20 << 20

// Attachment kinds.
const (
	AttachDesign     = "design"
	AttachExpert     = "expert_opinion"
	AttachAssessment = "assessment_report"
	AttachOther      = "other"
)

// AttachKinds lists the attachment kinds.
var AttachKinds = []string{AttachDesign, AttachExpert, AttachAssessment, AttachOther}

// attachTypes are the accepted file types by extension.
var attachTypes = incident.FileTypes{
	".pdf":  {Media: "application/pdf", Valid: incident.Signature("%PDF-")},
	".docx": {Media: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Valid: incident.Signature("PK\x03\x04")},
	".xlsx": {Media: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Valid: incident.Signature("PK\x03\x04")},
	".odt":  {Media: "application/vnd.oasis.opendocument.text", Valid: incident.Signature("PK\x03\x04")},
	".ods":  {Media: "application/vnd.oasis.opendocument.spreadsheet", Valid: incident.Signature("PK\x03\x04")},
	".zip":  {Media: "application/zip", Valid: incident.Signature("PK\x03\x04")},
	".doc":  {Media: "application/msword", Valid: incident.Signature("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")},
	".xls":  {Media: "application/vnd.ms-excel", Valid: incident.Signature("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")},
	".png":  {Media: "image/png", Valid: incident.Signature("\x89PNG\r\n\x1a\n")},
	".jpg":  {Media: "image/jpeg", Valid: incident.Signature("\xff\xd8\xff")},
	".jpeg": {Media: "image/jpeg", Valid: incident.Signature("\xff\xd8\xff")},
	".txt":  {Media: "text/plain", Valid: utf8.Valid},
}

// AttachExtensions lists the accepted file extensions, sorted.
func AttachExtensions() []string { return attachTypes.Extensions() }

// Attachment is a file attached to a system (and, when DossierID is set,
// to one of its dossiers).
type Attachment struct {
	ID           int64     `json:"id"`
	SystemID     int64     `json:"system_id"`
	DossierID    int64     `json:"dossier_id,omitempty"`
	Kind         string    `json:"kind"`
	Name         string    `json:"name"`
	MediaType    string    `json:"media_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	Note         string    `json:"note,omitempty"`
	UploadedBy   int64     `json:"uploaded_by,omitempty"`
	UploadedName string    `json:"uploaded_name"`
	UploadedAt   time.Time `json:"uploaded_at"`
}

// AttachmentInput is an upload; Body is read after the other checks.
type AttachmentInput struct {
	DossierID int64
	Kind      string
	Name      string
	Note      string
	Body      io.Reader
}

const attachCols = "id, system_id, dossier_id, kind, name, media_type, size, sha256, note, uploaded_by, uploaded_name, uploaded_at"

func scanAttachment(r scanner) (Attachment, error) {
	var x Attachment
	var did, by sql.NullInt64
	err := r.Scan(&x.ID, &x.SystemID, &did, &x.Kind, &x.Name, &x.MediaType, &x.Size, &x.SHA256, &x.Note, &by, &x.UploadedName, &x.UploadedAt)
	x.DossierID, x.UploadedBy, x.UploadedAt = did.Int64, by.Int64, x.UploadedAt.UTC()
	return x, err
}

// Attach stores a file on a system the actor may keep: name (a plain file
// name of an accepted type), kind and note are checked first, then the
// body is read up to the limit and its content must match its type.
func (s *Service) Attach(ctx context.Context, a policy.Actor, systemID int64, in AttachmentInput) (Attachment, error) {
	const op = "infosys: attach"
	sys, err := getSystem(ctx, s.DB, systemID)
	if err != nil {
		return Attachment{}, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return Attachment{}, err
	}
	v := errs.Invalid(op)
	in.Name, in.Note = strings.TrimSpace(in.Name), strings.TrimSpace(in.Note)
	attachTypes.CheckName(v, in.Name, "infosys.attach.err.")
	if in.Kind == "" {
		in.Kind = AttachOther
	}
	if !slices.Contains(AttachKinds, in.Kind) {
		v.Field("kind", "field.invalid_choice")
	}
	text(v, "note", in.Note, maxLine, false)
	if in.Body == nil {
		v.Field("file", "infosys.err.required")
	}
	if err := v.OrNil(); err != nil {
		return Attachment{}, err
	}
	data, t, err := attachTypes.Read(op, in.Name, in.Body, MaxAttachment, "infosys.attach.err.")
	if err != nil {
		return Attachment{}, err
	}
	sum := sha256.Sum256(data)
	x := Attachment{SystemID: systemID, DossierID: in.DossierID, Kind: in.Kind, Name: in.Name, MediaType: t.Media,
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Note: in.Note, UploadedBy: a.UserID, UploadedName: a.Label()}
	err = s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		sys, err := getSystem(ctx, tx, systemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		if in.DossierID != 0 {
			d, err := getDossier(ctx, tx, in.DossierID)
			if store.IsNoRows(err) || (err == nil && d.SystemID != systemID) {
				return errs.Invalid(op).Field("dossier_id", "infosys.attach.err.dossier")
			}
			if err != nil {
				return err
			}
		}
		x.UploadedAt = now
		if err := tx.QueryRow(ctx, `INSERT INTO infosys_attachments (system_id, dossier_id, kind, name, media_type, size, sha256, content,
			note, uploaded_by, uploaded_name, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			systemID, store.NullID(in.DossierID), x.Kind, x.Name, x.MediaType, x.Size, x.SHA256, data, x.Note,
			store.NullID(a.UserID), x.UploadedName, now).Scan(&x.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.attachment.add", "infosys_attachment", x.ID, nil, x)
	})
	if err != nil {
		return Attachment{}, err
	}
	return x, nil
}

// Attachments lists a system's files, newest first (dossierID > 0: only
// that dossier's).
func (s *Service) Attachments(ctx context.Context, a policy.Actor, systemID, dossierID int64) ([]Attachment, error) {
	const op = "infosys: attachments"
	sys, err := getSystem(ctx, s.DB, systemID)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return nil, err
	}
	q, args := "SELECT "+attachCols+" FROM infosys_attachments WHERE system_id = ?", []any{systemID}
	if dossierID > 0 {
		q += " AND dossier_id = ?"
		args = append(args, dossierID)
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY id DESC", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		x, err := scanAttachment(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// OpenAttachment returns a file for download by someone who may see its
// system; the download is audited. The bytes are checked against their
// SHA-256.
func (s *Service) OpenAttachment(ctx context.Context, a policy.Actor, id int64) (Attachment, []byte, error) {
	const op = "infosys: download attachment"
	var x Attachment
	var data []byte
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		var err error
		x, err = scanAttachment(tx.QueryRow(ctx, "SELECT "+attachCols+" FROM infosys_attachments WHERE id = ?", id))
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		sys, err := getSystem(ctx, tx, x.SystemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT content FROM infosys_attachments WHERE id = ?", id).Scan(&data); err != nil {
			return err
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != x.SHA256 {
			return errs.Internal(op, incident.ErrCorrupt)
		}
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.attachment.download", "infosys_attachment", id, nil,
			map[string]any{"name": x.Name, "sha256": x.SHA256})
	})
	if err != nil {
		return Attachment{}, nil, err
	}
	return x, data, nil
}

// Evidence is the attachment as incident.ServeFile wants it (the same
// download headers as incident evidence).
func (x Attachment) Evidence() incident.Evidence {
	return incident.Evidence{Name: x.Name, Size: x.Size, SHA256: x.SHA256}
}
