// Package org is the network registry: the organisations of the incident
// response network, their roles in it (QĐ 05 Điều 7, TT 20 Điều 5–6), their
// place in the hierarchy, clusters and provinces, their contact points (with
// history), their member profile (form 01) and their constituency — IP
// ranges, AS numbers and domains — with the whois index that answers "who
// owns this address?" on the ingest hot path.
package org

import (
	"slices"
	"time"

	"certnet/internal/policy"
)

// Role is a role an organisation holds in the network. One organisation may
// hold several. These are network roles, not user roles (policy.Role).
type Role string

// Network roles (QĐ 05/2017 Điều 7, TT 20/2017 Điều 5–6).
const (
	RoleNationalCoordinator    Role = "national_coordinator"
	RoleStandingBody           Role = "standing_body"
	RoleMonitoringCentre       Role = "monitoring_centre"
	RoleMinistryResponseUnit   Role = "ministry_response_unit"
	RoleProvincialResponseUnit Role = "provincial_response_unit"
	RoleSectorCERT             Role = "sector_cert"
	RoleProvincialSOC          Role = "provincial_soc"
	RoleIOCProvincial          Role = "ioc_provincial"
	RoleIOCCity                Role = "ioc_city"
	RoleISP                    Role = "isp"
	RoleSystemOwner            Role = "system_owner"
	RoleVoluntaryMember        Role = "voluntary_member"
)

// Roles lists every network role in display order.
var Roles = []Role{
	RoleNationalCoordinator, RoleStandingBody, RoleMonitoringCentre, RoleMinistryResponseUnit,
	RoleProvincialResponseUnit, RoleSectorCERT, RoleProvincialSOC, RoleIOCProvincial, RoleIOCCity,
	RoleISP, RoleSystemOwner, RoleVoluntaryMember,
}

// ValidRole reports whether r is a known network role.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// LabelKey is the i18n key of the role's name.
func (r Role) LabelKey() string { return "org.role." + string(r) }

// National reports whether the role gives its organisation's people the
// whole network as their scope.
func (r Role) National() bool { return r == RoleNationalCoordinator || r == RoleStandingBody }

// Sector is one of the 11 critical sectors of QĐ 632/QĐ-TTg 2017.
type Sector string

// Critical sectors.
const (
	SectorTransport            Sector = "transport"
	SectorEnergy               Sector = "energy"
	SectorResourcesEnvironment Sector = "resources_environment"
	SectorInformation          Sector = "information"
	SectorHealth               Sector = "health"
	SectorFinance              Sector = "finance"
	SectorBanking              Sector = "banking"
	SectorDefence              Sector = "defence"
	SectorPublicSecurity       Sector = "public_security"
	SectorUrban                Sector = "urban"
	SectorGovernment           Sector = "government"
)

// Sectors lists the critical sectors in the order of QĐ 632.
var Sectors = []Sector{
	SectorTransport, SectorEnergy, SectorResourcesEnvironment, SectorInformation, SectorHealth,
	SectorFinance, SectorBanking, SectorDefence, SectorPublicSecurity, SectorUrban, SectorGovernment,
}

// ValidSector reports whether s is a known sector.
func ValidSector(s Sector) bool { return slices.Contains(Sectors, s) }

// LabelKey is the i18n key of the sector's name.
func (s Sector) LabelKey() string { return "org.sector." + string(s) }

// Regions are the three regions of the country.
var Regions = []string{"north", "central", "south"}

// RegionLabelKey is the i18n key of a region's name.
func RegionLabelKey(r string) string { return "org.region." + r }

// Capabilities a member declares in its profile (form 01).
var Capabilities = []string{
	"incident_handling", "monitoring", "forensics", "malware_analysis", "vulnerability_assessment",
	"penetration_testing", "threat_intelligence", "threat_hunting", "training",
}

// StaffFields are the fields staff are counted by in the profile (form 01).
var StaffFields = []string{
	"management", "network_security", "system_security", "application_security", "monitoring",
	"incident_response", "forensics", "other",
}

