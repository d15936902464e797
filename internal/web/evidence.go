package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

// Evidence files and tasks on the incident page, the evidence page with
// its custody log, and the download (always an attachment, never shown
// inline).

const tplEvidence = "evidence.html"

// Partial templates of the incident page's sections.
const (
	tplIncEvidence = "incident_evidence"
	tplIncTasks    = "incident_tasks"
)

func init() {
	addIncidentSection("evidence", evidenceSection)
	addIncidentSection("tasks", taskSection)
	addNeeds(taskNeeds)
}

// evidenceBodyLimit is the body limit of the upload route: the file's
// limit and room for the form's other fields.
func (s *Server) evidenceBodyLimit() int64 {
	max := s.Cfg.MaxEvidence
	if s.Evidence != nil && s.Evidence.Files != nil {
		max = s.Evidence.Files.MaxSize
	}
	if max <= 0 {
		max = incident.DefaultMaxEvidence
	}
	return max + 1<<20
}

type evidenceSectionView struct {
	Base
	Ref    string
	Files  []incident.Evidence
	MayAdd bool
	TLPs   []option
	MaxMB  int64
}

// Size shows a file size in bytes, KB or MB.
func (b Base) Size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return i18n.FormatInt(b.Lang, n) + " B"
}

func evidenceSection(s *Server, r *http.Request, v *incView) (string, any, error) {
	if s.Evidence == nil {
		return "", nil, nil
	}
	files, err := s.Evidence.List(r.Context(), v.Actor, v.Inc.Ref)
	if err != nil {
		return "", nil, err
	}
	sv := evidenceSectionView{Base: v.Base, Ref: v.Inc.Ref, Files: files, MayAdd: v.May(string(policy.EvidenceAdd)),
		MaxMB: (s.evidenceBodyLimit() - 1<<20) >> 20}
	for _, l := range policy.TLPs {
		if l.Rank() >= v.Inc.TLP.Rank() {
			sv.TLPs = append(sv.TLPs, option{Value: string(l), Label: "TLP:" + string(l), Selected: l == v.Inc.TLP})
		}
	}
	return tplIncEvidence, sv, nil
}

type taskSectionView struct {
	Base
	Ref      string
	Tasks    []incident.Task
	MayWrite bool
	Owners   []option
	Now      time.Time
}

func taskSection(s *Server, r *http.Request, v *incView) (string, any, error) {
	tasks, err := s.Incidents.Tasks(r.Context(), v.Actor, v.Inc.Ref)
	if err != nil {
		return "", nil, err
	}
	sv := taskSectionView{Base: v.Base, Ref: v.Inc.Ref, Tasks: tasks, MayWrite: v.May(string(policy.TaskWrite)), Now: s.Now()}
	if sv.MayWrite {
		owners, err := s.Incidents.TaskOwners(r.Context(), v.Actor, v.Inc.Ref)
		if err != nil {
			return "", nil, err
		}
		for _, o := range owners {
			sv.Owners = append(sv.Owners, option{Value: itoa(o.ID), Label: o.Name})
		}
	}
	return tplIncTasks, sv, nil
}

// taskNeeds puts the user's open tasks in "what needs me now".
func taskNeeds(s *Server, r *http.Request, wh *who) []need {
	tasks, err := s.Incidents.MyTasks(r.Context(), wh.Actor)
	if err != nil {
		return nil
	}
	now := s.Now()
	var out []need
	for _, t := range tasks {
		// needs sets Left for every dated need.
		out = append(out, need{Text: i18n.T(wh.Lang, "tasks.need", t.IncidentRef, t.Title),
			Href: "/incidents/" + url.PathEscape(t.IncidentRef) + "#sec-tasks", Due: t.DueAt, Late: t.Overdue(now)})
	}
	return out
}

// prefixed renames a validation error's fields (so that the section whose
// form failed shows them, not another form with a field of the same name).
func prefixed(err error, prefix string) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalid || len(e.Fields) == 0 {
		return err
	}
	c := *e
	c.Fields = map[string]errs.Msg{}
	for k, m := range e.Fields {
		c.Fields[prefix+k] = m
	}
	return &c
}

