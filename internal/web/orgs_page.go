package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// contactForm is the add or edit form of one contact point, with what was
// typed and what is wrong with it.
type contactForm struct {
	ID      int64
	Action  string
	Fields  []field
	Message string
	Open    bool
}

// contactItem is a contact point on the organisation page.
type contactItem struct {
	org.Contact
	KindLabel string
	Form      contactForm
}

// constituencyItem is one range, AS number or domain.
type constituencyItem struct {
	Kind      string
	KindLabel string
	Value     string
	Note      string
	At        time.Time
	Delete    string
}

// labelled is a name with a number (staff, certificates, systems).
type labelled struct {
	Label string
	Count int
	Extra string
}

type orgPageView struct {
	Base
	Org          org.Org
	Crumbs       []org.Org // root first, the organisation's parents
	Roles        []string
	RegionLabel  string
	SectorLabel  string
	Capabilities []string
	Staff        []labelled
	Certs        []labelled
	Groups       []labelled
	Systems      []labelled
	HasProfile   bool
	Contacts     []contactItem
	NewContact   contactForm
	Items        []constituencyItem
	RangeForm    contactForm
	Children     []org.Org
	ShowUsers    bool
	UsersTLP     policy.TLP
	Users        []auth.User
	UsersTotal   int
	StaleContact bool
}

// UserRole is the label of a user's role.
func (v orgPageView) UserRole(r policy.Role) string { return v.T("auth.role." + string(r)) }

func (s *Server) handleOrg(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.orgPage(r, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplOrg, v)
}

func (s *Server) handleOrgRanges(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	http.Redirect(w, r, "/orgs/"+itoa(id)+"#ranges", http.StatusSeeOther)
}

// orgPage gathers everything the organisation page shows.
func (s *Server) orgPage(r *http.Request, id int64) (orgPageView, error) {
	ctx := r.Context()
	a := whoFrom(r).Actor
	o, err := s.Orgs.Get(ctx, a, id)
	if err != nil {
		return orgPageView{}, err
	}
	v := orgPageView{Base: s.base(r, ""), Org: o, UsersTLP: policy.TLPAmber}
	v.Title = o.Name
	chain, err := s.Orgs.Chain(ctx, a, id)
	if err != nil {
		return v, err
	}
	for i := len(chain) - 1; i >= 1; i-- {
		v.Crumbs = append(v.Crumbs, chain[i])
	}
	for _, ro := range o.Roles {
		v.Roles = append(v.Roles, v.T(ro.LabelKey()))
	}
	if o.Region != "" {
		v.RegionLabel = v.T(org.RegionLabelKey(o.Region))
	}
	if o.Sector != "" {
		v.SectorLabel = v.T(o.Sector.LabelKey())
	}
	v.profile(o.Profile)
	contacts, err := s.Orgs.Contacts(ctx, a, id)
	if err != nil {
		return v, err
	}
	for _, c := range contacts {
		v.Contacts = append(v.Contacts, contactItem{Contact: c, KindLabel: v.T("org.contact_kind." + c.Kind),
			Form: v.contactForm(c.ID, contactInputOf(c), nil)})
	}
	v.NewContact = v.contactForm(0, org.ContactInput{}, nil)
	v.StaleContact = o.Active && (!slices.ContainsFunc(contacts, func(c org.Contact) bool { return c.Kind == org.ContactPrimary }) ||
		o.ContactsUpdatedAt.IsZero() || s.Now().Sub(o.ContactsUpdatedAt) > org.StaleAfter)
	if err := s.constituency(r, &v); err != nil {
		return v, err
	}
	v.RangeForm = v.rangeForm("", "", nil)
	if v.Children, err = s.Orgs.Children(ctx, a, id); err != nil {
		return v, err
	}
	if v.Can(string(policy.UserRead), id, policy.TLPAmber) {
		users, total, err := s.Auth.ListUsers(ctx, a, auth.UserFilter{OrgID: id, IncludeDisabled: true, Limit: 200})
		if err == nil {
			v.ShowUsers, v.Users, v.UsersTotal = true, users, total
		} else if !errs.Is(err, errs.KindNotFound) && !errs.Is(err, errs.KindForbidden) {
			return v, err
		}
	}
	return v, nil
}

// profile lays out the member profile (form 01) for reading.
func (v *orgPageView) profile(p org.Profile) {
	for _, c := range p.Capabilities {
		v.Capabilities = append(v.Capabilities, v.T("org.capability."+c))
	}
	for _, st := range p.Staff {
		v.Staff = append(v.Staff, labelled{Label: v.T("org.staff_field." + st.Field), Count: st.Count})
	}
	for _, c := range p.Certificates {
		v.Certs = append(v.Certs, labelled{Label: c.Name, Count: c.Count})
	}
	for _, g := range p.ExpertGroups {
		v.Groups = append(v.Groups, labelled{Label: g.Name, Count: g.Members, Extra: g.Lead})
	}
	any := false
	for i, n := range p.SystemsByLevel {
		v.Systems = append(v.Systems, labelled{Label: v.T("orgs.f.level", i+1), Count: n})
		any = any || n > 0
	}
	if !any {
		v.Systems = nil
	}
	v.HasProfile = p.SecurityLead.Name != "" || len(v.Capabilities)+len(v.Staff)+len(v.Certs)+len(v.Groups)+len(v.Systems) > 0 ||
		p.ResponseTeamSize > 0 || p.Notes != ""
}

