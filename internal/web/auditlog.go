package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
)

const tplAudit = "audit.html"

const (
	auditPerPage = 50
	// auditCSVMax bounds one export; narrow the filter for more.
	auditCSVMax = 100_000
	// auditCSVBatch is how many entries one query of an export reads.
	auditCSVBatch = 500
)

// auditForm is the audit log's filter as typed and as it stands in the URL.
type auditForm struct {
	Actor    string
	Action   string
	Entity   string
	EntityID string
	OrgID    int64
	From     string
	To       string
	Before   int64
}

func parseAuditForm(r *http.Request) auditForm {
	q := r.URL.Query()
	f := auditForm{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Entity: strings.TrimSpace(q.Get("entity")), EntityID: strings.TrimSpace(q.Get("entity_id")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	f.OrgID, _ = strconv.ParseInt(q.Get("org"), 10, 64)
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	return f
}

// auditDate reads a day typed as 26/11/2026 or 2026-11-26, in Vietnam time.
func auditDate(s string) (time.Time, bool) {
	for _, layout := range []string{"02/01/2006", "2/1/2006", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, i18n.Zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// filter turns the form into the service's filter: From is the start of its
// day, To the end of its day.
func (f auditForm) filter() (audit.Filter, error) {
	out := audit.Filter{Actor: f.Actor, Action: f.Action, Entity: f.Entity, EntityID: f.EntityID, OrgID: f.OrgID,
		BeforeSeq: f.Before}
	v := errs.Invalid("web: audit filter")
	if f.From != "" {
		if t, ok := auditDate(f.From); ok {
			out.Since = t
		} else {
			v.Field("from", "auditlog.err.date")
		}
	}
	if f.To != "" {
		if t, ok := auditDate(f.To); ok {
			out.Until = t.AddDate(0, 0, 1)
		} else {
			v.Field("to", "auditlog.err.date")
		}
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Until.After(out.Since) {
		v.Field("to", "auditlog.err.range")
	}
	return out, v.OrNil()
}

// query is the URL query of this filter, without the page unless before.
func (f auditForm) query(before int64) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("actor", f.Actor)
	set("action", f.Action)
	set("entity", f.Entity)
	set("entity_id", f.EntityID)
	if f.OrgID != 0 {
		q.Set("org", itoa(f.OrgID))
	}
	set("from", f.From)
	set("to", f.To)
	if before > 0 {
		q.Set("before", itoa(before))
	}
	return q.Encode()
}

func withQuery(path, q string) string {
	if q == "" {
		return path
	}
	return path + "?" + q
}

// auditRow is one entry as the page shows it.
type auditRow struct {
	audit.Entry
	OrgName string
	Before  string // pretty-printed JSON
	After   string
	// EntityHref is the page of the changed thing, when it has one.
	EntityHref string
}

// auditEntityPages are the pages of the entities that have one.
var auditEntityPages = map[string]string{"user": "/users/", "organisation": "/orgs/"}

func auditEntityHref(e audit.Entry) string {
	p, ok := auditEntityPages[e.Entity]
	if !ok {
		return ""
	}
	if _, err := strconv.ParseInt(e.EntityID, 10, 64); err != nil {
		return ""
	}
	return p + e.EntityID
}

// prettyJSON indents a JSON document; anything else is shown as it is.
func prettyJSON(s string) string {
	if s == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

type auditView struct {
	Base
	TLP       policy.TLP
	Filter    auditForm
	Orgs      []peopleOrg
	Rows      []auditRow
	Paged     bool   // the page does not start at the newest entry
	NewestURL string // the first page of this filter
	OlderURL  string // the next page, when there is one
	CSVURL    string
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	ctx := r.Context()
	// Refuse before anything else, so that people without the right see
	// the refusal rather than a form.
	if err := policy.Check(wh.Actor, policy.AuditRead, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPAmber}); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := parseAuditForm(r)
	v := auditView{Base: s.base(r, "auditlog.title"), TLP: policy.TLPAmber, Filter: f, Rows: []auditRow{},
		Orgs: s.peopleOrgs(r, policy.AuditRead), Paged: f.Before > 0,
		NewestURL: withQuery("/audit", f.query(0)), CSVURL: withQuery("/audit.csv", f.query(0))}
	flt, err := f.filter()
	if err != nil {
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplAudit, v)
		return
	}
	flt.Limit = auditPerPage + 1
	entries, err := s.Audit.List(ctx, wh.Actor, flt)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if len(entries) > auditPerPage {
		entries = entries[:auditPerPage]
		v.OlderURL = withQuery("/audit", f.query(entries[len(entries)-1].Seq))
	}
	names := s.orgNamer(r)
	for _, e := range entries {
		v.Rows = append(v.Rows, auditRow{Entry: e, OrgName: names.label(e.OrgID),
			Before: prettyJSON(e.Before), After: prettyJSON(e.After), EntityHref: auditEntityHref(e)})
	}
	s.render(w, r, http.StatusOK, tplAudit, v)
}

// auditCSVColumns head the export; they are identifiers for the programs
// that read it, the same in both languages.
var auditCSVColumns = []string{"tlp", "seq", "at", "at_vietnam", "actor", "actor_org_id", "org_id", "organisation",
	"action", "entity", "entity_id", "request_id", "before", "after", "hash"}

// handleAuditCSV exports the entries of the filter, newest first, as CSV
// (UTF-8 with a byte order mark, so that Excel shows Vietnamese). It is
// written as it is read, a batch at a time; the first batch is read before
// anything is sent, so a refusal is an error page.
func (s *Server) handleAuditCSV(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	flt, err := parseAuditForm(r).filter()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	flt.Limit = auditCSVBatch
	entries, err := s.Audit.List(r.Context(), wh.Actor, flt)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="certnet-audit-`+s.Now().In(i18n.Zone).Format("20060102-1504")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write(auditCSVColumns)
	names := s.orgNamer(r) // an export names few organisations many times
	for n := 0; ; {
		for _, e := range entries {
			cw.Write(auditCSVRecord(e, names.label(e.OrgID)))
		}
		cw.Flush()
		n += len(entries)
		if len(entries) < flt.Limit || n >= auditCSVMax {
			break
		}
		flt.BeforeSeq = entries[len(entries)-1].Seq
		flt.Limit = min(auditCSVBatch, auditCSVMax-n)
		if entries, err = s.Audit.List(r.Context(), wh.Actor, flt); err != nil {
			// The answer has begun: all that can be done is to stop and log.
			s.Log.Error("web: audit csv", "err", err, "request_id", wh.Actor.RequestID)
			return
		}
	}
	if err := cw.Error(); err != nil {
		s.Log.Warn("web: audit csv", "err", err, "request_id", wh.Actor.RequestID)
	}
}

func auditCSVRecord(e audit.Entry, orgName string) []string {
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return itoa(n)
	}
	rec := []string{"TLP:" + string(policy.TLPAmber), itoa(e.Seq), e.At.UTC().Format(time.RFC3339),
		i18n.FormatTime(e.At), e.Actor, id(e.ActorOrgID), id(e.OrgID), orgName, e.Action, e.Entity, e.EntityID,
		e.RequestID, e.Before, e.After, e.Hash}
	for i, c := range rec {
		rec[i] = auditCSVCell(c)
	}
	return rec
}

// auditCSVCell keeps a spreadsheet from reading a cell as a formula.
func auditCSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
