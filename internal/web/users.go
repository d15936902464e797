package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// Templates of the people pages.
const (
	tplUsers   = "users.html"
	tplUserNew = "user_new.html"
	tplUser    = "user.html"
)

// usersPerPage is the size of a page of the user list.
const usersPerPage = 50

// peopleOrg is an organisation offered in a select of the people pages.
type peopleOrg struct {
	ID   int64
	Name string
}

// peopleLang is a language offered for a user's interface.
type peopleLang struct {
	Code string
	Key  string // i18n key of its name
}

var peopleLangs = func() []peopleLang {
	out := make([]peopleLang, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		out = append(out, peopleLang{Code: string(l), Key: "users.lang." + string(l)})
	}
	return out
}()

// peopleOrgs lists the organisations on which the actor may do act with
// people (read them, or create and edit them), by name.
func (s *Server) peopleOrgs(r *http.Request, act policy.Action) []peopleOrg {
	a := whoFrom(r).Actor
	list, _, err := s.Orgs.List(r.Context(), a, org.ListFilter{Limit: org.MaxListLimit})
	if err != nil {
		s.Log.Warn("web: organisations for a people form", "err", err, "request_id", a.RequestID)
		return nil
	}
	out := make([]peopleOrg, 0, len(list))
	for _, o := range list {
		if policy.Allowed(a, act, policy.Resource{OwnerOrg: o.ID, TLP: policy.TLPAmber}) {
			out = append(out, peopleOrg{ID: o.ID, Name: o.Name})
		}
	}
	return out
}

// showOnForm reports whether err belongs next to the form that caused it
// (bad input, a clash, too many tries) rather than on an error page.
func showOnForm(err error) bool {
	switch errs.KindOf(err) {
	case errs.KindInvalid, errs.KindConflict, errs.KindTooMany:
		return true
	}
	return false
}

// formStatus is the HTTP status of a form shown again with its errors.
func formStatus(err error) int {
	if st, ok := statusOf[errs.KindOf(err)]; ok && st != 0 {
		return st
	}
	return http.StatusBadRequest
}

// ---- The list ----

// usersFilter is the user list's filter as it stands in the URL.
type usersFilter struct {
	Q        string
	OrgID    int64
	Role     policy.Role
	Disabled bool
	Page     int
}

func parseUsersFilter(r *http.Request) usersFilter {
	q := r.URL.Query()
	f := usersFilter{Q: strings.TrimSpace(q.Get("q")), Role: policy.Role(q.Get("role")),
		Disabled: q.Get("disabled") == "1", Page: max(intQuery(r, "page"), 1)}
	f.OrgID, _ = strconv.ParseInt(q.Get("org"), 10, 64)
	return f
}

// href is the list's URL with this filter on page.
func (f usersFilter) href(page int) string {
	q := make([]string, 0, 5)
	if f.Q != "" {
		q = append(q, "q="+urlQueryEscape(f.Q))
	}
	if f.OrgID != 0 {
		q = append(q, "org="+itoa(f.OrgID))
	}
	if f.Role != "" {
		q = append(q, "role="+urlQueryEscape(string(f.Role)))
	}
	if f.Disabled {
		q = append(q, "disabled=1")
	}
	if page > 1 {
		q = append(q, "page="+strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/users"
	}
	return "/users?" + strings.Join(q, "&")
}

type userRow struct {
	auth.User
	OrgName string
}

type usersView struct {
	Base
	TLP       policy.TLP
	Filter    usersFilter
	Orgs      []peopleOrg
	Roles     []policy.Role
	Users     []userRow
	Total     int
	From, To  int
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
	CanCreate bool
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	f := parseUsersFilter(r)
	v := usersView{Base: s.base(r, "users.title"), TLP: policy.TLPAmber, Filter: f, Roles: policy.Roles,
		Orgs: s.peopleOrgs(r, policy.UserRead), Users: []userRow{}, Page: f.Page}
	v.CanCreate = v.Can(string(policy.UserWrite), wh.User.OrgID, policy.TLPAmber)
	users, total, err := s.Auth.ListUsers(r.Context(), wh.Actor, auth.UserFilter{OrgID: f.OrgID, Q: f.Q, Role: f.Role,
		IncludeDisabled: f.Disabled, Limit: usersPerPage, Offset: (f.Page - 1) * usersPerPage})
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplUsers, v)
		return
	}
	names := s.orgNamer(r)
	for _, u := range users {
		v.Users = append(v.Users, userRow{User: u, OrgName: names.label(u.OrgID)})
	}
	v.Total = total
	v.Pages = max((total+usersPerPage-1)/usersPerPage, 1)
	if len(users) > 0 {
		v.From = (f.Page-1)*usersPerPage + 1
		v.To = v.From + len(users) - 1
	}
	if f.Page > 1 {
		v.PrevURL = f.href(min(f.Page-1, v.Pages))
	}
	if f.Page < v.Pages {
		v.NextURL = f.href(f.Page + 1)
	}
	s.render(w, r, http.StatusOK, tplUsers, v)
}

