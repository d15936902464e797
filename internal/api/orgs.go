package api

import (
	"maps"
	"net/http"
	"strconv"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// orgBody is the writable shape of an organisation. PUT starts from the
// stored values, so a field left out keeps its value.
type orgBody struct {
	Code         string      `json:"code"`
	Name         string      `json:"name"`
	NameEN       string      `json:"name_en"`
	ShortName    string      `json:"short_name"`
	ParentID     int64       `json:"parent_id"`
	Region       string      `json:"region"`
	ProvinceCode string      `json:"province_code"`
	ClusterID    int64       `json:"cluster_id"`
	Sector       org.Sector  `json:"sector"`
	Address      string      `json:"address"`
	IntakeEmail  string      `json:"intake_email"`
	IntakePhone  string      `json:"intake_phone"`
	Website      string      `json:"website"`
	SecurityLead string      `json:"security_lead"`
	Profile      org.Profile `json:"profile"`
	ProfileYear  int         `json:"profile_year"`
	RequireMFA   bool        `json:"require_mfa"`
	Active       bool        `json:"active"`
	TLP          policy.TLP  `json:"tlp"`
	Roles        []org.Role  `json:"roles"`
}

func bodyOf(in org.Input) orgBody {
	return orgBody{Code: in.Code, Name: in.Name, NameEN: in.NameEN, ShortName: in.ShortName, ParentID: in.ParentID,
		Region: in.Region, ProvinceCode: in.ProvinceCode, ClusterID: in.ClusterID, Sector: in.Sector, Address: in.Address,
		IntakeEmail: in.IntakeEmail, IntakePhone: in.IntakePhone, Website: in.Website, SecurityLead: in.SecurityLead,
		Profile: in.Profile, ProfileYear: in.ProfileYear, RequireMFA: in.RequireMFA, Active: in.Active, TLP: in.TLP, Roles: in.Roles}
}

func (b orgBody) input() org.Input {
	return org.Input{Code: b.Code, Name: b.Name, NameEN: b.NameEN, ShortName: b.ShortName, ParentID: b.ParentID,
		Region: b.Region, ProvinceCode: b.ProvinceCode, ClusterID: b.ClusterID, Sector: b.Sector, Address: b.Address,
		IntakeEmail: b.IntakeEmail, IntakePhone: b.IntakePhone, Website: b.Website, SecurityLead: b.SecurityLead,
		Profile: b.Profile, ProfileYear: b.ProfileYear, RequireMFA: b.RequireMFA, Active: b.Active, TLP: b.TLP, Roles: b.Roles}
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := org.ListFilter{Q: q.Get("q"), Role: org.Role(q.Get("role")), ProvinceCode: q.Get("province"),
		Sector: org.Sector(q.Get("sector")), Region: q.Get("region"), Sort: q.Get("sort"), Limit: limit, Offset: offset}
	v := errs.Invalid("api: list orgs")
	if c := q.Get("cluster"); c != "" {
		if f.ClusterID, err = strconv.ParseInt(c, 10, 64); err != nil {
			v.Field("cluster", "field.invalid")
		}
	}
	if p := q.Get("parent"); p != "" {
		if f.ParentID, err = strconv.ParseInt(p, 10, 64); err != nil {
			v.Field("parent", "field.invalid")
		}
	}
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	orgs, total, err := s.Orgs.List(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	if orgs == nil {
		orgs = []org.Org{}
	}
	return List[org.Org]{Items: orgs, Total: total, Limit: limit, Offset: offset}, http.StatusOK, nil
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	b := orgBody{Active: true, TLP: policy.TLPGreen}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	o, err := s.Orgs.Create(r.Context(), a, b.input())
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", "/api/v1/orgs/"+strconv.FormatInt(o.ID, 10))
	return o, http.StatusCreated, nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	o, err := s.Orgs.Get(r.Context(), a, id)
	return o, http.StatusOK, err
}

func (s *Server) updateOrg(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	cur, err := s.Orgs.Get(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	b := bodyOf(org.InputOf(cur))
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	o, err := s.Orgs.Update(r.Context(), a, id, b.input())
	return o, http.StatusOK, err
}

func (s *Server) orgChildren(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	kids, err := s.Orgs.Children(r.Context(), a, id)
	if kids == nil {
		kids = []org.Org{}
	}
	return map[string]any{"items": kids}, http.StatusOK, err
}

type contactBody struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Phone247 string `json:"phone_247"`
	PGPKey   string `json:"pgp_key"`
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	cs, err := s.Orgs.Contacts(r.Context(), a, id)
	if cs == nil {
		cs = []org.Contact{}
	}
	return map[string]any{"items": cs}, http.StatusOK, err
}

func (s *Server) saveContact(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	in := org.ContactInput{}
	var b contactBody
	status := http.StatusCreated
	if r.PathValue("cid") != "" {
		cid, err := pathID(r, "cid")
		if err != nil {
			return nil, 0, err
		}
		cs, err := s.Orgs.Contacts(r.Context(), a, id)
		if err != nil {
			return nil, 0, err
		}
		found := false
		for _, c := range cs {
			if c.ID == cid {
				b = contactBody{Kind: c.Kind, Name: c.Name, Title: c.Title, Email: c.Email, Phone: c.Phone, Phone247: c.Phone247, PGPKey: c.PGPKey}
				found = true
			}
		}
		if !found {
			return nil, 0, errs.NotFound("api: contact")
		}
		in.ID = cid
		status = http.StatusOK
	}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in.Kind, in.Name, in.Title, in.Email, in.Phone, in.Phone247, in.PGPKey = b.Kind, b.Name, b.Title, b.Email, b.Phone, b.Phone247, b.PGPKey
	c, err := s.Orgs.SaveContact(r.Context(), a, id, in)
	return c, status, err
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, s.Orgs.DeleteContact(r.Context(), a, id, cid)
}

func (s *Server) contactHistory(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	h, err := s.Orgs.ContactHistory(r.Context(), a, id)
	if h == nil {
		h = []org.ContactChange{}
	}
	return map[string]any{"items": h}, http.StatusOK, err
}

// valueBody adds a range, an AS number or a domain.
type valueBody struct {
	Value string `json:"value"`
	Note  string `json:"note"`
}

func (s *Server) constituency(r *http.Request, a policy.Actor, kind string) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		var items any
		switch kind {
		case "ranges":
			items, err = nonNil(s.Orgs.Ranges(ctx, a, id))
		case "asns":
			items, err = nonNil(s.Orgs.ASNs(ctx, a, id))
		default:
			items, err = nonNil(s.Orgs.Domains(ctx, a, id))
		}
		return map[string]any{"items": items}, http.StatusOK, err
	case http.MethodPost:
		var b valueBody
		if err := decode(r, &b); err != nil {
			return nil, 0, err
		}
		var out any
		var field string
		switch kind {
		case "ranges":
			out, err = s.Orgs.AddRange(ctx, a, id, b.Value, b.Note)
			field = "cidr"
		case "asns":
			out, err = s.Orgs.AddASN(ctx, a, id, b.Value, b.Note)
			field = "asn"
		default:
			out, err = s.Orgs.AddDomain(ctx, a, id, b.Value, b.Note)
			field = "domain"
		}
		return out, http.StatusCreated, renameField(err, field, "value")
	default: // DELETE
		rid, err := pathID(r, "rid")
		if err != nil {
			return nil, 0, err
		}
		switch kind {
		case "ranges":
			err = s.Orgs.DeleteRange(ctx, a, id, rid)
		case "asns":
			err = s.Orgs.DeleteASN(ctx, a, id, rid)
		default:
			err = s.Orgs.DeleteDomain(ctx, a, id, rid)
		}
		return nil, http.StatusNoContent, err
	}
}

// renameField reports a field error under the name the client sent the
// field by: the registry names the constituency value "cidr", "asn" or
// "domain", the request body "value".
func renameField(err error, from, to string) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	m, ok := e.Fields[from]
	if !ok {
		return err
	}
	c := *e
	c.Fields = maps.Clone(e.Fields)
	delete(c.Fields, from)
	c.Fields[to] = m
	return &c
}

func nonNil[T any](items []T, err error) ([]T, error) {
	if items == nil {
		items = []T{}
	}
	return items, err
}

// constituencyOf is the handler of one kind of constituency ("ranges",
// "asns", "domains") for every method its routes take.
func (s *Server) constituencyOf(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
		return s.constituency(r, a, kind)
	}
}

func (s *Server) whois(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	q := r.URL.Query().Get("q")
	if q == "" {
		return nil, 0, errs.Invalid("api: whois").Field("q", "field.required")
	}
	res, err := s.Orgs.Whois(r.Context(), a, q)
	return res, http.StatusOK, err
}
