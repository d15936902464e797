package org

import (
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Field length limits, in characters.
const (
	maxName     = 300
	maxShort    = 100
	maxAddress  = 500
	maxEmail    = 254
	maxPhone    = 40
	maxURL      = 500
	maxNote     = 1000
	maxNotes    = 5000
	maxListItem = 200
	maxList     = 100
	maxCount    = 1_000_000
	maxPGPKey   = 64 * 1024
)

var codeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{0,39}$`)

// normCode is the canonical form of a member code: trimmed, upper case.
func normCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// normalize trims every text field and puts codes, e-mail addresses, the
// TLP and the role list into their canonical form.
func normalize(in *Input) {
	in.Code = normCode(in.Code)
	in.Name = strings.TrimSpace(in.Name)
	in.NameEN = strings.TrimSpace(in.NameEN)
	in.ShortName = strings.TrimSpace(in.ShortName)
	in.Region = strings.ToLower(strings.TrimSpace(in.Region))
	in.ProvinceCode = strings.TrimSpace(in.ProvinceCode)
	in.Sector = Sector(strings.ToLower(strings.TrimSpace(string(in.Sector))))
	in.Address = strings.TrimSpace(in.Address)
	in.IntakeEmail = strings.ToLower(strings.TrimSpace(in.IntakeEmail))
	in.IntakePhone = strings.TrimSpace(in.IntakePhone)
	in.Website = strings.TrimSpace(in.Website)
	in.SecurityLead = strings.TrimSpace(in.SecurityLead)
	if t, err := policy.ParseTLP(string(in.TLP)); err == nil {
		in.TLP = t
	} else if strings.TrimSpace(string(in.TLP)) == "" {
		in.TLP = policy.TLPGreen
	}
	roles := make([]Role, 0, len(in.Roles))
	for _, r := range in.Roles {
		r = Role(strings.ToLower(strings.TrimSpace(string(r))))
		if r != "" && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	in.Roles = sortRoles(roles)
	p := &in.Profile
	p.SecurityLead.Name = strings.TrimSpace(p.SecurityLead.Name)
	p.SecurityLead.Title = strings.TrimSpace(p.SecurityLead.Title)
	p.SecurityLead.Email = strings.ToLower(strings.TrimSpace(p.SecurityLead.Email))
	p.SecurityLead.Phone = strings.TrimSpace(p.SecurityLead.Phone)
	p.Notes = strings.TrimSpace(p.Notes)
	for i := range p.Capabilities {
		p.Capabilities[i] = strings.ToLower(strings.TrimSpace(p.Capabilities[i]))
	}
	for i := range p.Staff {
		p.Staff[i].Field = strings.ToLower(strings.TrimSpace(p.Staff[i].Field))
	}
	for i := range p.Certificates {
		p.Certificates[i].Name = strings.TrimSpace(p.Certificates[i].Name)
	}
	for i := range p.ExpertGroups {
		p.ExpertGroups[i].Name = strings.TrimSpace(p.ExpertGroups[i].Name)
		p.ExpertGroups[i].Lead = strings.TrimSpace(p.ExpertGroups[i].Lead)
	}
}

// sortRoles orders known roles as in Roles, unknown ones after them.
func sortRoles(rs []Role) []Role {
	slices.SortStableFunc(rs, func(a, b Role) int { return roleRank(a) - roleRank(b) })
	return rs
}

func roleRank(r Role) int {
	if i := slices.Index(Roles, r); i >= 0 {
		return i
	}
	return len(Roles)
}

// validateInput checks what can be checked without the database.
func validateInput(v *errs.Error, in Input, now time.Time) {
	switch {
	case in.Code == "":
		v.Field("code", "field.required")
	case !codeRE.MatchString(in.Code):
		v.Field("code", "org.err.code_format")
	}
	if in.Name == "" {
		v.Field("name", "field.required")
	}
	checkText(v, "name", in.Name, maxName, false)
	checkText(v, "name_en", in.NameEN, maxName, false)
	checkText(v, "short_name", in.ShortName, maxShort, false)
	checkText(v, "address", in.Address, maxAddress, true)
	checkText(v, "security_lead", in.SecurityLead, maxShort*2, false)
	checkEmail(v, "intake_email", in.IntakeEmail)
	checkPhone(v, "intake_phone", in.IntakePhone)
	checkWebsite(v, "website", in.Website)
	if in.Region != "" && !slices.Contains(Regions, in.Region) {
		v.Field("region", "field.invalid_choice")
	}
	checkText(v, "province_code", in.ProvinceCode, 20, false)
	if in.ParentID < 0 {
		v.Field("parent_id", "org.err.parent_not_found")
	}
	if in.ClusterID < 0 {
		v.Field("cluster_id", "org.err.cluster_not_found")
	}
	if !in.TLP.Valid() {
		v.Field("tlp", "field.invalid_choice")
	} else if in.TLP == policy.TLPRed {
		v.Field("tlp", "org.err.tlp_red")
	}
	if len(in.Roles) == 0 {
		v.Field("roles", "org.err.role_required")
	}
	for _, r := range in.Roles {
		if !ValidRole(r) {
			v.Field("roles", "org.err.role_unknown", string(r))
		}
	}
	switch {
	case in.Sector != "" && !ValidSector(in.Sector):
		v.Field("sector", "field.invalid_choice")
	case in.Sector == "" && slices.Contains(in.Roles, RoleSectorCERT):
		v.Field("sector", "org.err.sector_required")
	}
	if in.ProfileYear != 0 && (in.ProfileYear < 2000 || in.ProfileYear > now.Year()+1) {
		v.Field("profile_year", "org.err.profile_year", now.Year()+1)
	}
	validateProfile(v, in.Profile)
}

func validateProfile(v *errs.Error, p Profile) {
	checkText(v, "profile.security_lead.name", p.SecurityLead.Name, maxShort*2, false)
	checkText(v, "profile.security_lead.title", p.SecurityLead.Title, maxShort*2, false)
	checkEmail(v, "profile.security_lead.email", p.SecurityLead.Email)
	checkPhone(v, "profile.security_lead.phone", p.SecurityLead.Phone)
	checkText(v, "profile.notes", p.Notes, maxNotes, true)
	if p.ResponseTeamSize < 0 || p.ResponseTeamSize > maxCount {
		v.Field("profile.response_team_size", "org.err.count_range", maxCount)
	}
	if len(p.Capabilities) > len(Capabilities) {
		v.Field("profile.capabilities", "org.err.list_too_long", len(Capabilities))
	}
	seen := map[string]bool{}
	for _, c := range p.Capabilities {
		if !slices.Contains(Capabilities, c) {
			v.Field("profile.capabilities", "org.err.capability_unknown", c)
		} else if seen[c] {
			v.Field("profile.capabilities", "org.err.duplicate_entry", c)
		}
		seen[c] = true
	}
	clear(seen)
	if len(p.Staff) > len(StaffFields) {
		v.Field("profile.staff", "org.err.list_too_long", len(StaffFields))
	}
	for _, s := range p.Staff {
		switch {
		case !slices.Contains(StaffFields, s.Field):
			v.Field("profile.staff", "org.err.staff_field_unknown", s.Field)
		case seen[s.Field]:
			v.Field("profile.staff", "org.err.duplicate_entry", s.Field)
		case s.Count < 0 || s.Count > maxCount:
			v.Field("profile.staff", "org.err.count_range", maxCount)
		}
		seen[s.Field] = true
	}
	clear(seen)
	if len(p.Certificates) > maxList {
		v.Field("profile.certificates", "org.err.list_too_long", maxList)
	}
	for _, c := range p.Certificates {
		k := strings.ToLower(c.Name)
		switch {
		case c.Name == "":
			v.Field("profile.certificates", "field.required")
		case seen[k]:
			v.Field("profile.certificates", "org.err.duplicate_entry", c.Name)
		case c.Count < 0 || c.Count > maxCount:
			v.Field("profile.certificates", "org.err.count_range", maxCount)
		}
		checkText(v, "profile.certificates", c.Name, maxListItem, false)
		seen[k] = true
	}
	if len(p.ExpertGroups) > maxList {
		v.Field("profile.expert_groups", "org.err.list_too_long", maxList)
	}
	for _, g := range p.ExpertGroups {
		if g.Name == "" {
			v.Field("profile.expert_groups", "field.required")
		}
		if g.Members < 0 || g.Members > maxCount {
			v.Field("profile.expert_groups", "org.err.count_range", maxCount)
		}
		checkText(v, "profile.expert_groups", g.Name, maxListItem, false)
		checkText(v, "profile.expert_groups", g.Lead, maxListItem, false)
	}
	for _, n := range p.SystemsByLevel {
		if n < 0 || n > maxCount {
			v.Field("profile.systems_by_level", "org.err.count_range", maxCount)
		}
	}
}

// checkText refuses text that is too long, is not UTF-8 or holds control
// characters (only tab and new lines in multi-line fields). PostgreSQL
// refuses NUL bytes and broken UTF-8, so they must never reach the store.
func checkText(v *errs.Error, field, s string, max int, multiline bool) {
	if s == "" {
		return
	}
	if !utf8.ValidString(s) {
		v.Field(field, "org.err.bad_characters")
		return
	}
	if utf8.RuneCountInString(s) > max {
		v.Field(field, "field.too_long", max)
		return
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			v.Field(field, "org.err.bad_characters")
			return
		}
	}
}

// validEmail reports whether s is one bare e-mail address.
func validEmail(s string) bool {
	if len(s) > maxEmail || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

func checkEmail(v *errs.Error, field, s string) {
	if s == "" {
		return
	}
	if !utf8.ValidString(s) || !validEmail(s) {
		v.Field(field, "field.invalid_email")
	}
}

// validPhone accepts digits with the usual separators: "+84 24 3640 4424",
// "(024) 3640-4424", "1900.1234", and an extension "ext 12" or "máy lẻ 12" is
// not needed: write it in the note.
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}

func checkPhone(v *errs.Error, field, s string) {
	if s == "" {
		return
	}
	if len(s) > maxPhone || !validPhone(s) {
		v.Field(field, "org.err.phone_format")
	}
}

func checkWebsite(v *errs.Error, field, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || !utf8.ValidString(s) || strings.ContainsAny(s, " \t\r\n") {
		v.Field(field, "org.err.website_format")
	}
}
