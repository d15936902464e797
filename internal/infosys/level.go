package infosys

import (
	"slices"

	"certnet/internal/errs"
)

// The level questionnaire: answers to the criteria of NĐ 85/2016 Điều 7–11
// (as DOMAIN.md sums them up) from which a level is proposed with its
// reasons.

// Scopes of a system's use and infrastructure.
const (
	ScopeInternal     = "internal"     // internal work of one organisation
	ScopeOrganisation = "organisation" // one organisation's infrastructure serving people
	ScopeShared       = "shared"       // shared infrastructure of a sector or a province
	ScopeNational     = "national"     // national e-government or nationwide infrastructure
)

// Harm if the system is attacked.
const (
	HarmMinor       = "minor"       // to the organisation's own work
	HarmOrg         = "org"         // to the rights of organisations and people
	HarmSerious     = "serious"     // serious to public order and society
	HarmDefence     = "defence"     // serious to defence and national security
	HarmEspSerious  = "esp_serious" // especially serious to defence and national security
	personalLevel3  = 10_000
	minJustifyRunes = 20
)

// Scopes and Harms list the choices, in order.
var (
	Scopes = []string{ScopeInternal, ScopeOrganisation, ScopeShared, ScopeNational}
	Harms  = []string{HarmMinor, HarmOrg, HarmSerious, HarmDefence, HarmEspSerious}
)

// Answers are the questionnaire's answers.
type Answers struct {
	Scope              string `json:"scope"`
	DataKind           string `json:"data_kind"`
	PersonalCount      int64  `json:"personal_count"`
	PublicServiceLevel int    `json:"public_service_level"`
	Always24x7         bool   `json:"always_24x7"`
	International      bool   `json:"international"`
	Harm               string `json:"harm"`
}

// Reason is one criterion met, as a catalogue message, with the level it
// leads to.
type Reason struct {
	Level int      `json:"level"`
	Msg   errs.Msg `json:"msg"`
}

// Validate checks the answers.
func (x Answers) Validate(v *errs.Error) {
	if !slices.Contains(Scopes, x.Scope) {
		v.Field("scope", "field.invalid_choice")
	}
	if !slices.Contains(DataKinds, x.DataKind) {
		v.Field("data_kind", "field.invalid_choice")
	}
	if x.PersonalCount < 0 || x.PersonalCount > MaxPersonal {
		v.Field("personal_count", "infosys.err.count", MaxPersonal)
	}
	if x.PublicServiceLevel < 0 || x.PublicServiceLevel > 4 {
		v.Field("public_service_level", "infosys.err.psl")
	}
	if !slices.Contains(Harms, x.Harm) {
		v.Field("harm", "field.invalid_choice")
	}
}

// Propose returns the level the answers lead to and every criterion met,
// highest level first. It never fails: unknown answers count for nothing.
func Propose(x Answers) (int, []Reason) {
	var rs []Reason
	add := func(level int, key string, args ...any) {
		rs = append(rs, Reason{Level: level, Msg: errs.Msg{Key: key, Args: args}})
	}
	switch x.DataKind {
	case DataNational:
		add(5, "infosys.reason.national_data")
	case DataSecret:
		add(3, "infosys.reason.secret")
	case DataPersonal:
		if x.PersonalCount >= personalLevel3 {
			add(3, "infosys.reason.personal_many", x.PersonalCount)
		} else {
			add(2, "infosys.reason.personal_few", x.PersonalCount)
		}
	}
	if x.International {
		add(5, "infosys.reason.international")
	}
	switch x.Harm {
	case HarmEspSerious:
		add(5, "infosys.reason.harm_esp_serious")
	case HarmDefence:
		add(4, "infosys.reason.harm_defence")
	case HarmSerious:
		add(3, "infosys.reason.harm_serious")
	case HarmOrg:
		add(2, "infosys.reason.harm_org")
	}
	switch x.Scope {
	case ScopeNational:
		if x.Always24x7 {
			add(4, "infosys.reason.national_247")
		} else {
			add(3, "infosys.reason.national")
		}
	case ScopeShared:
		add(3, "infosys.reason.shared")
	case ScopeOrganisation:
		add(2, "infosys.reason.organisation")
	}
	if x.PublicServiceLevel >= 3 {
		add(3, "infosys.reason.psl", x.PublicServiceLevel)
	}
	level := 1
	for _, r := range rs {
		level = max(level, r.Level)
	}
	if len(rs) == 0 {
		add(1, "infosys.reason.internal_public")
	}
	slices.SortStableFunc(rs, func(a, b Reason) int { return b.Level - a.Level })
	return level, rs
}