// ---- Creating ----

// userForm is what the create and edit forms hold; passwords are never
// shown again.
type userForm struct {
	OrgID       int64
	Username    string
	DisplayName string
	Email       string
	Locale      string
	Roles       []policy.Role
	Generate    bool
	Password    string
}

// Has reports whether the form has role ticked.
func (f userForm) Has(r policy.Role) bool { return slices.Contains(f.Roles, r) }

func userFormOf(u auth.User) userForm {
	return userForm{OrgID: u.OrgID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Locale: u.Locale, Roles: slices.Clone(u.Roles)}
}

func parseUserForm(r *http.Request) userForm {
	f := userForm{
		Username:    strings.TrimSpace(r.PostFormValue("username")),
		DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
		Email:       strings.TrimSpace(r.PostFormValue("email")),
		Locale:      r.PostFormValue("locale"),
		Generate:    r.PostFormValue("generate") == "1",
		Password:    r.PostFormValue("password"),
		// Never nil: no box ticked means "no roles", which the service
		// refuses, not "keep the roles".
		Roles: []policy.Role{},
	}
	f.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	for _, role := range r.PostForm["roles"] {
		f.Roles = append(f.Roles, policy.Role(role))
	}
	return f
}

type userNewView struct {
	Base
	TLP   policy.TLP
	Form  userForm
	Orgs  []peopleOrg
	Roles []policy.Role
	Langs []peopleLang
}

func (s *Server) newUserView(r *http.Request, f userForm) userNewView {
	return userNewView{Base: s.base(r, "users.new_title"), TLP: policy.TLPAmber, Form: f,
		Orgs: s.peopleOrgs(r, policy.UserWrite), Roles: policy.Roles, Langs: peopleLangs}
}

func (s *Server) handleUserNew(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	v := s.newUserView(r, userForm{OrgID: wh.User.OrgID, Locale: string(i18n.VI), Roles: []policy.Role{policy.RoleViewer}})
	if len(v.Orgs) == 0 {
		s.renderError(w, r, errs.Forbidden("web: new user"), "")
		return
	}
	s.render(w, r, http.StatusOK, tplUserNew, v)
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	f := parseUserForm(r)
	password := f.Password
	if f.Generate {
		password = generatePassword()
	}
	u, err := s.Auth.CreateUser(r.Context(), wh.Actor, auth.UserInput{OrgID: f.OrgID, Username: f.Username,
		DisplayName: f.DisplayName, Email: f.Email, Locale: f.Locale, Roles: f.Roles, Password: password})
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v := s.newUserView(r, f)
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplUserNew, v)
		return
	}
	if !f.Generate {
		s.redirect(w, r, "/users/"+itoa(u.ID), "users.flash.created")
		return
	}
	// A generated password is shown on this answer only: no redirect.
	v, err := s.userView(r, u.ID)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.Flash = v.T("users.flash.created")
	v.NewPassword = password
	s.render(w, r, http.StatusCreated, tplUser, v)
}
