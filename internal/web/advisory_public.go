package web

import (
	"cmp"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/intel"
)

// The public advisory pages: published TLP:CLEAR advisories for citizens
// and organisations outside the network, in Vietnamese (English with
// ?lang=en or the language switch), newest first, and their Atom 1.0 feed.
// intel.PublicAdvisories decides what is public; nothing here widens it.

const (
	tplPublicAdvisories = "public_advisories.html"
	tplPublicAdvisory   = "public_advisory.html"
)

// publicPageSize is how many advisories a page (and the feed) shows.
const publicPageSize = 20

// publicAdv is an advisory in the reader's language (the English text
// where the publisher wrote one).
type publicAdv struct {
	intel.Advisory
	Title, Summary, Body string
	Href                 string
}

type publicAdvisoriesView struct {
	Base
	Rows      []publicAdv
	NextHref  string
	FirstHref string // when this is not the first page
	FeedHref  string
	OtherLang string // the page in the other language
}

type publicAdvisoryView struct {
	Base
	A        publicAdv
	FeedHref string
	ListHref string
}

// publicLang applies ?lang= to the request's language (the cookie and a
// signed-in user's choice otherwise) and returns the query to keep it.
func publicLang(r *http.Request) string {
	wh := whoFrom(r)
	if l := r.URL.Query().Get("lang"); l != "" {
		wh.Lang = i18n.Parse(l)
		return "lang=" + string(wh.Lang)
	}
	return ""
}