// constituency fills the ranges, AS numbers and domains.
func (s *Server) constituency(r *http.Request, v *orgPageView) error {
	ctx := r.Context()
	a := whoFrom(r).Actor
	id := v.Org.ID
	base := "/orgs/" + itoa(id)
	ranges, err := s.Orgs.Ranges(ctx, a, id)
	if err != nil {
		return err
	}
	asns, err := s.Orgs.ASNs(ctx, a, id)
	if err != nil {
		return err
	}
	domains, err := s.Orgs.Domains(ctx, a, id)
	if err != nil {
		return err
	}
	for _, x := range ranges {
		v.Items = append(v.Items, constituencyItem{Kind: org.KindCIDR, KindLabel: v.T("org.whois.kind.cidr"), Value: x.CIDR,
			Note: x.Note, At: x.CreatedAt,
			Delete: base + "/ranges/" + itoa(x.ID) + "/delete"})
	}
	for _, x := range asns {
		v.Items = append(v.Items, constituencyItem{Kind: org.KindASN, KindLabel: v.T("org.whois.kind.asn"),
			Value: "AS" + strconv.FormatInt(x.ASN, 10), Note: x.Note, At: x.CreatedAt,
			Delete: base + "/asns/" + itoa(x.ID) + "/delete"})
	}
	for _, x := range domains {
		v.Items = append(v.Items, constituencyItem{Kind: org.KindDomain, KindLabel: v.T("org.whois.kind.domain"),
			Value: x.Domain, Note: x.Note, At: x.CreatedAt,
			Delete: base + "/domains/" + itoa(x.ID) + "/delete"})
	}
	return nil
}

func contactInputOf(c org.Contact) org.ContactInput {
	return org.ContactInput{ID: c.ID, Kind: c.Kind, Name: c.Name, Title: c.Title, Email: c.Email, Phone: c.Phone,
		Phone247: c.Phone247, PGPKey: c.PGPKey}
}

// contactForm lays out the add (id 0) or edit form of a contact point;
// err, when set, is what the service said about it.
func (v orgPageView) contactForm(id int64, in org.ContactInput, err error) contactForm {
	f := contactForm{ID: id, Action: "/orgs/" + itoa(v.Org.ID) + "/contacts"}
	prefix := "cn-"
	if id != 0 {
		f.Action += "/" + itoa(id)
		prefix = "c" + itoa(id) + "-"
	}
	msgs := v.fieldMessages(err, &f)
	mk := func(name, label, typ, value, auto string, req bool) field {
		return field{Name: name, ID: prefix + name, Label: v.T(label), Type: typ, Value: value, Auto: auto,
			Required: req, Err: msgs[name]}
	}
	kinds := make([]option, 0, len(org.ContactKinds))
	for _, k := range org.ContactKinds {
		kinds = append(kinds, option{Value: k, Label: v.T("org.contact_kind." + k), Selected: in.Kind == k})
	}
	kind := mk("kind", "orgs.c.kind", "select", in.Kind, "", true)
	kind.Options = kinds
	pgp := mk("pgp_key", "orgs.c.pgp_key", "textarea", in.PGPKey, "off", false)
	pgp.Help = v.T("orgs.c.pgp_help")
	phone247 := mk("phone_247", "orgs.c.phone_247", "tel", in.Phone247, "off", false)
	phone247.Help = v.T("orgs.c.phone_247_help")
	email := mk("email", "orgs.c.email", "email", in.Email, "off", false)
	email.Help = v.T("orgs.c.reach_help")
	f.Fields = []field{kind, mk("name", "orgs.c.name", "text", in.Name, "off", true),
		mk("title", "orgs.c.title", "text", in.Title, "off", false), email,
		mk("phone", "orgs.c.phone", "tel", in.Phone, "off", false), phone247, pgp}
	return f
}

// rangeForm lays out the form that adds a range, an AS number or a domain.
func (v orgPageView) rangeForm(value, note string, err error) contactForm {
	f := contactForm{Action: "/orgs/" + itoa(v.Org.ID) + "/ranges"}
	msgs := v.fieldMessages(err, &f)
	for _, k := range []string{"cidr", "asn", "domain"} {
		if m := msgs[k]; m != "" && msgs["value"] == "" {
			msgs["value"] = m
		}
	}
	val := field{Name: "value", ID: "r-value", Label: v.T("orgs.r.value"), Type: "text", Value: value, Required: true,
		Auto: "off", Help: v.T("orgs.r.value_help"), Err: msgs["value"]}
	nt := field{Name: "note", ID: "r-note", Label: v.T("orgs.r.note"), Type: "text", Value: note, Auto: "off", Err: msgs["note"]}
	f.Fields = []field{val, nt}
	return f
}

// fieldMessages translates the field messages of err and puts its general
// message on f; the form opens when there is something to say.
func (v orgPageView) fieldMessages(err error, f *contactForm) map[string]string {
	out := map[string]string{}
	if err == nil {
		return out
	}
	f.Open = true
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.KindInternal {
		f.Message = v.T("error.internal", v.RequestID)
		return out
	}
	f.Message = v.T(e.Message.Key, e.Message.Args...)
	for name, m := range e.Fields {
		out[name] = v.T(m.Key, m.Args...)
	}
	return out
}

// formProblem reports whether err is about what was typed in a form (shown
// next to the fields) rather than a reason to show the error page.
func formProblem(err error) bool {
	e, ok := errs.As(err)
	return ok && (e.Kind == errs.KindInvalid || e.Kind == errs.KindConflict || len(e.Fields) > 0)
}
