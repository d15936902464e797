// Package demo seeds the fictional demonstration network that
// `certnet serve --demo` starts with: the 34 provincial-level units in force
// since 1 July 2025, the 11 clusters, the national coordinator and monitoring
// centre, a response unit and a SOC per province, the 11 sector CERTs, three
// ISPs and a handful of members, with their contact points, constituency and
// one user per role.
//
// The network is data (data/*.json, embedded); the people, companies, phone
// numbers and addresses in it are fictional, every IP address comes from a
// documentation prefix or private space and every domain ends in .example.
// Seeding goes through the org and auth services, so every row is validated
// and audited like any other change.
package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
)

//go:embed data/*.json
var dataFS embed.FS

// Dataset is the demo network as read from the embedded files.
type Dataset struct {
	Provinces []ProvinceData
	Clusters  []ClusterData
	Orgs      []OrgData
	Users     []UserData
}

// ProvinceData is one provincial-level unit.
type ProvinceData struct {
	Code      string `json:"code"`      // stable ASCII code, e.g. "HNI"
	Name      string `json:"name"`      // short Vietnamese name, e.g. "Hà Nội"
	FullName  string `json:"full_name"` // e.g. "Thành phố Hà Nội", "Tỉnh Nghệ An"
	NameEn    string `json:"name_en"`
	Region    string `json:"region"` // north, central, south
	SortOrder int    `json:"sort_order"`
	Slug      string `json:"slug"`      // used in the fictional domains
	AreaCode  string `json:"area_code"` // landline area code of the provincial centre
	MapCol    int    `json:"map_col"`   // cell of the dashboards' tile-grid map
	MapRow    int    `json:"map_row"`
}

// ClusterData is one cluster (cụm) of provinces with its head and deputy
// (organisation codes of provincial response units).
type ClusterData struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Provinces []string `json:"provinces"`
	Head      string   `json:"head"`
	Deputy    string   `json:"deputy"`
	HeadYear  int      `json:"head_year"`
}

// OrgData is one organisation with its contact points and constituency.
// Parent, Province and Cluster are codes.
type OrgData struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	NameEn      string   `json:"name_en"`
	ShortName   string   `json:"short_name"`
	Roles       []string `json:"roles"`
	Parent      string   `json:"parent"`
	Region      string   `json:"region"`
	Province    string   `json:"province"`
	Cluster     string   `json:"cluster"`
	Sector      string   `json:"sector"`
	Address     string   `json:"address"`
	IntakeEmail string   `json:"intake_email"`
	IntakePhone string   `json:"intake_phone"`
	Website     string   `json:"website"`
	// SecurityLead, ProfileYear and Profile are the member profile (form
	// 01), filled for a few organisations.
	SecurityLead string        `json:"security_lead,omitempty"`
	ProfileYear  int           `json:"profile_year,omitempty"`
	Contacts     []ContactData `json:"contacts"`
	Ranges       []RangeData   `json:"ranges"`
	ASNs         []ASNData     `json:"asns"`
	Domains      []DomainData  `json:"domains"`
	Profile      *ProfileData  `json:"profile,omitempty"`
}

// ContactData is a contact point (đầu mối): kind is "primary" or "backup".
type ContactData struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Phone247 string `json:"phone_247"`
}

// RangeData is an IP range of the constituency.
type RangeData struct {
	CIDR string `json:"cidr"`
	Note string `json:"note"`
}

// ASNData is an autonomous system number ("AS64500").
type ASNData struct {
	ASN  string `json:"asn"`
	Note string `json:"note"`
}

// DomainData is a domain of the constituency.
type DomainData struct {
	Domain string `json:"domain"`
	Note   string `json:"note"`
}

// ProfileData is the member profile (form 01); its JSON has the shape of
// org.Profile.
type ProfileData struct {
	SecurityLead     PersonData        `json:"security_lead"`
	Capabilities     []string          `json:"capabilities"`
	Staff            []CountData       `json:"staff"`
	Certificates     []CountData       `json:"certificates"`
	ExpertGroups     []ExpertGroupData `json:"expert_groups"`
	ResponseTeamSize int               `json:"response_team_size"`
	SystemsByLevel   [5]int            `json:"systems_by_level"` // index 0 is level 1
	Notes            string            `json:"notes"`
}

// PersonData is a named person in a profile.
type PersonData struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// CountData counts staff in a field ("field") or holding a certificate
// ("name").
type CountData struct {
	Field string `json:"field,omitempty"`
	Name  string `json:"name,omitempty"`
	Count int    `json:"count"`
}

// ExpertGroupData is a group of experts the member offers the network.
type ExpertGroupData struct {
	Name    string `json:"name"`
	Lead    string `json:"lead"`
	Members int    `json:"members"`
}

// UserData is a demo user; the password is generated at seed time.
type UserData struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Email       string   `json:"email"`
	Org         string   `json:"org"`
	Roles       []string `json:"roles"`
	Locale      string   `json:"locale"`
	Purpose     string   `json:"purpose"`
}

// Load reads the embedded demo network. It does not check the data's
// consistency beyond decoding; the package tests do.
func Load() (*Dataset, error) {
	var d Dataset
	for _, f := range []struct {
		name string
		into any
	}{
		{"provinces.json", &d.Provinces},
		{"clusters.json", &d.Clusters},
		{"organisations.json", &d.Orgs},
		{"users.json", &d.Users},
	} {
		b, err := dataFS.ReadFile("data/" + f.name)
		if err != nil {
			return nil, fmt.Errorf("demo: read %s: %w", f.name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f.into); err != nil {
			return nil, fmt.Errorf("demo: decode %s: %w", f.name, err)
		}
	}
	return &d, nil
}

// Org returns the organisation with the code, or nil.
func (d *Dataset) Org(code string) *OrgData {
	for i := range d.Orgs {
		if d.Orgs[i].Code == code {
			return &d.Orgs[i]
		}
	}
	return nil
}