func (s *Server) handleEvidenceUpload(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Evidence == nil {
		s.renderError(w, r, errs.NotFound("web: evidence"), "")
		return
	}
	in := incident.EvidenceInput{TLP: policy.TLP(r.PostFormValue("tlp")), Note: r.PostFormValue("note"), Address: s.clientIP(r)}
	if up, ok := r.Context().Value(uploadPartKey{}).(*uploadPart); ok {
		in.Body, in.Name, in.MediaType = up.body, up.name, up.mediaType
		if n := r.PostFormValue("name"); strings.TrimSpace(n) != "" {
			in.Name = n
		}
	} else if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 {
			fh := fhs[0]
			f, err := fh.Open()
			if err != nil {
				s.renderError(w, r, errs.Internal("web: evidence", err), "")
				return
			}
			defer f.Close()
			in.Body, in.Name, in.MediaType = f, fh.Filename, fh.Header.Get("Content-Type")
			if n := r.PostFormValue("name"); strings.TrimSpace(n) != "" {
				in.Name = n
			}
		}
	}
	_, err := s.Evidence.Add(r.Context(), wh.Actor, r.PathValue("ref"), in)
	s.afterAction(w, r, prefixed(err, "evidence."), "evidence.flash.added")
}

type evidenceView struct {
	Base
	Ev      incident.Evidence
	Custody []incident.CustodyEntry
}

func (s *Server) evidenceID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := intParam(r, "id")
	if err != nil || s.Evidence == nil {
		s.renderError(w, r, errs.NotFound("web: evidence"), "")
		return 0, false
	}
	return id, true
}

func (s *Server) handleEvidence(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, ok := s.evidenceID(w, r)
	if !ok {
		return
	}
	ev, log, err := s.Evidence.Get(r.Context(), wh.Actor, id, s.clientIP(r))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := evidenceView{Base: s.base(r, ""), Ev: ev, Custody: log}
	v.Title = ev.Name + " · " + ev.IncidentRef
	s.render(w, r, http.StatusOK, tplEvidence, v)
}

func (s *Server) handleEvidenceDownload(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, ok := s.evidenceID(w, r)
	if !ok {
		return
	}
	ev, body, err := s.Evidence.Open(r.Context(), wh.Actor, id, s.clientIP(r))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	defer body.Close()
	if err := incident.ServeFile(w, ev, body); err != nil && !errors.Is(err, incident.ErrCorrupt) {
		s.Log.Warn("web: evidence download cut short", "evidence", ev.ID, "err", err)
	}
}

func (s *Server) handleTaskAdd(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	in := incident.TaskInput{Title: r.PostFormValue("title"), Note: r.PostFormValue("note"), OwnerID: formID(r.PostFormValue("owner_id"))}
	var bad error
	if d := strings.TrimSpace(r.PostFormValue("due_at")); d != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", d, i18n.Zone)
		if err != nil {
			bad = errs.Invalid("web: task").Field("due_at", "incidents.err.time")
		}
		in.DueAt = t
	}
	if bad != nil {
		s.afterAction(w, r, prefixed(bad, "task."), "")
		return
	}
	_, err := s.Incidents.AddTask(r.Context(), wh.Actor, r.PathValue("ref"), in)
	s.afterAction(w, r, prefixed(err, "task."), "tasks.flash.added")
}

// taskAction runs a change of one task and goes back to its incident.
func (s *Server) taskAction(w http.ResponseWriter, r *http.Request, fn func(id int64) (incident.Task, error)) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, errs.NotFound("web: task"), "")
		return
	}
	t, err := fn(id)
	if err != nil {
		if errs.Is(err, errs.KindInvalid) {
			if ref := r.PostFormValue("ref"); ref != "" {
				r.SetPathValue("ref", ref)
				s.incidentPage(w, r, http.StatusBadRequest, prefixed(err, "task."))
				return
			}
		}
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/incidents/"+url.PathEscape(t.IncidentRef)+"#sec-tasks", "tasks.flash.saved")
}

func (s *Server) handleTaskDone(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	s.taskAction(w, r, func(id int64) (incident.Task, error) {
		return s.Incidents.SetTaskDone(r.Context(), wh.Actor, id, r.PostFormValue("done") != "0")
	})
}

