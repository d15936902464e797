package demo

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"certnet/internal/org"
	"certnet/internal/policy"
)

// The data's own consistency, without a database.

var (
	networkRoles = strs(org.Roles)
	sectors      = strs(org.Sectors)
	regions      = org.Regions
	// Every address in the demo comes from these prefixes.
	allowedPrefixes = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	// The 34 provincial-level units since 1 July 2025 (Nghị quyết 202/2025/QH15).
	provinceNames = []string{"Hà Nội", "Huế", "Hải Phòng", "Đà Nẵng", "TP. Hồ Chí Minh", "Cần Thơ",
		"Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh",
		"Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên", "Ninh Bình",
		"Quảng Trị", "Quảng Ngãi", "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "Đồng Nai", "Tây Ninh",
		"Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang"}
	codeRE   = regexp.MustCompile(`^[A-Z0-9]+(-[A-Z0-9]+)*$`)
	domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+example$`)
	emailRE  = regexp.MustCompile(`^[a-z0-9._-]+@([a-z0-9-]+\.)+example$`)
	phoneRE  = regexp.MustCompile(`^0[0-9]{2,3}( [0-9]{3,4}){2}$`)
)

func strs[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

func load(t *testing.T) *Dataset {
	t.Helper()
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDataProvinces(t *testing.T) {
	d := load(t)
	if len(d.Provinces) != 34 {
		t.Fatalf("%d provinces, want 34", len(d.Provinces))
	}
	codes, names, orders := map[string]bool{}, map[string]bool{}, map[int]bool{}
	for _, p := range d.Provinces {
		if !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(p.Code) || codes[p.Code] {
			t.Errorf("province code %q: not three ASCII capitals or a duplicate", p.Code)
		}
		codes[p.Code] = true
		if names[p.Name] {
			t.Errorf("province name %q twice", p.Name)
		}
		names[p.Name] = true
		if !slices.Contains(regions, p.Region) {
			t.Errorf("province %s: region %q", p.Code, p.Region)
		}
		if p.SortOrder < 1 || p.SortOrder > 34 || orders[p.SortOrder] {
			t.Errorf("province %s: sort order %d out of 1..34 or a duplicate", p.Code, p.SortOrder)
		}
		orders[p.SortOrder] = true
		if p.FullName == "" || p.NameEn == "" || p.Slug == "" || !regexp.MustCompile(`^0[0-9]{2,3}$`).MatchString(p.AreaCode) {
			t.Errorf("province %s: full name, English name, slug or area code missing: %+v", p.Code, p)
		}
	}
	for _, n := range provinceNames {
		if !names[n] {
			t.Errorf("province %q missing", n)
		}
	}
}

func TestDataClusters(t *testing.T) {
	d := load(t)
	if len(d.Clusters) != 11 {
		t.Fatalf("%d clusters, want 11", len(d.Clusters))
	}
	prov := map[string]ProvinceData{}
	for _, p := range d.Provinces {
		prov[p.Code] = p
	}
	in := map[string]string{}
	codes := map[string]bool{}
	for _, c := range d.Clusters {
		if codes[c.Code] || !codeRE.MatchString(c.Code) || c.Name == "" {
			t.Errorf("cluster %q: bad or duplicate code, or no name", c.Code)
		}
		codes[c.Code] = true
		for _, p := range c.Provinces {
			if _, ok := prov[p]; !ok {
				t.Errorf("cluster %s: unknown province %s", c.Code, p)
			}
			if other, dup := in[p]; dup {
				t.Errorf("province %s in clusters %s and %s", p, other, c.Code)
			}
			in[p] = c.Code
		}
		if c.HeadYear != 2026 {
			t.Errorf("cluster %s: head year %d", c.Code, c.HeadYear)
		}
		if c.Head == c.Deputy {
			t.Errorf("cluster %s: head and deputy are both %s", c.Code, c.Head)
		}
		for _, code := range []string{c.Head, c.Deputy} {
			o := d.Org(code)
			if o == nil {
				t.Errorf("cluster %s: head/deputy %s is not an organisation", c.Code, code)
				continue
			}
			if !slices.Contains(o.Roles, "provincial_response_unit") || !slices.Contains(c.Provinces, o.Province) {
				t.Errorf("cluster %s: %s is not a response unit of one of its provinces", c.Code, code)
			}
		}
	}
	if len(in) != 34 {
		t.Errorf("clusters cover %d provinces, want all 34", len(in))
	}
}

func TestDataOrganisations(t *testing.T) {
	d := load(t)
	prov := map[string]bool{}
	for _, p := range d.Provinces {
		prov[p.Code] = true
	}
	clusterOf := map[string]string{}
	for _, c := range d.Clusters {
		for _, p := range c.Provinces {
			clusterOf[p] = c.Code
		}
	}
	seen := map[string]*OrgData{}
	names := map[string]bool{}
	byRole := map[string][]*OrgData{}
	var roots []string
	for i := range d.Orgs {
		o := &d.Orgs[i]
		if !codeRE.MatchString(o.Code) || seen[o.Code] != nil {
			t.Errorf("org code %q: malformed or a duplicate", o.Code)
		}
		if o.Name == "" || o.NameEn == "" || o.ShortName == "" || names[o.Name] {
			t.Errorf("org %s: name, English name or short name missing, or name %q used twice", o.Code, o.Name)
		}
		names[o.Name] = true
		if o.Parent == "" {
			roots = append(roots, o.Code)
		} else if seen[o.Parent] == nil {
			// Also proves there is no cycle: parents come first.
			t.Errorf("org %s: parent %q is not listed before it", o.Code, o.Parent)
		}
		seen[o.Code] = o
		if len(o.Roles) == 0 {
			t.Errorf("org %s: no role", o.Code)
		}
		for _, r := range o.Roles {
			if !slices.Contains(networkRoles, r) {
				t.Errorf("org %s: unknown role %q", o.Code, r)
			}
			byRole[r] = append(byRole[r], o)
		}
		if !slices.Contains(regions, o.Region) {
			t.Errorf("org %s: region %q", o.Code, o.Region)
		}
		if !prov[o.Province] {
			t.Errorf("org %s: unknown province %q", o.Code, o.Province)
		}
		if o.Cluster != "" && o.Cluster != clusterOf[o.Province] {
			t.Errorf("org %s: cluster %s but its province %s is in %s", o.Code, o.Cluster, o.Province, clusterOf[o.Province])
		}
		if o.Sector != "" && !slices.Contains(sectors, o.Sector) {
			t.Errorf("org %s: unknown sector %q", o.Code, o.Sector)
		}
		if slices.Contains(o.Roles, "sector_cert") && o.Sector == "" {
			t.Errorf("sector CERT %s has no sector", o.Code)
		}
		if o.Address == "" || !emailRE.MatchString(o.IntakeEmail) || !phoneRE.MatchString(o.IntakePhone) {
			t.Errorf("org %s: address, intake email %q or intake phone %q missing or malformed", o.Code, o.IntakeEmail, o.IntakePhone)
		}
		if o.Website != "" && (!strings.HasPrefix(o.Website, "https://") || !domainRE.MatchString(strings.TrimPrefix(o.Website, "https://"))) {
			t.Errorf("org %s: website %q", o.Code, o.Website)
		}
		if p := o.Profile; p != nil {
			if o.ProfileYear != 2026 || o.SecurityLead != p.SecurityLead.Name || p.SecurityLead.Name == "" ||
				!emailRE.MatchString(p.SecurityLead.Email) || len(p.Capabilities) == 0 || len(p.Staff) == 0 {
				t.Errorf("org %s: incomplete profile %+v", o.Code, p)
			}
			for _, c := range p.Capabilities {
				if !slices.Contains(org.Capabilities, c) {
					t.Errorf("org %s: unknown capability %q", o.Code, c)
				}
			}
			for _, c := range p.Staff {
				if !slices.Contains(org.StaffFields, c.Field) {
					t.Errorf("org %s: unknown staff field %q", o.Code, c.Field)
				}
			}
		} else if o.ProfileYear != 0 || o.SecurityLead != "" {
			t.Errorf("org %s: profile year or security lead without a profile", o.Code)
		}
	}
	if len(roots) != 1 || !slices.Contains(seen[roots[0]].Roles, "national_coordinator") {
		t.Fatalf("roots %v: want exactly one, the national coordinator", roots)
	}
	root := roots[0]
	for _, r := range []string{"national_coordinator", "standing_body", "monitoring_centre"} {
		if len(byRole[r]) != 1 {
			t.Errorf("%d organisations with role %s, want 1", len(byRole[r]), r)
		}
	}
	if n := len(byRole["isp"]); n != 3 {
		t.Errorf("%d ISPs, want 3", n)
	}
	for _, r := range []string{"ioc_provincial", "ioc_city", "system_owner", "voluntary_member"} {
		if len(byRole[r]) == 0 {
			t.Errorf("no organisation with role %s", r)
		}
	}

	// One response unit per province under the national coordinator, one SOC
	// per province under its response unit.
	unit := map[string]string{}
	for _, o := range byRole["provincial_response_unit"] {
		if unit[o.Province] != "" {
			t.Errorf("province %s has two response units", o.Province)
		}
		unit[o.Province] = o.Code
		if o.Parent != root {
			t.Errorf("response unit %s: parent %s, want %s", o.Code, o.Parent, root)
		}
		if o.Cluster == "" {
			t.Errorf("response unit %s has no cluster", o.Code)
		}
	}
	soc := map[string]bool{}
	for _, o := range byRole["provincial_soc"] {
		if soc[o.Province] {
			t.Errorf("province %s has two SOCs", o.Province)
		}
		soc[o.Province] = true
		if o.Parent != unit[o.Province] {
			t.Errorf("SOC %s: parent %s, want its province's response unit %s", o.Code, o.Parent, unit[o.Province])
		}
	}
	if len(unit) != 34 || len(soc) != 34 {
		t.Errorf("%d provinces with a response unit and %d with a SOC, want 34 each", len(unit), len(soc))
	}
	// One CERT per critical sector.
	certs := map[string]int{}
	for _, o := range byRole["sector_cert"] {
		certs[o.Sector]++
		if o.Parent != root {
			t.Errorf("sector CERT %s: parent %s, want %s", o.Code, o.Parent, root)
		}
	}
	for _, s := range sectors {
		if certs[s] != 1 {
			t.Errorf("sector %s has %d CERTs, want 1", s, certs[s])
		}
	}
	if len(byRole["sector_cert"]) != 11 {
		t.Errorf("%d sector CERTs, want 11", len(byRole["sector_cert"]))
	}
}

func TestDataContacts(t *testing.T) {
	d := load(t)
	needs := []string{"national_coordinator", "monitoring_centre", "provincial_response_unit", "provincial_soc", "sector_cert", "isp"}
	names := map[string]string{}
	emails := map[string]string{}
	for _, o := range d.Orgs {
		kinds := map[string]int{}
		for _, c := range o.Contacts {
			kinds[c.Kind]++
			if c.Kind != "primary" && c.Kind != "backup" {
				t.Errorf("org %s: contact kind %q", o.Code, c.Kind)
			}
			if c.Name == "" || c.Title == "" || !emailRE.MatchString(c.Email) || !phoneRE.MatchString(c.Phone) || !phoneRE.MatchString(c.Phone247) {
				t.Errorf("org %s: incomplete or malformed contact %+v", o.Code, c)
			}
			if other, dup := names[c.Name]; dup {
				t.Errorf("contact %q in %s and %s", c.Name, other, o.Code)
			}
			names[c.Name] = o.Code
			if other, dup := emails[c.Email]; dup {
				t.Errorf("contact email %q in %s and %s", c.Email, other, o.Code)
			}
			emails[c.Email] = o.Code
		}
		need := false
		for _, r := range needs {
			need = need || slices.Contains(o.Roles, r)
		}
		if need && (kinds["primary"] != 1 || kinds["backup"] != 1) {
			t.Errorf("org %s: %d primary and %d backup contacts, want one of each", o.Code, kinds["primary"], kinds["backup"])
		}
	}
}

func TestDataConstituency(t *testing.T) {
	d := load(t)
	type owned struct {
		p   netip.Prefix
		org string
	}
	var all []owned
	asns := map[int64]string{}
	domains := map[string]string{}
	size := map[string]float64{} // IPv4 addresses per organisation
	for _, o := range d.Orgs {
		for _, r := range o.Ranges {
			p, err := netip.ParsePrefix(r.CIDR)
			if err != nil {
				t.Errorf("org %s: %v", o.Code, err)
				continue
			}
			if p != p.Masked() {
				t.Errorf("org %s: %s has host bits set", o.Code, r.CIDR)
			}
			in := false
			for _, a := range allowedPrefixes {
				in = in || (a.Bits() <= p.Bits() && a.Contains(p.Addr()))
			}
			if !in {
				t.Errorf("org %s: %s is neither documentation nor private space", o.Code, r.CIDR)
			}
			if r.Note == "" {
				t.Errorf("org %s: range %s has no note", o.Code, r.CIDR)
			}
			for _, x := range all {
				if x.p.Overlaps(p) {
					t.Errorf("range %s of %s overlaps %s of %s", r.CIDR, o.Code, x.p, x.org)
				}
			}
			all = append(all, owned{p, o.Code})
			if p.Addr().Is4() {
				size[o.Code] += float64(uint64(1) << (32 - p.Bits()))
			}
		}
		for _, a := range o.ASNs {
			n, err := strconv.ParseInt(strings.TrimPrefix(a.ASN, "AS"), 10, 64)
			if err != nil || !strings.HasPrefix(a.ASN, "AS") {
				t.Errorf("org %s: ASN %q", o.Code, a.ASN)
				continue
			}
			if !(n >= 64496 && n <= 64511) && !(n >= 65536 && n <= 65551) {
				t.Errorf("org %s: AS%d is not a documentation ASN (RFC 5398)", o.Code, n)
			}
			if other, dup := asns[n]; dup {
				t.Errorf("AS%d owned by %s and %s", n, other, o.Code)
			}
			asns[n] = o.Code
		}
		for _, dm := range o.Domains {
			if !domainRE.MatchString(dm.Domain) {
				t.Errorf("org %s: domain %q is not under .example", o.Code, dm.Domain)
			}
			if other, dup := domains[dm.Domain]; dup {
				t.Errorf("domain %s owned by %s and %s", dm.Domain, other, o.Code)
			}
			domains[dm.Domain] = o.Code
		}
	}
	// The ISPs own most of the address space.
	var isps, others float64
	for _, o := range d.Orgs {
		if slices.Contains(o.Roles, "isp") {
			isps += size[o.Code]
		} else {
			others += size[o.Code]
		}
	}
	if isps <= others*10 {
		t.Errorf("ISPs own %.0f IPv4 addresses, the others %.0f: want the ISPs to own most", isps, others)
	}
}

func TestDataUsers(t *testing.T) {
	d := load(t)
	seen := map[string]bool{}
	roles := map[policy.Role]bool{}
	for _, u := range d.Users {
		if seen[u.Username] || !regexp.MustCompile(`^[a-z][a-z0-9._-]+$`).MatchString(u.Username) {
			t.Errorf("username %q: malformed or a duplicate", u.Username)
		}
		seen[u.Username] = true
		if d.Org(u.Org) == nil {
			t.Errorf("user %s: unknown organisation %s", u.Username, u.Org)
		}
		if u.DisplayName == "" || !emailRE.MatchString(u.Email) || (u.Locale != "vi" && u.Locale != "en") {
			t.Errorf("user %s: display name, email or locale missing or malformed", u.Username)
		}
		for _, r := range u.Roles {
			if !policy.ValidRole(policy.Role(r)) {
				t.Errorf("user %s: unknown role %q", u.Username, r)
			}
			roles[policy.Role(r)] = true
		}
	}
	for _, r := range policy.Roles {
		if !roles[r] {
			t.Errorf("no demo user has role %s", r)
		}
	}
}

// Every province has a cell of its own on the tile-grid map.
func TestDataProvinceMap(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[2]int]string{}
	for _, p := range d.Provinces {
		cell := [2]int{p.MapCol, p.MapRow}
		if other, dup := seen[cell]; dup {
			t.Errorf("%s and %s share the map cell %v", p.Name, other, cell)
		}
		seen[cell] = p.Name
		if p.MapCol < 0 || p.MapCol > 8 || p.MapRow < 0 || p.MapRow > 20 {
			t.Errorf("%s is off the map: %v", p.Name, cell)
		}
	}
}