// Profile is the member profile of form 01 (TT 20/2017), kept current every
// year: security lead, capabilities, staff by field, certificates, expert
// groups and the organisation's information systems by security level.
type Profile struct {
	SecurityLead     Person        `json:"security_lead"`
	Capabilities     []string      `json:"capabilities,omitempty"`
	Staff            []StaffCount  `json:"staff,omitempty"`
	Certificates     []CertCount   `json:"certificates,omitempty"`
	ExpertGroups     []ExpertGroup `json:"expert_groups,omitempty"`
	ResponseTeamSize int           `json:"response_team_size,omitempty"`
	// SystemsByLevel counts information systems by security level: index 0
	// is level 1 … index 4 is level 5 (NĐ 85/2016).
	SystemsByLevel [5]int `json:"systems_by_level"`
	Notes          string `json:"notes,omitempty"`
}

// Person is a named person in a profile.
type Person struct {
	Name  string `json:"name,omitempty"`
	Title string `json:"title,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// StaffCount is how many staff work in one field.
type StaffCount struct {
	Field string `json:"field"`
	Count int    `json:"count"`
}

// CertCount is how many staff hold a certificate (e.g. "CISSP").
type CertCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ExpertGroup is a group of experts the member can put at the network's
// disposal.
type ExpertGroup struct {
	Name    string `json:"name"`
	Lead    string `json:"lead,omitempty"`
	Members int    `json:"members"`
}

// Org is an organisation of the network.
type Org struct {
	ID           int64      `json:"id"`
	Code         string     `json:"code"`
	Name         string     `json:"name"`
	NameEN       string     `json:"name_en,omitempty"`
	ShortName    string     `json:"short_name,omitempty"`
	ParentID     int64      `json:"parent_id,omitempty"`
	Region       string     `json:"region,omitempty"`
	ProvinceCode string     `json:"province_code,omitempty"`
	ClusterID    int64      `json:"cluster_id,omitempty"`
	Sector       Sector     `json:"sector,omitempty"`
	Address      string     `json:"address,omitempty"`
	IntakeEmail  string     `json:"intake_email,omitempty"`
	IntakePhone  string     `json:"intake_phone,omitempty"`
	Website      string     `json:"website,omitempty"`
	SecurityLead string     `json:"security_lead,omitempty"`
	Profile      Profile    `json:"profile"`
	ProfileYear  int        `json:"profile_year,omitempty"`
	RequireMFA   bool       `json:"require_mfa"`
	Active       bool       `json:"active"`
	TLP          policy.TLP `json:"tlp"`
	Roles        []Role     `json:"roles"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`

	// Filled on reads.
	ParentName   string `json:"parent_name,omitempty"`
	ProvinceName string `json:"province_name,omitempty"`
	ClusterName  string `json:"cluster_name,omitempty"`
	// ContactsUpdatedAt is the last change to the contact points, zero if
	// there was none.
	ContactsUpdatedAt time.Time `json:"contacts_updated_at,omitzero"`
}

// Has reports whether the organisation holds role r.
func (o Org) Has(r Role) bool { return slices.Contains(o.Roles, r) }

// Resource is the organisation as a policy resource.
func (o Org) Resource() policy.Resource { return policy.Resource{OwnerOrg: o.ID, TLP: o.TLP} }

// Input is every editable field of an organisation. Create uses every
// field as given (set Active to true for a working member); Update replaces
// every field.
type Input struct {
	Code         string
	Name         string
	NameEN       string
	ShortName    string
	ParentID     int64
	Region       string
	ProvinceCode string
	ClusterID    int64
	Sector       Sector
	Address      string
	IntakeEmail  string
	IntakePhone  string
	Website      string
	SecurityLead string
	Profile      Profile
	ProfileYear  int
	RequireMFA   bool
	Active       bool
	// TLP of the directory entry; "" means GREEN (any network member may
	// read the directory). RED is refused.
	TLP   policy.TLP
	Roles []Role
}

// InputOf returns the input that reproduces o, for edit forms.
func InputOf(o Org) Input {
	return Input{
		Code: o.Code, Name: o.Name, NameEN: o.NameEN, ShortName: o.ShortName, ParentID: o.ParentID,
		Region: o.Region, ProvinceCode: o.ProvinceCode, ClusterID: o.ClusterID, Sector: o.Sector,
		Address: o.Address, IntakeEmail: o.IntakeEmail, IntakePhone: o.IntakePhone, Website: o.Website,
		SecurityLead: o.SecurityLead, Profile: o.Profile, ProfileYear: o.ProfileYear,
		RequireMFA: o.RequireMFA, Active: o.Active, TLP: o.TLP, Roles: slices.Clone(o.Roles),
	}
}
