package incident

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Evidence files (issue 3): attached to an incident with their SHA-256,
// kept in a content-addressed store in the data folder, never rendered
// inline, and every add, view and download written to an append-only
// custody log.

// DefaultMaxEvidence is the default size limit of one evidence file.
const DefaultMaxEvidence int64 = 100 << 20

// MaxFileName is the longest file name accepted, in bytes (most file
// systems stop at 255).
const MaxFileName = 255

// Custody actions.
const (
	CustodyAdd      = "add"
	CustodyView     = "view"
	CustodyDownload = "download"
)

// Evidence timeline event and observable source.
const (
	EventEvidenceAdded = "evidence.added"
	SourceFileName     = "file_name"
)

// EvidenceStore is the content-addressed store of evidence bytes:
// <Dir>/<aa>/<bb>/<sha256>, identical content kept once.
type EvidenceStore struct {
	Dir     string
	MaxSize int64
}

// NewEvidenceStore returns the store under <data>/evidence; max <= 0 means
// DefaultMaxEvidence.
func NewEvidenceStore(dataDir string, max int64) *EvidenceStore {
	if max <= 0 {
		max = DefaultMaxEvidence
	}
	return &EvidenceStore{Dir: filepath.Join(dataDir, "evidence"), MaxSize: max}
}

// Path is where the bytes of sum live.
func (es *EvidenceStore) Path(sum string) string {
	return filepath.Join(es.Dir, sum[:2], sum[2:4], sum)
}

// errTooLarge is returned by put when the stream passes the limit.
var errTooLarge = errors.New("evidence: file too large")

// put streams r to a temporary file in the store while hashing and
// counting, refuses it past MaxSize (nothing is kept), then syncs it and
// renames it to its content address (or drops it when that content is
// already stored). The file is durable when put returns.
func (es *EvidenceStore) put(r io.Reader) (sum string, size int64, err error) {
	if err := os.MkdirAll(es.Dir, 0o750); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(es.Dir, ".upload-*")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	// Read one byte past the limit to tell "exactly the limit" from "over".
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, es.MaxSize+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", n, errTooLarge
		}
		return "", n, err
	}
	if n > es.MaxSize {
		return "", n, errTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return "", n, err
	}
	if err := tmp.Close(); err != nil {
		return "", n, err
	}
	sum = hex.EncodeToString(h.Sum(nil))
	dst := es.Path(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", n, err
	}
	if _, err := os.Stat(dst); err == nil {
		os.Remove(tmp.Name()) // de-duplicated: the content is already stored
		tmp = nil
		// Fresh again, so that Sweep leaves it alone until its row commits.
		now := time.Now()
		os.Chtimes(dst, now, now)
		return sum, n, nil
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", n, err
	}
	tmp = nil
	syncDir(filepath.Dir(dst))
	return sum, n, nil
}

// syncDir makes a rename durable (best effort: not every system can).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Evidence is one file attached to an incident.
type Evidence struct {
	ID            int64      `json:"id"`
	IncidentID    int64      `json:"incident_id"`
	IncidentRef   string     `json:"incident_ref"`
	Name          string     `json:"name"`
	Size          int64      `json:"size"`
	SHA256        string     `json:"sha256"`
	MediaType     string     `json:"media_type"`
	TLP           policy.TLP `json:"tlp"`
	Note          string     `json:"note,omitempty"`
	UploadedBy    int64      `json:"uploaded_by,omitempty"`
	UploadedName  string     `json:"uploaded_name"`
	UploadedOrgID int64      `json:"uploaded_org_id,omitempty"`
	UploadedAt    time.Time  `json:"uploaded_at"`
}

// CustodyEntry is one line of an evidence file's custody log.
type CustodyEntry struct {
	ID         int64     `json:"id"`
	EvidenceID int64     `json:"evidence_id"`
	Action     string    `json:"action"`
	At         time.Time `json:"at"`
	UserID     int64     `json:"user_id,omitempty"`
	Actor      string    `json:"actor"`
	OrgID      int64     `json:"org_id,omitempty"`
	Address    string    `json:"address,omitempty"`
}

