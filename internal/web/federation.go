package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/federation"
	"certnet/internal/i18n"
	"certnet/internal/policy"
)

const tplFederation = "federation.html"

// federationRow is a peer as the page shows it.
type federationRow struct {
	federation.State
	OrgName    string
	ParentName string
	CanManage  bool
}

// LagText is how far behind the pull is ("" before any pull).
func (r federationRow) LagText() string {
	if r.LastAdded.IsZero() {
		return ""
	}
	return r.Lag.String()
}

// StateClass is the CSS class of the peer's health.
func (r federationRow) StateClass() string {
	switch {
	case !r.Enabled:
		return "muted"
	case r.Failures > 0:
		return "status-warn"
	case r.LastSuccessAt.IsZero():
		return "muted"
	}
	return "status-ok"
}

type federationForm struct {
	Org, ParentOrg, Name, APIRoot, Push, Pull, AuthKind, Username, Interval string
}

type federationView struct {
	Base
	Peers     []federationRow
	CanCreate bool
	Form      federationForm
	Report    *federation.Report
}

// N formats a count in the page's language.
func (v federationView) N(n int64) string { return i18n.FormatInt(v.Lang, n) }

func (s *Server) federationView(r *http.Request, f federationForm) (federationView, error) {
	a := whoFrom(r).Actor
	v := federationView{Base: s.base(r, "federation.title"), Form: f}
	states, err := s.Federation.States(r.Context(), a)
	if err != nil {
		return v, err
	}
	names := s.orgNamer(r) // an organisation whose label hides it from the reader is "#id"
	for _, st := range states {
		row := federationRow{State: st, CanManage: policy.Allowed(a, policy.FederationManage, st.Resource()),
			OrgName: names.label(st.OrgID), ParentName: names.label(st.ParentOrgID)}
		v.Peers = append(v.Peers, row)
	}
	v.CanCreate = policy.Allowed(a, policy.FederationManage, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber})
	return v, nil
}

// handleFederation shows the peers with their last success, last error,
// lag, what waits to go up and the counts.
func (s *Server) handleFederation(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	if err := policy.Check(a, policy.FederationRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber}); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := federationForm{Push: federation.DefaultPushCollection, Pull: strings.Join(federation.DefaultPullCollections, ", "),
		AuthKind: federation.AuthBearer, Interval: "15"}
	if o, err := s.Orgs.Get(r.Context(), a, a.OrgID); err == nil {
		f.Org = o.Code
	}
	v, err := s.federationView(r, f)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplFederation, v)
}

// handleFederationCreate adds a peer; the organisations are given by
// their member codes.
func (s *Server) handleFederationCreate(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	f := federationForm{Org: strings.TrimSpace(r.PostFormValue("org")), ParentOrg: strings.TrimSpace(r.PostFormValue("parent_org")),
		Name: r.PostFormValue("name"), APIRoot: r.PostFormValue("api_root"), Push: r.PostFormValue("push_collection"),
		Pull: r.PostFormValue("pull_collections"), AuthKind: r.PostFormValue("auth_kind"), Username: r.PostFormValue("username"),
		Interval: strings.TrimSpace(r.PostFormValue("interval_minutes"))}
	in := federation.PeerInput{Name: f.Name, APIRoot: f.APIRoot, PushCollection: f.Push, PullCollections: []string{f.Pull},
		AuthKind: f.AuthKind, Username: f.Username, Secret: r.PostFormValue("secret"), Enabled: r.PostFormValue("enabled") != ""}
	e := errs.Invalid("web: federation")
	for _, x := range []struct {
		field, code string
		id          *int64
	}{{"org_id", f.Org, &in.OrgID}, {"parent_org_id", f.ParentOrg, &in.ParentOrgID}} {
		if x.code == "" {
			e.Field(x.field, "field.required")
			continue
		}
		o, err := s.Orgs.GetByCode(r.Context(), a, x.code)
		if err != nil {
			e.Field(x.field, "federation.err.org")
			continue
		}
		*x.id = o.ID
	}
	if n, err := strconv.Atoi(f.Interval); err == nil && n > 0 {
		in.Interval = time.Duration(n) * time.Minute
	} else if f.Interval != "" {
		e.Field("interval_seconds", "federation.err.interval")
	}
	var err error
	if len(e.Fields) > 0 {
		// Permission first: someone who may not add a peer is told so.
		err = policy.Check(a, policy.FederationManage, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber})
		if err == nil {
			err = e
		}
	} else {
		_, err = s.Federation.Create(r.Context(), a, in)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.federationView(r, f)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplFederation, v)
		return
	}
	s.redirect(w, r, "/federation", "federation.created")
}

// handleFederationSync syncs a peer now and shows what it did.
func (s *Server) handleFederationSync(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	rep, err := s.Federation.SyncNow(r.Context(), whoFrom(r).Actor, id)
	if err != nil && errs.KindOf(err) != errs.KindConflict {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.federationView(r, federationForm{AuthKind: federation.AuthBearer})
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	if err != nil {
		v.formErrors(err)
		s.render(w, r, http.StatusConflict, tplFederation, v)
		return
	}
	v.Report = &rep
	v.Flash = v.T("federation.synced")
	s.render(w, r, http.StatusOK, tplFederation, v)
}

// handleFederationEnabled pauses or resumes the scheduled sync of a peer.
func (s *Server) handleFederationEnabled(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	p, err := s.Federation.Get(r.Context(), a, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	on := r.PostFormValue("enabled") == "1"
	_, err = s.Federation.Update(r.Context(), a, id, federation.PeerInput{OrgID: p.OrgID, ParentOrgID: p.ParentOrgID, Name: p.Name,
		APIRoot: p.APIRoot, PushCollection: p.PushCollection, PullCollections: p.PullCollections, AuthKind: p.AuthKind,
		Username: p.Username, Interval: p.Interval, Enabled: on})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	key := "federation.paused"
	if on {
		key = "federation.resumed"
	}
	s.redirect(w, r, "/federation", key)
}

// handleFederationDelete removes a peer (what it brought stays).
func (s *Server) handleFederationDelete(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if err := s.Federation.Delete(r.Context(), whoFrom(r).Actor, id); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/federation", "federation.deleted")
}
