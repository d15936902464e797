package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// field is one input of a form, rendered by the "field" template of the
// page: label, input, help and the message of what is wrong.
type field struct {
	Name     string // the form name, also the key of its error message
	ID       string
	Label    string
	Help     string
	Type     string // text, email, tel, url, number, textarea, select
	Value    string
	Options  []option
	Err      string
	Required bool
	Auto     string // autocomplete
	Min, Max string // for numbers
	Wide     bool   // takes a whole row of the form
}

// fieldset is a group of fields under a legend.
type fieldset struct {
	ID     string
	Legend string
	Fields []field
}

// orgForm is what the organisation form holds, as typed: numbers stay
// text so that a wrong one is shown again as it was written.
type orgForm struct {
	Code, Name, NameEN, ShortName, ParentID, Region, ProvinceCode, ClusterID, Sector string
	Address, IntakeEmail, IntakePhone, Website, TLP                                  string
	Roles                                                                            []string
	RequireMFA, Active                                                               bool

	LeadName, LeadTitle, LeadEmail, LeadPhone string
	Capabilities                              []string
	Staff                                     map[string]string // field → count
	Certs                                     []certRow
	Groups                                    []groupRow
	TeamSize, ProfileYear, Notes              string
	Systems                                   [5]string
}

type certRow struct{ Name, Count string }

type groupRow struct{ Name, Lead, Members string }

// num shows a count, blank for zero.
func num(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// orgFormOf fills the form from an organisation's input.
func orgFormOf(in org.Input) orgForm {
	p := in.Profile
	f := orgForm{
		Code: in.Code, Name: in.Name, NameEN: in.NameEN, ShortName: in.ShortName, Region: in.Region,
		ProvinceCode: in.ProvinceCode, Sector: string(in.Sector), Address: in.Address, IntakeEmail: in.IntakeEmail,
		IntakePhone: in.IntakePhone, Website: in.Website, TLP: string(in.TLP), RequireMFA: in.RequireMFA,
		Active: in.Active, LeadName: p.SecurityLead.Name, LeadTitle: p.SecurityLead.Title,
		LeadEmail: p.SecurityLead.Email, LeadPhone: p.SecurityLead.Phone, Capabilities: p.Capabilities,
		Staff: map[string]string{}, TeamSize: num(p.ResponseTeamSize), ProfileYear: num(in.ProfileYear), Notes: p.Notes,
	}
	if in.ParentID != 0 {
		f.ParentID = itoa(in.ParentID)
	}
	if in.ClusterID != 0 {
		f.ClusterID = itoa(in.ClusterID)
	}
	if f.LeadName == "" {
		f.LeadName = in.SecurityLead
	}
	for _, r := range in.Roles {
		f.Roles = append(f.Roles, string(r))
	}
	for _, s := range p.Staff {
		f.Staff[s.Field] = num(s.Count)
	}
	for _, c := range p.Certificates {
		f.Certs = append(f.Certs, certRow{Name: c.Name, Count: strconv.Itoa(c.Count)})
	}
	for _, g := range p.ExpertGroups {
		f.Groups = append(f.Groups, groupRow{Name: g.Name, Lead: g.Lead, Members: strconv.Itoa(g.Members)})
	}
	for i, n := range p.SystemsByLevel {
		f.Systems[i] = num(n)
	}
	return f
}

// orgFormFrom reads the posted form.
func orgFormFrom(r *http.Request) orgForm {
	r.ParseForm()
	pf := r.PostForm
	g := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f := orgForm{
		Code: g("code"), Name: g("name"), NameEN: g("name_en"), ShortName: g("short_name"), ParentID: g("parent_id"),
		Region: g("region"), ProvinceCode: g("province_code"), ClusterID: g("cluster_id"), Sector: g("sector"),
		Address: g("address"), IntakeEmail: g("intake_email"), IntakePhone: g("intake_phone"), Website: g("website"),
		TLP: g("tlp"), Roles: pf["roles"], RequireMFA: pf.Get("require_mfa") != "", Active: pf.Get("active") != "",
		LeadName: g("profile.security_lead.name"), LeadTitle: g("profile.security_lead.title"),
		LeadEmail: g("profile.security_lead.email"), LeadPhone: g("profile.security_lead.phone"),
		Capabilities: pf["profile.capabilities"], Staff: map[string]string{},
		TeamSize: g("profile.response_team_size"), ProfileYear: g("profile_year"), Notes: g("profile.notes"),
	}
	for _, sf := range org.StaffFields {
		if v := g("staff." + sf); v != "" {
			f.Staff[sf] = v
		}
	}
	names, counts := pf["cert_name"], pf["cert_count"]
	for i := range names {
		row := certRow{Name: strings.TrimSpace(names[i])}
		if i < len(counts) {
			row.Count = strings.TrimSpace(counts[i])
		}
		if row.Name != "" || row.Count != "" {
			f.Certs = append(f.Certs, row)
		}
	}
	gn, gl, gm := pf["group_name"], pf["group_lead"], pf["group_members"]
	for i := range gn {
		row := groupRow{Name: strings.TrimSpace(gn[i])}
		if i < len(gl) {
			row.Lead = strings.TrimSpace(gl[i])
		}
		if i < len(gm) {
			row.Members = strings.TrimSpace(gm[i])
		}
		if row.Name != "" || row.Lead != "" || row.Members != "" {
			f.Groups = append(f.Groups, row)
		}
	}
	for i := range f.Systems {
		f.Systems[i] = g("systems." + strconv.Itoa(i+1))
	}
	return f
}

// input turns the form into the service's input; what is not a number
// where a number is expected is refused here, before the service sees it.
func (f orgForm) input() (org.Input, error) {
	v := errs.Invalid("web: org form")
	atoi := func(name, s string) int {
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			v.Field(name, "orgs.err.whole_number")
		}
		return n
	}
	id := func(name, s string) int64 {
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			v.Field(name, "field.invalid_choice")
		}
		return n
	}
	in := org.Input{
		Code: f.Code, Name: f.Name, NameEN: f.NameEN, ShortName: f.ShortName, ParentID: id("parent_id", f.ParentID),
		Region: f.Region, ProvinceCode: f.ProvinceCode, ClusterID: id("cluster_id", f.ClusterID),
		Sector: org.Sector(f.Sector), Address: f.Address, IntakeEmail: f.IntakeEmail, IntakePhone: f.IntakePhone,
		Website: f.Website, SecurityLead: f.LeadName, ProfileYear: atoi("profile_year", f.ProfileYear),
		RequireMFA: f.RequireMFA, Active: f.Active, TLP: policy.TLP(f.TLP),
	}
	for _, r := range f.Roles {
		in.Roles = append(in.Roles, org.Role(r))
	}
	p := &in.Profile
	p.SecurityLead = org.Person{Name: f.LeadName, Title: f.LeadTitle, Email: f.LeadEmail, Phone: f.LeadPhone}
	p.Capabilities = f.Capabilities
	p.ResponseTeamSize = atoi("profile.response_team_size", f.TeamSize)
	p.Notes = f.Notes
	for _, sf := range org.StaffFields {
		if n := atoi("staff."+sf, f.Staff[sf]); n != 0 {
			p.Staff = append(p.Staff, org.StaffCount{Field: sf, Count: n})
		}
	}
	for _, c := range f.Certs {
		p.Certificates = append(p.Certificates, org.CertCount{Name: c.Name, Count: atoi("profile.certificates", c.Count)})
	}
	for _, g := range f.Groups {
		p.ExpertGroups = append(p.ExpertGroups, org.ExpertGroup{Name: g.Name, Lead: g.Lead,
			Members: atoi("profile.expert_groups", g.Members)})
	}
	for i, s := range f.Systems {
		p.SystemsByLevel[i] = atoi("systems."+strconv.Itoa(i+1), s)
	}
	return in, v.OrNil()
}