// EvidenceInput is an upload. Body is read once, after the checks.
type EvidenceInput struct {
	Name string
	// MediaType is what the uploader declared; kept as a label, never
	// trusted (downloads are always application/octet-stream).
	MediaType string
	// TLP defaults to the incident's; it may not be less strict.
	TLP  policy.TLP
	Note string
	Body io.Reader
	// Address is the client's address, for the custody log.
	Address string
}

// Evidences is the evidence service: the incident service and the file
// store.
type Evidences struct {
	S     *Service
	Files *EvidenceStore
}

// NewEvidences returns the evidence service.
func NewEvidences(s *Service, files *EvidenceStore) *Evidences {
	return &Evidences{S: s, Files: files}
}

// FileNameProblem returns the catalogue key of what is wrong with a file
// name, or "" when it may be used: not empty, not a path (no slash,
// backslash, drive letter or dot-only name), valid UTF-8 without control
// or bidirectional-override characters, at most MaxFileName bytes.
func FileNameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "field.required"
	case !utf8.ValidString(name):
		return "evidence.err.name_invalid"
	case len(name) > MaxFileName:
		return "evidence.err.name_long"
	case name == "." || name == ".." || strings.ContainsAny(name, `/\:`):
		return "evidence.err.name_path"
	case strings.TrimSpace(name) != name:
		return "evidence.err.name_invalid"
	}
	for _, r := range name {
		if unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError {
			return "evidence.err.name_control"
		}
	}
	return ""
}

// nameText is a file name as text to look for observables in: without its
// extension, with underscores as spaces ("198.51.100.7_capture.pcap" →
// "198.51.100.7 capture").
func nameText(name string) string {
	if ext := filepath.Ext(name); len(ext) > 1 && len(ext) <= 6 {
		name = name + " " + strings.TrimSuffix(name, ext)
	}
	return strings.NewReplacer("_", " ", "+", " ").Replace(name)
}

// cleanMediaType keeps a declared media type when it parses, else
// application/octet-stream.
func cleanMediaType(s string) string {
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(s))
	if err != nil || len(mt) > 100 {
		return "application/octet-stream"
	}
	return mt
}

// evidenceResource is the file as a policy resource: the incident's owner
// and reporter under the file's label.
func evidenceResource(inc Incident, ev Evidence, reporterSide bool) policy.Resource {
	r := inc.Resource()
	if reporterSide {
		r = inc.reporterResource()
	}
	r.TLP = ev.TLP
	r.CreatedBy = ev.UploadedBy
	if ev.UploadedBy != 0 {
		r.Recipients = []int64{ev.UploadedBy, inc.ReportedBy}
	}
	return r
}

// checkEvidence decides act on ev of inc for an actor who may read inc, as
// check does for the incident (the reporter's side too). NotFound when the
// file's label hides it.
func checkEvidence(a policy.Actor, act policy.Action, inc Incident, ev Evidence) error {
	if err := checkVisible(a, "", inc); err != nil {
		return err
	}
	return checkSides(a, act, inc, evidenceResource(inc, ev, false), evidenceResource(inc, ev, true))
}

