package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// Templates of the organisation pages.
const (
	tplOrgs           = "orgs.html"
	tplOrg            = "org.html"
	tplOrgForm        = "org_form.html"
	tplContactHistory = "org_contact_history.html"
	tplWhois          = "whois.html"
	tplImport         = "import.html"
)

// orgsPerPage is the size of a page of the directory.
const orgsPerPage = 50

// option is one choice of a select, a checkbox list or a filter.
type option struct {
	Value    string
	Label    string
	Title    string // a longer label, shown on hover
	Selected bool
}

// choices labels values for a select: the label of x is the catalogue's
// prefix+x ("none" for the empty value).
func (b Base) choices(prefix string, values []string) []option {
	out := make([]option, len(values))
	for i, x := range values {
		out[i] = option{Value: x, Label: b.T(prefix + orNone(x))}
	}
	return out
}

// orgFilter is the directory's filter as it stands in the URL, so a list
// can be bookmarked and shared.
type orgFilter struct {
	Q, Role, Province, Sector, Cluster, Region, Sort string
	Page                                             int
}

func parseOrgFilter(r *http.Request) orgFilter {
	q := r.URL.Query()
	f := orgFilter{
		Q: strings.TrimSpace(q.Get("q")), Role: q.Get("role"), Province: q.Get("province"), Sector: q.Get("sector"),
		Cluster: q.Get("cluster"), Region: q.Get("region"), Sort: q.Get("sort"), Page: intQuery(r, "page"),
	}
	if f.Page < 1 {
		f.Page = 1
	}
	return f
}

// values is the filter as query parameters, without the page.
func (f orgFilter) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"q", f.Q}, {"role", f.Role}, {"province", f.Province}, {"sector", f.Sector},
		{"cluster", f.Cluster}, {"region", f.Region}, {"sort", f.Sort}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// href is the directory (or an export) with the filter and a page.
func (f orgFilter) href(path string, page int) string {
	v := f.values()
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// list is the service's filter for this page; limit 0 means one page.
func (f orgFilter) list(limit int) (org.ListFilter, error) {
	lf := org.ListFilter{Q: f.Q, Role: org.Role(f.Role), ProvinceCode: f.Province, Sector: org.Sector(f.Sector),
		Region: f.Region, Sort: f.Sort, Limit: limit}
	if limit == 0 {
		lf.Limit, lf.Offset = orgsPerPage, (f.Page-1)*orgsPerPage
	}
	if f.Cluster != "" {
		id, err := strconv.ParseInt(f.Cluster, 10, 64)
		if err != nil || id <= 0 {
			return lf, errs.Invalid("web: org filter").Field("cluster", "field.invalid_choice")
		}
		lf.ClusterID = id
	}
	return lf, nil
}

type orgListView struct {
	Base
	F         orgFilter
	Orgs      []org.Org
	Total     int
	Range     string // "1–50 / 123"
	PrevHref  string
	NextHref  string
	CSVHref   string
	XLSXHref  string
	Roles     []option
	Sectors   []option
	Regions   []option
	Provinces []option
	Clusters  []option
	Sorts     []option
	Filtered  bool
}

// RoleShort is the short label of a role, for badges.
func (v orgListView) RoleShort(r org.Role) string { return v.T("orgs.role_short." + string(r)) }

func (s *Server) handleOrgList(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	f := parseOrgFilter(r)
	v := orgListView{Base: s.base(r, "orgs.title"), F: f}
	v.Filtered = f.Q != "" || f.Role != "" || f.Province != "" || f.Sector != "" || f.Cluster != "" || f.Region != ""
	s.filterChoices(r, &v)
	v.CSVHref, v.XLSXHref = f.href("/orgs.csv", 1), f.href("/orgs.xlsx", 1)
	lf, err := f.list(0)
	var orgs []org.Org
	var total int
	if err == nil {
		orgs, total, err = s.Orgs.List(r.Context(), wh.Actor, lf)
	}
	if err != nil {
		if !errs.Is(err, errs.KindInvalid) {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplOrgs, v)
		return
	}
	v.Orgs, v.Total = orgs, total
	if total > 0 {
		from := lf.Offset + 1
		to := lf.Offset + len(orgs)
		if len(orgs) == 0 {
			from, to = 0, 0
		}
		v.Range = v.T("orgs.range", v.Num(from), v.Num(to), v.Num(total))
	}
	if f.Page > 1 {
		v.PrevHref = f.href("/orgs", min(f.Page-1, (total+orgsPerPage-1)/orgsPerPage))
	}
	if lf.Offset+len(orgs) < total {
		v.NextHref = f.href("/orgs", f.Page+1)
	}
	s.render(w, r, http.StatusOK, tplOrgs, v)
}

// filterChoices fills the choices of the directory's filters.
func (s *Server) filterChoices(r *http.Request, v *orgListView) {
	v.Roles = roleOptions(v.Base, []string{v.F.Role})
	v.Sectors = sectorOptions(v.Base, v.F.Sector)
	v.Regions = regionOptions(v.Base, v.F.Region)
	v.Provinces = s.provinceOptions(r, v.F.Province)
	v.Clusters = s.clusterOptions(r, v.F.Cluster)
	for _, k := range []string{"name", "code", "province", "updated"} {
		v.Sorts = append(v.Sorts, option{Value: k, Label: v.T("orgs.sort." + k), Selected: v.F.Sort == k})
	}
}

func roleOptions(b Base, selected []string) []option {
	out := make([]option, 0, len(org.Roles))
	for _, r := range org.Roles {
		out = append(out, option{Value: string(r), Label: b.T(r.LabelKey()), Selected: slices.Contains(selected, string(r))})
	}
	return out
}

func sectorOptions(b Base, selected string) []option {
	out := make([]option, 0, len(org.Sectors))
	for _, s := range org.Sectors {
		out = append(out, option{Value: string(s), Label: b.T(s.LabelKey()), Selected: selected == string(s)})
	}
	return out
}

func regionOptions(b Base, selected string) []option {
	out := make([]option, 0, len(org.Regions))
	for _, r := range org.Regions {
		out = append(out, option{Value: r, Label: b.T(org.RegionLabelKey(r)), Selected: selected == r})
	}
	return out
}

// provinceOptions lists the provinces; an unreadable list leaves the
// select empty rather than failing the page.
func (s *Server) provinceOptions(r *http.Request, selected string) []option {
	provs, err := s.Orgs.Provinces(r.Context())
	if err != nil {
		s.Log.Warn("web: provinces", "err", err)
		return nil
	}
	out := make([]option, 0, len(provs))
	for _, p := range provs {
		out = append(out, option{Value: p.Code, Label: p.Name, Selected: selected == p.Code})
	}
	return out
}

func (s *Server) clusterOptions(r *http.Request, selected string) []option {
	cl, err := s.Orgs.Clusters(r.Context())
	if err != nil {
		s.Log.Warn("web: clusters", "err", err)
		return nil
	}
	out := make([]option, 0, len(cl))
	for _, c := range cl {
		id := itoa(c.ID)
		out = append(out, option{Value: id, Label: c.Name, Selected: selected == id})
	}
	return out
}

// orgTLPs are the labels a directory entry may carry (RED is refused).
var orgTLPs = []policy.TLP{policy.TLPClear, policy.TLPGreen, policy.TLPAmber, policy.TLPAmberStrict}