func pubHref(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func localised(lang i18n.Lang, v intel.Advisory) publicAdv {
	p := publicAdv{Advisory: v, Title: v.Title, Summary: v.Summary, Body: v.Body,
		Href: "/public/advisories/" + strconv.FormatInt(v.ID, 10)}
	if lang == i18n.EN {
		p.Title, p.Summary, p.Body = cmp.Or(v.TitleEN, v.Title), cmp.Or(v.SummaryEN, v.Summary), cmp.Or(v.BodyEN, v.Body)
		p.Href += "?lang=en"
	}
	return p
}

// publicPage reads the page the request asks for (?before=).
func (s *Server) publicPage(r *http.Request) (intel.PublicPage, intel.PublicCursor, error) {
	cur, err := intel.ParsePublicCursor(r.URL.Query().Get("before"))
	if err != nil {
		return intel.PublicPage{}, cur, err
	}
	p, err := s.Intel.PublicAdvisories(r.Context(), cur, publicPageSize)
	return p, cur, err
}

func (s *Server) handlePublicAdvisories(w http.ResponseWriter, r *http.Request) {
	lq := publicLang(r)
	lang := ""
	if lq != "" {
		lang = string(whoFrom(r).Lang)
	}
	v := publicAdvisoriesView{Base: s.base(r, "pubadv.title")}
	if s.Intel == nil {
		s.renderError(w, r, errs.NotFound("web: public advisories"), "")
		return
	}
	p, cur, err := s.publicPage(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	for _, a := range p.Advisories {
		v.Rows = append(v.Rows, localised(v.Lang, a))
	}
	if !p.Next.IsZero() {
		v.NextHref = pubHref("/public/advisories", "before", p.Next.String(), "lang", lang)
	}
	if !cur.IsZero() {
		v.FirstHref = pubHref("/public/advisories", "lang", lang)
	}
	v.FeedHref = pubHref("/public/advisories/feed.atom", "lang", lang)
	other := "en"
	if v.Lang == i18n.EN {
		other = "vi"
	}
	v.OtherLang = pubHref("/public/advisories", "before", r.URL.Query().Get("before"), "lang", other)
	s.render(w, r, http.StatusOK, tplPublicAdvisories, v)
}

func (s *Server) handlePublicAdvisory(w http.ResponseWriter, r *http.Request) {
	lq := publicLang(r)
	lang := ""
	if lq != "" {
		lang = string(whoFrom(r).Lang)
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 || s.Intel == nil {
		s.renderError(w, r, errs.NotFound("web: public advisory"), "")
		return
	}
	a, err := s.Intel.PublicAdvisory(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := publicAdvisoryView{Base: s.base(r, ""), FeedHref: pubHref("/public/advisories/feed.atom", "lang", lang),
		ListHref: pubHref("/public/advisories", "lang", lang)}
	v.A = localised(v.Lang, a)
	v.Title = v.A.Title
	s.render(w, r, http.StatusOK, tplPublicAdvisory, v)
}

// Atom 1.0 (RFC 4287) with the paging links of RFC 5005.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Subtit  string      `xml:"subtitle,omitempty"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
	Categories []atomCategory `xml:"category"`
}

// absBase is this instance's public address: the configured base URL, or
// the one the request came to.
func (s *Server) absBase(r *http.Request) string {
	if b := strings.TrimRight(s.Cfg.BaseURL, "/"); b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// entryID is an advisory's permanent Atom id: its STIX report's UUID.
func entryID(a intel.Advisory) string {
	if u, ok := strings.CutPrefix(a.STIXID, "report--"); ok && u != "" {
		return "urn:uuid:" + u
	}
	return "urn:certnet:advisory:" + strconv.FormatInt(a.ID, 10)
}

func (s *Server) handlePublicAdvisoryFeed(w http.ResponseWriter, r *http.Request) {
	publicLang(r)
	lang := whoFrom(r).Lang
	if s.Intel == nil {
		http.NotFound(w, r)
		return
	}
	p, cur, err := s.publicPage(r)
	if err != nil {
		e, _ := errs.As(err)
		status := http.StatusInternalServerError
		if e != nil && e.Kind == errs.KindInvalid {
			status = http.StatusBadRequest
		}
		http.Error(w, i18n.T(lang, "pubadv.err.cursor"), status)
		return
	}
	base := s.absBase(r)
	lq := ""
	if lang == i18n.EN {
		lq = "en"
	}
	self := base + pubHref("/public/advisories/feed.atom", "before", cur.String(), "lang", lq)
	f := atomFeed{Lang: string(lang), ID: base + pubHref("/public/advisories/feed.atom", "lang", lq),
		Title: i18n.T(lang, "pubadv.feed_title"), Subtit: i18n.T(lang, "pubadv.intro"),
		Author: atomPerson{Name: i18n.T(lang, "pubadv.author"), URI: base + "/public/advisories"},
		Links: []atomLink{{Rel: "self", Href: self, Type: "application/atom+xml"},
			{Rel: "alternate", Href: base + pubHref("/public/advisories", "lang", lq), Type: "text/html"},
			{Rel: "first", Href: base + pubHref("/public/advisories/feed.atom", "lang", lq), Type: "application/atom+xml"}}}
	if !p.Next.IsZero() {
		f.Links = append(f.Links, atomLink{Rel: "next", Href: base + pubHref("/public/advisories/feed.atom", "before", p.Next.String(),
			"lang", lq), Type: "application/atom+xml"})
	}
	var updated time.Time
	for _, a := range p.Advisories {
		l := localised(lang, a)
		up := a.PublishedAt
		if a.UpdatedAt.After(up) {
			up = a.UpdatedAt
		}
		if up.After(updated) {
			updated = up
		}
		content := l.Body
		if a.Actions != "" {
			content = strings.TrimSpace(content + "\n\n" + i18n.T(lang, "pubadv.actions") + ":\n" + a.Actions)
		}
		if len(a.CVEs) > 0 {
			content += "\n\nCVE: " + strings.Join(a.CVEs, ", ")
		}
		e := atomEntry{ID: entryID(a), Title: l.Title, Updated: atomTime(up), Published: atomTime(a.PublishedAt),
			Links:      []atomLink{{Rel: "alternate", Href: base + l.Href, Type: "text/html"}},
			Summary:    atomText{Type: "text", Body: l.Summary},
			Content:    atomText{Type: "text", Body: content},
			Categories: []atomCategory{{Term: a.Severity, Label: i18n.T(lang, "intel.adv.severity."+a.Severity)}}}
		for _, c := range a.CVEs {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
		f.Entries = append(f.Entries, e)
	}
	if updated.IsZero() {
		updated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // an empty feed: a fixed time, not now (nothing changed)
	}
	f.Updated = atomTime(updated)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return // the client went away
	}
}