// orgFormView is the create and edit form.
type orgFormView struct {
	Base
	Edit         bool
	ID           int64
	Action       string
	Cancel       string
	OrgTLP       policy.TLP
	Main         []fieldset
	Lead         fieldset
	Notes        field
	Roles        []option
	Capabilities []option
	Staff        []field
	Systems      []field
	Certs        []certRow
	Groups       []groupRow
	RequireMFA   bool
	Active       bool
}

// errOf returns the message of a field, and aliases the service's
// top-level security lead to the form's profile field.
func (v orgFormView) errOf(name string) string {
	if m := v.Err(name); m != "" {
		return m
	}
	if name == "profile.security_lead.name" {
		return v.Err("security_lead")
	}
	return ""
}

// buildOrgForm lays out the form for f.
func (s *Server) buildOrgForm(r *http.Request, v *orgFormView, f orgForm) {
	T := v.T
	txt := func(name, label, value string, req bool, auto string) field {
		return field{Name: name, ID: "f-" + strings.ReplaceAll(name, ".", "-"), Label: T(label), Type: "text",
			Value: value, Required: req, Auto: auto, Err: v.errOf(name)}
	}
	typed := func(fl field, typ string) field { fl.Type = typ; return fl }
	wide := func(fl field) field { fl.Wide = true; return fl }
	sel := func(name, label string, value string, opts []option, blank string) field {
		fl := txt(name, label, value, false, "")
		fl.Type = "select"
		fl.Options = append([]option{{Value: "", Label: T(blank), Selected: value == ""}}, opts...)
		return fl
	}
	numf := func(name, label, value string) field {
		fl := txt(name, label, value, false, "")
		fl.Type, fl.Min = "number", "0"
		return fl
	}
	code := txt("code", "orgs.f.code", f.Code, true, "off")
	code.Help = T("orgs.f.code_help")
	tlps := make([]option, 0, len(orgTLPs))
	for _, tl := range orgTLPs {
		tlps = append(tlps, option{Value: string(tl), Label: tl.Label(), Selected: f.TLP == string(tl) ||
			(f.TLP == "" && tl == policy.TLPGreen)})
	}
	tlp := txt("tlp", "orgs.f.tlp", f.TLP, false, "")
	tlp.Type, tlp.Options, tlp.Help = "select", tlps, T("orgs.f.tlp_help")
	address := typed(txt("address", "orgs.f.address", f.Address, false, "street-address"), "textarea")
	region := sel("region", "orgs.f.region", f.Region, regionOptions(v.Base, f.Region), "orgs.f.region_auto")
	region.Help = T("orgs.f.region_help")
	parent := sel("parent_id", "orgs.f.parent", f.ParentID, s.parentOptions(r, v.ID, f.ParentID), "orgs.f.no_parent")
	if f.ParentID != "" && !whoFrom(r).Actor.Scope.All {
		parent.Options = parent.Options[1:] // only the national scope may make a root organisation
	}
	v.Main = []fieldset{
		{ID: "identity", Legend: T("orgs.fs.identity"), Fields: []field{
			code,
			wide(txt("name", "orgs.f.name", f.Name, true, "organization")),
			txt("name_en", "orgs.f.name_en", f.NameEN, false, "off"),
			txt("short_name", "orgs.f.short_name", f.ShortName, false, "off"),
			tlp,
		}},
		{ID: "place", Legend: T("orgs.fs.place"), Fields: []field{
			parent,
			sel("province_code", "orgs.f.province", f.ProvinceCode, s.provinceOptions(r, f.ProvinceCode), "orgs.f.none"),
			region,
			sel("cluster_id", "orgs.f.cluster", f.ClusterID, s.clusterOptions(r, f.ClusterID), "orgs.f.none"),
			sel("sector", "orgs.f.sector", f.Sector, sectorOptions(v.Base, f.Sector), "orgs.f.none"),
		}},
		{ID: "intake", Legend: T("orgs.fs.intake"), Fields: []field{
			typed(txt("intake_email", "orgs.f.intake_email", f.IntakeEmail, false, "email"), "email"),
			typed(txt("intake_phone", "orgs.f.intake_phone", f.IntakePhone, false, "tel"), "tel"),
			typed(txt("website", "orgs.f.website", f.Website, false, "url"), "url"),
			address,
		}},
	}
	v.Roles = roleOptions(v.Base, f.Roles)
	for _, c := range org.Capabilities {
		v.Capabilities = append(v.Capabilities, option{Value: c, Label: T("org.capability." + c),
			Selected: slices.Contains(f.Capabilities, c)})
	}
	for _, sf := range org.StaffFields {
		v.Staff = append(v.Staff, numf("staff."+sf, "org.staff_field."+sf, f.Staff[sf]))
	}
	for i := range f.Systems {
		fl := numf("systems."+strconv.Itoa(i+1), "", f.Systems[i])
		fl.Label = T("orgs.f.level", i+1)
		if fl.Err == "" {
			fl.Err = v.Err("profile.systems_by_level")
		}
		v.Systems = append(v.Systems, fl)
	}
	v.Certs = append(f.Certs, certRow{}, certRow{})
	v.Groups = append(f.Groups, groupRow{}, groupRow{})
	v.RequireMFA, v.Active = f.RequireMFA, f.Active
	v.Lead = fieldset{ID: "profile-lead", Legend: T("orgs.fs.lead"), Fields: []field{
		txt("profile.security_lead.name", "orgs.f.lead_name", f.LeadName, false, "off"),
		txt("profile.security_lead.title", "orgs.f.lead_title", f.LeadTitle, false, "off"),
		typed(txt("profile.security_lead.email", "orgs.f.lead_email", f.LeadEmail, false, "off"), "email"),
		typed(txt("profile.security_lead.phone", "orgs.f.lead_phone", f.LeadPhone, false, "off"), "tel"),
		numf("profile.response_team_size", "orgs.f.team_size", f.TeamSize),
		numf("profile_year", "orgs.f.profile_year", f.ProfileYear),
	}}
	v.Lead.Fields[4].Help = T("orgs.f.team_size_help")
	v.Lead.Fields[5].Help = T("orgs.f.profile_year_help")
	v.Lead.Fields[5].Max = strconv.Itoa(s.Now().Year() + 1)
	v.Notes = typed(txt("profile.notes", "orgs.f.notes", f.Notes, false, "off"), "textarea")
}