// Add stores the file and attaches it to the incident: the actor must see
// the incident and may add evidence; the name, label and note are checked
// before the body is read; the body is streamed to the store (refused past
// the size limit, nothing kept) and synced there before the row commits,
// so that a crash leaves at most an unreferenced file, never a row without
// its file. The custody log, the timeline, the observables found in the
// name and the audit log are written in the row's transaction.
func (e *Evidences) Add(ctx context.Context, a policy.Actor, key string, in EvidenceInput) (Evidence, error) {
	const op = "evidence: add"
	s := e.S
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return Evidence{}, err
	}
	if err := check(a, policy.EvidenceAdd, inc); err != nil {
		return Evidence{}, err
	}
	v := errs.Invalid(op)
	if k := FileNameProblem(in.Name); k != "" {
		v.Field("name", k, MaxFileName)
	}
	if in.TLP == "" {
		in.TLP = inc.TLP
	}
	if !in.TLP.Valid() {
		v.Field("tlp", "field.invalid_choice")
	} else if in.TLP.Rank() < inc.TLP.Rank() {
		v.Field("tlp", "evidence.err.tlp_looser")
	}
	in.Note = strings.TrimSpace(in.Note)
	checkText(v, "note", in.Note, maxText, true, false)
	if in.Body == nil {
		v.Field("file", "field.required")
	}
	if err := v.OrNil(); err != nil {
		return Evidence{}, err
	}
	sum, size, err := e.Files.put(in.Body)
	if errors.Is(err, errTooLarge) {
		return Evidence{}, errs.Invalid(op).Field("file", "evidence.err.too_large", e.Files.MaxSize>>20)
	}
	if err != nil {
		return Evidence{}, errs.Internal(op, err)
	}
	if size == 0 {
		return Evidence{}, errs.Invalid(op).Field("file", "evidence.err.empty")
	}
	ev := Evidence{Name: in.Name, Size: size, SHA256: sum, MediaType: cleanMediaType(in.MediaType), TLP: in.TLP,
		Note: in.Note, UploadedBy: a.UserID, UploadedName: a.Label(), UploadedOrgID: a.OrgID}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		inc, err := s.LockTx(ctx, tx, a, key, "")
		if err != nil {
			return err
		}
		if err := check(a, policy.EvidenceAdd, inc); err != nil {
			return err
		}
		now := s.stamp()
		w := &write{tx: tx, a: a, now: now}
		ev.IncidentID, ev.IncidentRef, ev.UploadedAt = inc.ID, inc.Ref, now
		if err := tx.QueryRow(ctx, `INSERT INTO evidence (incident_id, name, size, sha256, media_type, tlp, note,
			uploaded_by, uploaded_name, uploaded_org_id, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			inc.ID, ev.Name, ev.Size, ev.SHA256, ev.MediaType, string(ev.TLP), ev.Note, store.NullID(a.UserID), ev.UploadedName,
			store.NullID(a.OrgID), now).Scan(&ev.ID); err != nil {
			return err
		}
		if err := addCustody(ctx, tx, now, a, ev.ID, CustodyAdd, in.Address); err != nil {
			return err
		}
		if _, err := w.event(ctx, &inc, EventEvidenceAdded, map[string]any{"evidence_id": ev.ID, "name": ev.Name,
			"size": ev.Size, "sha256": ev.SHA256, "tlp": string(ev.TLP)}); err != nil {
			return err
		}
		if _, err := insertObservables(ctx, w, inc.ID, ExtractObservables(nameText(ev.Name)), SourceFileName); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: inc.AffectedOrgID, Action: "evidence.add",
			Entity: "evidence", EntityID: fmt.Sprint(ev.ID), After: ev})
	})
	if err != nil {
		return Evidence{}, errs.Ensure(op, err)
	}
	return ev, nil
}

func addCustody(ctx context.Context, q store.Q, now time.Time, a policy.Actor, evID int64, action, addr string) error {
	if len(addr) > 100 {
		addr = addr[:100]
	}
	_, err := q.Exec(ctx, `INSERT INTO evidence_custody (evidence_id, action, at, user_id, actor, org_id, address)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, evID, action, now, store.NullID(a.UserID), a.Label(), store.NullID(a.OrgID), addr)
	return err
}

const evidenceCols = `e.id, e.incident_id, i.ref, e.name, e.size, e.sha256, e.media_type, e.tlp, e.note,
	e.uploaded_by, e.uploaded_name, e.uploaded_org_id, e.uploaded_at`

func scanEvidence(sc scanner) (Evidence, error) {
	var ev Evidence
	var by, org sql.NullInt64
	var tlp string
	if err := sc.Scan(&ev.ID, &ev.IncidentID, &ev.IncidentRef, &ev.Name, &ev.Size, &ev.SHA256, &ev.MediaType, &tlp,
		&ev.Note, &by, &ev.UploadedName, &org, &ev.UploadedAt); err != nil {
		return Evidence{}, err
	}
	ev.TLP, ev.UploadedBy, ev.UploadedOrgID, ev.UploadedAt = policy.TLP(tlp), by.Int64, org.Int64, ev.UploadedAt.UTC()
	return ev, nil
}

