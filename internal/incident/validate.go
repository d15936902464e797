package incident

import (
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Length limits (characters).
const (
	maxTitle = 200
	maxLine  = 300
	maxText  = 20000
	maxList  = 100
)

// earliest is the earliest detection time accepted.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// clockSkew is how far in the future a detection time may be (clocks of
// reporters drift).
const clockSkew = 5 * time.Minute

func validateInput(v *errs.Error, in Input, now time.Time) {
	checkText(v, "title", in.Title, maxTitle, false, true)
	checkText(v, "description", in.Description, maxText, true, true)
	switch {
	case in.Type == "":
		v.Field("type", "field.required")
	case !in.Type.Valid():
		v.Field("type", "field.invalid_choice")
	}
	if !in.Severity.Valid() {
		v.Field("severity", "field.invalid_choice")
	}
	switch {
	case !in.TLP.Valid():
		v.Field("tlp", "field.invalid_choice")
	case in.TLP == policy.TLPRed:
		v.Field("tlp", "incident.err.tlp_red")
	}
	if in.ReporterOrgID == 0 {
		v.Field("reporter_org_id", "field.required")
	}
	switch {
	case in.DetectedAt.IsZero():
		v.Field("detected_at", "field.required")
	case in.DetectedAt.After(now.Add(clockSkew)):
		v.Field("detected_at", "incident.err.detected_future")
	case in.DetectedAt.Before(earliest):
		v.Field("detected_at", "incident.err.detected_too_old")
	}
	checkText(v, "contact.name", in.Contact.Name, maxLine, false, true)
	checkText(v, "contact.title", in.Contact.Title, maxLine, false, false)
	if in.Contact.Email != "" && !validEmail(in.Contact.Email) {
		v.Field("contact.email", "field.invalid_email")
	}
	if in.Contact.Phone != "" && !validPhone(in.Contact.Phone) {
		v.Field("contact.phone", "incident.err.phone")
	}
	if in.Contact.Email == "" && in.Contact.Phone == "" {
		v.Field("contact.email", "incident.err.contact_reach")
	}
	checkText(v, "system.name", in.System.Name, maxLine, false, true)
	for f, s := range map[string]string{"system.owner_name": in.System.OwnerName,
		"system.operator_name": in.System.OperatorName, "system.security_provider": in.System.SecurityProvider,
		"system.connectivity_provider": in.System.ConnectivityProvider, "system.os": in.System.OS} {
		checkText(v, f, s, maxLine, false, false)
	}
	for f, s := range map[string]string{"system.services": in.System.Services,
		"system.protections": in.System.Protections, "system.purpose": in.System.Purpose,
		"proposals": in.Proposals, "detected_by_text": in.DetectedByText} {
		checkText(v, f, s, maxText, true, false)
	}
	if in.System.Level < 0 || in.System.Level > 5 {
		v.Field("system.level", "incident.err.level")
	}
	if len(in.System.PublicIPs) > maxList {
		v.Field("system.public_ips", "incident.err.too_many", maxList)
	}
	for _, ip := range in.System.PublicIPs {
		if !validIPOrPrefix(ip) {
			v.Field("system.public_ips", "incident.err.ip", ip)
		}
	}
	if len(in.System.Domains) > maxList {
		v.Field("system.domains", "incident.err.too_many", maxList)
	}
	for _, d := range in.System.Domains {
		if !validDomain(d, false) {
			v.Field("system.domains", "incident.err.domain", d)
		}
	}
	switch {
	case in.DetectedBy == "":
		v.Field("detected_by", "field.required")
	case !slices.Contains(DetectionMethods, in.DetectedBy):
		v.Field("detected_by", "field.invalid_choice")
	case (in.DetectedBy == DetectOther || in.DetectedBy == DetectNotifiedBy) && in.DetectedByText == "":
		v.Field("detected_by_text", "incident.err.detected_by_text")
	}
	for _, n := range in.AlreadyNotified {
		if !slices.Contains(NotifiedParties, n) {
			v.Field("already_notified", "field.invalid_choice")
		}
	}
}

// checkText checks a text field: required, length, no control characters
// (newlines and tabs allowed in multi-line fields).
func checkText(v *errs.Error, field, s string, max int, multiline, required bool) {
	if s == "" {
		if required {
			v.Field(field, "field.required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.Field(field, "field.invalid")
		return
	}
	if utf8.RuneCountInString(s) > max {
		v.Field(field, "field.too_long", max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			v.Field(field, "incident.err.control_chars")
			return
		}
	}
}

func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 {
		return false
	}
	return validDomain(strings.ToLower(s[at+1:]), false)
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+ ()-.", r):
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}

func validIPOrPrefix(s string) bool {
	if strings.Contains(s, "/") {
		_, err := netip.ParsePrefix(s)
		return err == nil
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