// parentOptions lists the organisations that may be chosen as parent: those
// the actor may create under (a new organisation) or update (a move), and
// the current parent. The organisation itself is left out.
func (s *Server) parentOptions(r *http.Request, self int64, selected string) []option {
	wh := whoFrom(r)
	orgs, _, err := s.Orgs.List(r.Context(), wh.Actor, org.ListFilter{Limit: 5000})
	if err != nil {
		s.Log.Warn("web: parent choices", "err", err)
		return nil
	}
	act := policy.OrgCreate
	if self != 0 {
		act = policy.OrgUpdate
	}
	out := []option{}
	for _, o := range orgs {
		id := itoa(o.ID)
		if o.ID == self || (id != selected && !policy.Allowed(wh.Actor, act, o.Resource())) {
			continue
		}
		out = append(out, option{Value: id, Label: o.Code + " — " + o.Name, Selected: id == selected})
	}
	return out
}

func (s *Server) handleOrgNew(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if !policy.Allowed(wh.Actor, policy.OrgCreate, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPGreen}) {
		s.renderError(w, r, errs.Forbidden("web: new org"), "")
		return
	}
	in := org.Input{Active: true, TLP: policy.TLPGreen, ParentID: wh.User.OrgID}
	s.showOrgForm(w, r, http.StatusOK, 0, orgFormOf(in), nil)
}