// List returns the incident's files the actor may see (by their labels).
func (e *Evidences) List(ctx context.Context, a policy.Actor, key string) ([]Evidence, error) {
	inc, err := getVisible(ctx, e.S.DB, a, key)
	if err != nil {
		return nil, err
	}
	rows, err := e.S.DB.Query(ctx, `SELECT `+evidenceCols+` FROM evidence e JOIN incidents i ON i.id = e.incident_id
		WHERE e.incident_id = ? ORDER BY e.id`, inc.ID)
	if err != nil {
		return nil, errs.Internal("evidence: list", err)
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		ev, err := scanEvidence(rows)
		if err != nil {
			return nil, errs.Internal("evidence: list", err)
		}
		if checkEvidence(a, policy.EvidenceRead, inc, ev) == nil {
			out = append(out, ev)
		}
	}
	return out, errs.Ensure("evidence: list", rows.Err())
}

// load returns the file and its incident when the actor may do act on it;
// NotFound otherwise.
func (e *Evidences) load(ctx context.Context, q store.Q, a policy.Actor, id int64, act policy.Action) (Evidence, Incident, error) {
	ev, err := scanEvidence(q.QueryRow(ctx, `SELECT `+evidenceCols+` FROM evidence e JOIN incidents i ON i.id = e.incident_id
		WHERE e.id = ?`, id))
	if store.IsNoRows(err) {
		return Evidence{}, Incident{}, errs.NotFound("evidence: get")
	}
	if err != nil {
		return Evidence{}, Incident{}, errs.Internal("evidence: get", err)
	}
	inc, err := loadIncident(ctx, q, ev.IncidentID)
	if err != nil {
		return Evidence{}, Incident{}, err
	}
	if err := checkEvidence(a, act, inc, ev); err != nil {
		return Evidence{}, Incident{}, err
	}
	return ev, inc, nil
}

// Get returns the file's details and its custody log, and records the
// view in that log.
func (e *Evidences) Get(ctx context.Context, a policy.Actor, id int64, addr string) (Evidence, []CustodyEntry, error) {
	const op = "evidence: get"
	var ev Evidence
	var log []CustodyEntry
	err := e.S.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ev, _, err = e.load(ctx, tx, a, id, policy.EvidenceRead); err != nil {
			return err
		}
		if err := addCustody(ctx, tx, e.S.stamp(), a, ev.ID, CustodyView, addr); err != nil {
			return err
		}
		log, err = loadCustody(ctx, tx, ev.ID)
		return err
	})
	if err != nil {
		return Evidence{}, nil, errs.Ensure(op, err)
	}
	return ev, log, nil
}

// Custody returns the file's custody log without recording a view.
func (e *Evidences) Custody(ctx context.Context, a policy.Actor, id int64) ([]CustodyEntry, error) {
	if _, _, err := e.load(ctx, e.S.DB, a, id, policy.EvidenceRead); err != nil {
		return nil, err
	}
	out, err := loadCustody(ctx, e.S.DB, id)
	return out, errs.Ensure("evidence: custody", err)
}

