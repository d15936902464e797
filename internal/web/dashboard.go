package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"certnet/internal/incident"
	"certnet/internal/org"
)

// need is one thing waiting for the user's organisation.
type need struct {
	Text string
	Href string
	Due  time.Time
	Late bool
	// Left is the time until Due (negative once it has passed).
	Left time.Duration
}

type dashboardView struct {
	Base
	Needs     []need
	Counts    org.Counts
	RoleBars  []Bar
	RoleChart template.HTML
	ProvBars  []Bar
	ProvChart template.HTML
	ProvMap   template.HTML
	Provinces int
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	ctx := r.Context()
	v := dashboardView{Base: s.base(r, "dash.title")}
	counts, err := s.Orgs.Counts(ctx, wh.Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.Counts = counts
	v.Needs = s.needs(r, wh)

	for _, role := range org.Roles {
		if n := counts.ByRole[role]; n > 0 {
			v.RoleBars = append(v.RoleBars, Bar{Label: v.T(role.LabelKey()), Value: n, Href: "/orgs?role=" + string(role)})
		}
	}
	v.RoleChart = barChart(v.T("dash.by_role"), v.RoleBars)

	provs, err := s.Orgs.Provinces(ctx)
	if err == nil {
		v.Provinces = len(provs)
		for _, p := range provs {
			if n := counts.ByProvince[p.Code]; n > 0 {
				v.ProvBars = append(v.ProvBars, Bar{Label: p.Name, Value: n, Href: "/orgs?province=" + url.QueryEscape(p.Code)})
			}
		}
		var tiles []Tile
		for _, p := range provs {
			if p.Map != nil {
				tiles = append(tiles, Tile{Col: p.Map.Col, Row: p.Map.Row, Label: p.Name, Value: counts.ByProvince[p.Code],
					Href: "/orgs?province=" + url.QueryEscape(p.Code)})
			}
		}
		v.ProvMap = tileMap(v.T("dash.map"), tiles)
		sort.SliceStable(v.ProvBars, func(i, j int) bool { return v.ProvBars[i].Value > v.ProvBars[j].Value })
		if len(v.ProvBars) > 12 {
			v.ProvBars = v.ProvBars[:12]
		}
		v.ProvChart = barChart(v.T("dash.by_province"), v.ProvBars)
	}
	s.render(w, r, http.StatusOK, tplDashboard, v)
}

// needFns are the areas' contributions to "what needs me now" (orders to
// acknowledge, tasks due, systems to assess, …), registered from the
// areas' own files with addNeeds. Late and due items sort first.
var needFns []func(s *Server, r *http.Request, wh *who) []need

// addNeeds registers an area's contribution; call it from an init function.
func addNeeds(fn func(s *Server, r *http.Request, wh *who) []need) { needFns = append(needFns, fn) }

// needs lists what needs the user now, most urgent first: the areas'
// deadlines, the incidents' legal deadlines, then what the user's own
// organisation owes the network (a contact point, its yearly renewal, the
// member profile) and a second factor.
func (s *Server) needs(r *http.Request, wh *who) []need {
	ctx := r.Context()
	now := s.Now()
	lang := wh.Lang
	var out []need
	orgHref := "/orgs/" + itoa(wh.User.OrgID)
	if o, err := s.Orgs.Get(ctx, wh.Actor, wh.User.OrgID); err == nil {
		contacts, _ := s.Orgs.Contacts(ctx, wh.Actor, o.ID)
		hasPrimary := false
		for _, c := range contacts {
			if c.Kind == "primary" {
				hasPrimary = true
			}
		}
		if !hasPrimary {
			out = append(out, need{Text: t(lang, "needs.no_primary_contact"), Href: orgHref + "#contacts", Late: true})
		} else if !o.ContactsUpdatedAt.IsZero() && now.Sub(o.ContactsUpdatedAt) > 365*24*time.Hour {
			out = append(out, need{Text: t(lang, "needs.contacts_stale"), Href: orgHref + "#contacts",
				Due: o.ContactsUpdatedAt.AddDate(1, 0, 0), Late: true})
		}
		if o.ProfileYear < now.Year() {
			due := time.Date(now.Year(), 12, 31, 0, 0, 0, 0, now.Location())
			out = append(out, need{Text: t(lang, "needs.profile_year", now.Year()), Href: orgHref + "/edit#profile", Due: due})
		}
	}
	if !wh.User.TOTPEnabled {
		out = append(out, need{Text: t(lang, "needs.enable_totp"), Href: "/profile/totp"})
	}
	// Incidents with a legal deadline passed or within two days, first:
	// these are the law's deadlines.
	if s.Incidents != nil {
		var inc []need
		due, _ := s.Incidents.Due(ctx, wh.Actor, incident.DueFilter{Within: 48 * time.Hour, Limit: 20})
		for _, it := range due {
			for _, c := range it.Clocks {
				inc = append(inc, need{Text: t(lang, "incidents.need", it.Incident.Ref, it.Incident.Title, t(lang, c.Kind.LabelKey())),
					Href: "/incidents/" + url.PathEscape(it.Incident.Ref), Due: c.Due, Late: c.Overdue})
			}
		}
		out = append(inc, out...)
	}
	var area []need
	for _, fn := range needFns {
		area = append(area, fn(s, r, wh)...)
	}
	// The areas' deadlines: late first, then by due time; undated last.
	slices.SortStableFunc(area, func(a, b need) int {
		switch {
		case a.Late != b.Late:
			if a.Late {
				return -1
			}
			return 1
		case a.Due.IsZero() != b.Due.IsZero():
			if a.Due.IsZero() {
				return 1
			}
			return -1
		}
		return a.Due.Compare(b.Due)
	})
	out = append(area, out...)
	for i := range out {
		if !out[i].Due.IsZero() {
			out[i].Left = out[i].Due.Sub(now)
		}
	}
	return out
}