func (s *Server) handleTaskAssign(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	s.taskAction(w, r, func(id int64) (incident.Task, error) {
		return s.Incidents.AssignTask(r.Context(), wh.Actor, id, formID(r.PostFormValue("owner_id")))
	})
}

// Num64 groups the digits of a 64-bit number the way the language does.
func (b Base) Num64(n int64) string { return i18n.FormatInt(b.Lang, n) }

// multipartOr sends multipart bodies (a form with a file) through
// limitUpload under limit n, and every other body straight to next, whose
// own form limit then applies.
func (s *Server) multipartOr(n int64, next http.Handler) http.Handler {
	up := s.limitUpload(n, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			up.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// intakeFile is the optional file of the form 03 intake, and the catalogue
// key of what is wrong with its name.
func intakeFile(r *http.Request) (*multipart.FileHeader, string) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return nil, ""
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Filename == "" && fh.Size == 0 {
		return nil, "" // the field left empty
	}
	if k := incident.FileNameProblem(fh.Filename); k != "" {
		return nil, k
	}
	return fh, ""
}

// attachIntakeFile adds the intake's file to the new incident; when it is
// refused the incident page says why (the incident stays).
func (s *Server) attachIntakeFile(w http.ResponseWriter, r *http.Request, inc incident.Incident, fh *multipart.FileHeader) bool {
	if s.Evidence == nil {
		return true
	}
	f, err := fh.Open()
	if err == nil {
		defer f.Close()
		_, err = s.Evidence.Add(r.Context(), whoFrom(r).Actor, inc.Ref, incident.EvidenceInput{Name: fh.Filename,
			MediaType: fh.Header.Get("Content-Type"), Body: f, Address: s.clientIP(r)})
	}
	if err == nil {
		return true
	}
	r.SetPathValue("ref", inc.Ref)
	if errs.Is(err, errs.KindInvalid) {
		s.incidentPage(w, r, http.StatusBadRequest, prefixed(err, "evidence."))
	} else {
		s.renderError(w, r, err, "")
	}
	return false
}

// uploadPart is the file part of a streamed upload, left unread for the
// handler.
type uploadPart struct {
	name, mediaType string
	body            io.Reader
}

type uploadPartKey struct{}

// streamUpload reads a multipart upload's fields up to its "file" part and
// leaves the file unread, so that the handler streams it straight into the
// evidence store (no copy in the system's temporary folder). The fields
// must come before the file (browsers send them in the form's order; the
// form puts the file last); fields after it are ignored. The body is held
// to n bytes (413 past it). Visitors who are not signed in are passed on
// unread: s.page sends them to the login page.
func (s *Server) streamUpload(n int64, next http.Handler) http.Handler {
	const maxField = 64 << 10
	return s.identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !whoFrom(r).LoggedIn {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > n {
			s.renderError(w, r, errs.TooLarge("web: upload"), "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		mr, err := r.MultipartReader()
		if err != nil {
			s.renderError(w, r, errs.Invalid("web: upload"), "")
			return
		}
		vals := url.Values{}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					s.renderError(w, r, errs.TooLarge("web: upload"), "")
				} else {
					s.renderError(w, r, errs.Invalid("web: upload"), "")
				}
				return
			}
			if p.FormName() == "file" {
				name := p.FileName()
				if raw := rawFileName(p.Header.Get("Content-Disposition")); raw != "" {
					name = raw // checked by the service, not cleaned here
				}
				r = r.WithContext(context.WithValue(r.Context(), uploadPartKey{},
					&uploadPart{name: name, mediaType: p.Header.Get("Content-Type"), body: p}))
				break
			}
			b, err := io.ReadAll(io.LimitReader(p, maxField+1))
			if err != nil || len(b) > maxField {
				s.renderError(w, r, errs.TooLarge("web: upload"), "")
				return
			}
			vals.Add(p.FormName(), string(b))
		}
		r.Form, r.PostForm = vals, vals
		r.MultipartForm = &multipart.Form{Value: vals}
		next.ServeHTTP(w, r)
	}))
}

// rawFileName is the filename parameter of a part as the client sent it
// (multipart.Part.FileName keeps only its last path element, which would
// hide a path the service must refuse).
func rawFileName(cd string) string {
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return ""
	}
	return params["filename"]
}