func loadCustody(ctx context.Context, q store.Q, id int64) ([]CustodyEntry, error) {
	rows, err := q.Query(ctx, `SELECT id, evidence_id, action, at, user_id, actor, org_id, address
		FROM evidence_custody WHERE evidence_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CustodyEntry
	for rows.Next() {
		var c CustodyEntry
		var uid, org sql.NullInt64
		if err := rows.Scan(&c.ID, &c.EvidenceID, &c.Action, &c.At, &uid, &c.Actor, &org, &c.Address); err != nil {
			return nil, err
		}
		c.UserID, c.OrgID, c.At = uid.Int64, org.Int64, c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Open records the download in the custody log and returns the file's
// bytes. The reader checks the SHA-256 while it is read and logs an error
// (and fails the last read) when the stored bytes do not match.
func (e *Evidences) Open(ctx context.Context, a policy.Actor, id int64, addr string) (Evidence, io.ReadCloser, error) {
	const op = "evidence: download"
	var ev Evidence
	err := e.S.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ev, _, err = e.load(ctx, tx, a, id, policy.EvidenceDownload); err != nil {
			return err
		}
		return addCustody(ctx, tx, e.S.stamp(), a, ev.ID, CustodyDownload, addr)
	})
	if err != nil {
		return Evidence{}, nil, errs.Ensure(op, err)
	}
	f, err := os.Open(e.Files.Path(ev.SHA256))
	if err != nil {
		e.S.Log.Error("evidence file missing", "evidence", ev.ID, "sha256", ev.SHA256, "err", err)
		return Evidence{}, nil, errs.Internal(op, err)
	}
	return ev, &verifyReader{f: f, h: sha256.New(), want: ev.SHA256, size: ev.Size, id: ev.ID, log: e.S.Log}, nil
}

// ServeFile writes an evidence file for download, for the web and the API
// alike: an attachment, as bytes, nothing a browser would render. The
// error is the copy's (ErrCorrupt when the bytes do not match).
func ServeFile(w http.ResponseWriter, ev Evidence, body io.Reader) error {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", attachment(ev.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", fmt.Sprint(ev.Size))
	h.Set("Digest", "sha-256="+ev.SHA256)
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, body)
	return err
}

// attachment is a Content-Disposition for name: in ASCII and, for other
// names, in UTF-8 as RFC 6266 / RFC 5987 say.
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == ';' {
			return '_'
		}
		return r
	}, name)
	if ascii == name {
		return mime.FormatMediaType("attachment", map[string]string{"filename": name})
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

// ErrCorrupt is returned by the last read of a file whose bytes do not
// match its SHA-256.
var ErrCorrupt = errors.New("evidence: stored file does not match its SHA-256")

type verifyReader struct {
	f    *os.File
	h    hash.Hash
	n    int64
	want string
	size int64
	id   int64
	log  *slog.Logger
	done bool
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF && !v.done {
		v.done = true
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want || v.n != v.size {
			v.log.Error("evidence file corrupt", "evidence", v.id, "want", v.want, "got", got, "size", v.n)
			return n, ErrCorrupt
		}
	}
	return n, err
}

func (v *verifyReader) Close() error { return v.f.Close() }

// JobEvidenceSweep is the background job that removes what a crash or a
// refused upload left in the evidence store.
const JobEvidenceSweep = "evidence.sweep"

// Sweep removes from the store the files no evidence row refers to (left
// by a crash between the file's rename and the row's commit, or by a
// transaction that failed) and unfinished temporary uploads, when they are
// older than grace (so that an upload whose row is being written is left
// alone). It returns how many files it removed.
func (e *Evidences) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	cutoff := e.S.now().Add(-grace)
	removed := 0
	remove := func(path string) {
		if os.Remove(path) == nil {
			removed++
		}
	}
	stored := map[string]string{} // the old content files: sha256 → path
	err := filepath.WalkDir(e.Files.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return ctx.Err()
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(cutoff) {
			return nil
		}
		switch name := d.Name(); {
		case strings.HasPrefix(name, ".upload-"):
			remove(path)
		case len(name) == 64 && isHex(name):
			stored[name] = path
		} // anything else is not ours
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("evidence: sweep: %w", err)
	}
	// Which of them rows refer to: one query per 500 files, not one each.
	sums := slices.Collect(maps.Keys(stored))
	for chunk := range slices.Chunk(sums, 500) {
		args := make([]any, len(chunk))
		for i, sum := range chunk {
			args[i] = sum
		}
		used, err := e.S.DB.Query(ctx, "SELECT DISTINCT sha256 FROM evidence WHERE sha256 IN (?"+
			strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return removed, fmt.Errorf("evidence: sweep: %w", err)
		}
		for used.Next() {
			var sum string
			if err := used.Scan(&sum); err != nil {
				used.Close()
				return removed, fmt.Errorf("evidence: sweep: %w", err)
			}
			delete(stored, sum)
		}
		used.Close()
		if err := used.Err(); err != nil {
			return removed, fmt.Errorf("evidence: sweep: %w", err)
		}
	}
	for _, path := range stored {
		remove(path)
	}
	return removed, nil
}