func (s *Server) handleOrgCreate(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	f := orgFormFrom(r)
	in, err := f.input()
	if err == nil {
		var o org.Org
		if o, err = s.Orgs.Create(r.Context(), wh.Actor, in); err == nil {
			s.redirect(w, r, "/orgs/"+itoa(o.ID), "orgs.flash.created")
			return
		}
	}
	s.orgFormFailed(w, r, 0, f, err)
}

func (s *Server) handleOrgEdit(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgForUpdate(w, r)
	if !ok {
		return
	}
	s.showOrgForm(w, r, http.StatusOK, o.ID, orgFormOf(org.InputOf(o)), nil)
}

func (s *Server) handleOrgUpdate(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgForUpdate(w, r)
	if !ok {
		return
	}
	f := orgFormFrom(r)
	in, err := f.input()
	if err == nil {
		if _, err = s.Orgs.Update(r.Context(), whoFrom(r).Actor, o.ID, in); err == nil {
			s.redirect(w, r, "/orgs/"+itoa(o.ID), "orgs.flash.updated")
			return
		}
	}
	s.orgFormFailed(w, r, o.ID, f, err)
}

// orgForUpdate loads the organisation of the path for its edit form; it
// answers 404 or 403 itself when the user may not see or change it.
func (s *Server) orgForUpdate(w http.ResponseWriter, r *http.Request) (org.Org, bool) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return org.Org{}, false
	}
	o, err := s.Orgs.Get(r.Context(), wh.Actor, id)
	if err == nil {
		err = policy.Check(wh.Actor, policy.OrgUpdate, o.Resource())
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return org.Org{}, false
	}
	return o, true
}

// orgFormFailed shows the form again with what was typed and what is wrong,
// or the error page when the error is not about the form.
func (s *Server) orgFormFailed(w http.ResponseWriter, r *http.Request, id int64, f orgForm, err error) {
	if !formProblem(err) {
		s.renderError(w, r, err, "")
		return
	}
	s.showOrgForm(w, r, statusOf[errs.KindOf(err)], id, f, err)
}

func (s *Server) showOrgForm(w http.ResponseWriter, r *http.Request, status int, id int64, f orgForm, err error) {
	title := "orgs.new_title"
	if id != 0 {
		title = "orgs.edit_title"
	}
	v := orgFormView{Base: s.base(r, title), Edit: id != 0, ID: id, Action: "/orgs", Cancel: "/orgs",
		OrgTLP: policy.TLP(f.TLP)}
	if v.OrgTLP == "" {
		v.OrgTLP = policy.TLPGreen
	}
	if id != 0 {
		v.Action, v.Cancel = "/orgs/"+itoa(id), "/orgs/"+itoa(id)
		if f.Name != "" {
			v.Title = v.T("orgs.edit_title_of", f.Name)
		}
	}
	if err != nil {
		v.formErrors(err)
	}
	s.buildOrgForm(r, &v, f)
	s.render(w, r, status, tplOrgForm, v)
}
