package incident

import (
	"context"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// ObservableKind is the kind of an observable.
type ObservableKind string

// Observable kinds (STIX: ipv4-addr, ipv6-addr, domain-name, url,
// email-addr, file hashes).
const (
	ObsIPv4   ObservableKind = "ipv4"
	ObsIPv6   ObservableKind = "ipv6"
	ObsDomain ObservableKind = "domain"
	ObsURL    ObservableKind = "url"
	ObsEmail  ObservableKind = "email"
	ObsMD5    ObservableKind = "md5"
	ObsSHA1   ObservableKind = "sha1"
	ObsSHA256 ObservableKind = "sha256"
)

// ObservableKinds lists the kinds.
var ObservableKinds = []ObservableKind{ObsIPv4, ObsIPv6, ObsDomain, ObsURL, ObsEmail, ObsMD5, ObsSHA1, ObsSHA256}

// Sources of an observable.
const (
	SourceText   = "text"
	SourceManual = "manual"
)

// Observable is an address, name or hash found in an incident.
type Observable struct {
	ID        int64          `json:"id,omitempty"`
	Kind      ObservableKind `json:"kind"`
	Value     string         `json:"value"`
	Source    string         `json:"source,omitempty"`
	CreatedAt time.Time      `json:"created_at,omitzero"`
}

// Limits of extraction, so that a huge text costs bounded work.
const (
	maxExtractText = 1 << 20
	maxExtracted   = 1000
)

// tokenSep splits text into candidate tokens: white space and the
// punctuation that surrounds addresses in prose.
func tokenSep(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', ',', ';', '"', '\'', '<', '>', '(', ')', '[', ']', '{', '}',
		'|', '`', '\u00a0', '“', '”', '‘', '’', '«', '»', '，', '、':
		return true
	}
	return false
}

// refang undoes the usual defanging of shared indicators: hxxp://,
// evil[.]com, user[@]host.
var refang = strings.NewReplacer("[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "[@]", "@", "[at]", "@",
	"hxxps://", "https://", "hxxp://", "http://", "HXXPS://", "https://", "HXXP://", "http://", "[:]", ":")

// ExtractObservables finds IPv4 and IPv6 addresses, domains, URLs, e-mail
// addresses and MD5/SHA-1/SHA-256 hashes in free text, de-duplicated, in
// the order they first appear. Defanged forms (hxxp://, example[.]com) are
// understood.
//
// To keep false positives out of Vietnamese prose and reports:
//   - a domain must be ASCII, have at least two labels and end in a known
//     top-level domain (embedded list: the generic ones and every country
//     code), so "TP.HCM", "v.v." or "report.pdf" are not domains; a
//     two-label name whose top-level domain is also a common file
//     extension ("setup.sh", "notes.md", "data.zip") is taken only inside
//     a URL or an e-mail address;
//   - an IPv4 address is exactly four decimal octets (so "1.2.3" and
//     "1.2.3.4.5" are not addresses);
//   - an IPv6 address needs at least two colons and must parse (so times
//     like 10:30:00 are not);
//   - a hash is a hex word of exactly 32, 40 or 64 characters with both a
//     digit and a letter.
//
// Internationalised (non-ASCII) domains are not recognised in prose.
func ExtractObservables(text string) []Observable {
	if len(text) > maxExtractText {
		text = text[:maxExtractText]
	}
	text = refang.Replace(text)
	var out []Observable
	seen := map[string]bool{}
	add := func(k ObservableKind, v string) {
		key := string(k) + "\x00" + v
		if seen[key] || len(out) >= maxExtracted {
			return
		}
		seen[key] = true
		out = append(out, Observable{Kind: k, Value: v})
	}
	for _, tok := range strings.FieldsFunc(text, tokenSep) {
		if len(out) >= maxExtracted {
			break
		}
		classify(tok, add)
	}
	return out
}

// classify finds the observables in one token.
func classify(tok string, add func(ObservableKind, string)) {
	tok = strings.TrimLeft(tok, ".!?*")
	tok = strings.TrimRight(tok, ".,;!?*")
	if strings.HasSuffix(tok, ":") {
		if _, err := netip.ParseAddr(tok); err != nil { // "2001:db8::" keeps its colons
			tok = strings.TrimRight(tok, ".,:;!?*")
		}
	}
	if len(tok) < 3 || len(tok) > 2048 {
		return
	}
	if i := strings.Index(tok, "://"); i > 0 {
		scheme := strings.ToLower(tok[:i])
		if scheme != "http" && scheme != "https" && scheme != "ftp" {
			return
		}
		u, err := url.Parse(tok)
		if err != nil || u.Host == "" {
			return
		}
		host := strings.ToLower(u.Hostname())
		if a, err := netip.ParseAddr(host); err == nil && a.Zone() == "" {
			add(ObsURL, tok)
			addAddr(a, add)
			return
		}
		if validDomain(host, false) {
			add(ObsURL, tok)
			add(ObsDomain, host)
		}
		return
	}
	if strings.Count(tok, "@") == 1 {
		at := strings.IndexByte(tok, '@')
		local, dom := tok[:at], strings.ToLower(tok[at+1:])
		if validLocal(local) && validDomain(dom, false) {
			add(ObsEmail, strings.ToLower(local)+"@"+dom)
		}
		return
	}
	if isHex(tok) {
		switch len(tok) {
		case 32:
			add(ObsMD5, strings.ToLower(tok))
		case 40:
			add(ObsSHA1, strings.ToLower(tok))
		case 64:
			add(ObsSHA256, strings.ToLower(tok))
		}
		return
	}
	if strings.Count(tok, ":") >= 2 {
		s := strings.TrimPrefix(strings.TrimSuffix(tok, "]"), "[")
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" && !a.IsUnspecified() {
			addAddr(a, add)
		}
		return
	}
	host := tok
	if h, port, ok := strings.Cut(tok, ":"); ok && isDigits(port) && len(port) <= 5 {
		host = h // 203.0.113.5:443, example.com:8080
	}
	if isIPv4Shape(host) {
		if a, err := netip.ParseAddr(host); err == nil {
			addAddr(a, add)
		}
		return
	}
	d := strings.ToLower(strings.TrimSuffix(host, "."))
	if validDomain(d, true) {
		add(ObsDomain, d)
	}
}

func addAddr(a netip.Addr, add func(ObservableKind, string)) {
	a = a.Unmap()
	if a.Is4() {
		add(ObsIPv4, a.String())
	} else {
		add(ObsIPv6, a.String())
	}
}

// isIPv4Shape: four groups of one to three digits.
func isIPv4Shape(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if len(p) == 0 || len(p) > 3 || !isDigits(p) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	digit, letter := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			letter = true
		default:
			return false
		}
	}
	return digit && letter
}

func validLocal(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._%+-", c) >= 0) {
			return false
		}
	}
	return true
}

// validDomain checks a lower-case ASCII domain name ending in a known
// top-level domain. inProse refuses two-label names whose top-level domain
// is also a common file extension.
func validDomain(d string, inProse bool) bool {
	if len(d) < 4 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if !knownTLD(tld) {
		return false
	}
	if inProse && len(labels) == 2 && fileExtTLDs[tld] {
		return false
	}
	return true
}

// fileExtTLDs are country-code top-level domains that are also common
// file extensions.
var fileExtTLDs = setOf(`sh py md rs pl ps so cc ai cs bz mk sy ax sc st zip mov`)

func knownTLD(t string) bool {
	if strings.HasPrefix(t, "xn--") && len(t) > 4 {
		return true
	}
	if len(t) == 2 {
		return ccTLDs[t]
	}
	return gTLDs[t]
}

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// ccTLDs: every ISO 3166-1 country code top-level domain, plus eu and uk.
var ccTLDs = setOf(`ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo bq
br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et
eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io
iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk
ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn
pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st sv sx sy sz tc td tf tg th tj
tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw`)

// gTLDs: the generic top-level domains seen in incident reports. A name
// under a gTLD missing here is not recognised at all (not even inside a
// URL): extend the list when one matters.
var gTLDs = setOf(`com net org edu gov mil int info biz name pro mobi asia tel travel jobs cat coop aero museum
arpa xxx post xyz top online site club shop store app dev page cloud tech space website live life world today
news blog email link click help support host digital network services solutions company group agency center
global media studio design zone one win bid loan work review download stream trade date racing party science
men icu cyou buzz monster rest fun lol best vip ltd inc llc bank finance money pay wiki guru ninja rocks
social exchange games game casino bet poker run run tools software systems security cam mov zip gmbh`)

func insertObservables(ctx context.Context, w *write, incID int64, obs []Observable, source string) ([]Observable, error) {
	var added []Observable
	for _, o := range obs {
		var id int64
		err := w.tx.QueryRow(ctx, `INSERT INTO incident_observables (incident_id, kind, value, source, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, kind, value) DO NOTHING RETURNING id`,
			incID, string(o.Kind), o.Value, source, w.now, store.NullID(w.a.UserID)).Scan(&id)
		if store.IsNoRows(err) {
			continue // already known
		}
		if err != nil {
			return nil, err
		}
		added = append(added, Observable{ID: id, Kind: o.Kind, Value: o.Value, Source: source, CreatedAt: w.now})
	}
	return added, nil
}

// NormalizeObservable checks that value (one word, defanged or not) is an
// observable of kind and returns its canonical form (lower case, IPv6
// compressed…).
func NormalizeObservable(kind ObservableKind, value string) (string, bool) {
	value = strings.TrimSpace(refang.Replace(value))
	if value == "" || strings.IndexFunc(value, tokenSep) >= 0 {
		return "", false
	}
	if kind == ObsDomain {
		d := strings.ToLower(strings.TrimSuffix(value, "."))
		if !validDomain(d, false) {
			return "", false
		}
		return d, true
	}
	for _, o := range ExtractObservables(value) {
		if o.Kind == kind {
			return o.Value, true
		}
	}
	return "", false
}

// AddObservable adds an observable by hand (de-duplicated: adding a known
// one changes nothing and returns it).
func (s *Service) AddObservable(ctx context.Context, a policy.Actor, key string, kind ObservableKind, value string) (Observable, error) {
	const op = "incident: add observable"
	var out Observable
	_, err := s.mutate(ctx, a, op, key, policy.IncidentWork, func(ctx context.Context, w *write, inc *Incident) error {
		v := errs.Invalid(op)
		if !slices.Contains(ObservableKinds, kind) {
			return v.Field("kind", "field.invalid_choice")
		}
		norm, ok := NormalizeObservable(kind, value)
		if !ok {
			return v.Field("value", "incident.err.observable", string(kind))
		}
		added, err := insertObservables(ctx, w, inc.ID, []Observable{{Kind: kind, Value: norm}}, SourceManual)
		if err != nil {
			return err
		}
		if len(added) == 0 {
			out = Observable{Kind: kind, Value: norm}
			return w.tx.QueryRow(ctx, `SELECT id, source, created_at FROM incident_observables
				WHERE incident_id = ? AND kind = ? AND value = ?`, inc.ID, string(kind), norm).Scan(&out.ID, &out.Source, &out.CreatedAt)
		}
		out = added[0]
		if _, err := w.event(ctx, inc, EventObservable, map[string]any{"kind": string(kind), "value": norm}); err != nil {
			return err
		}
		return w.audit(ctx, inc, "incident.observable.add", nil, out)
	})
	return out, err
}

// Observables lists the incident's observables by kind and value.
func (s *Service) Observables(ctx context.Context, a policy.Actor, key string) ([]Observable, error) {
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	return loadObservables(ctx, s, inc.ID)
}

func loadObservables(ctx context.Context, s *Service, incID int64) ([]Observable, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, value, source, created_at FROM incident_observables
		WHERE incident_id = ? ORDER BY kind, value`, incID)
	if err != nil {
		return nil, errs.Internal("incident: observables", err)
	}
	defer rows.Close()
	var out []Observable
	for rows.Next() {
		var o Observable
		var k string
		if err := rows.Scan(&o.ID, &k, &o.Value, &o.Source, &o.CreatedAt); err != nil {
			return nil, errs.Internal("incident: observables", err)
		}
		o.Kind, o.CreatedAt = ObservableKind(k), o.CreatedAt.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Route is a proposal: the member owning some of the incident's addresses
// or names, and its response unit.
type Route struct {
	Owner org.Org `json:"owner"`
	// ResponseUnit is the nearest organisation, the owner itself or an
	// ancestor, holding provincial_response_unit, ministry_response_unit or
	// sector_cert; nil when there is none the actor may see.
	ResponseUnit *org.Org `json:"response_unit,omitempty"`
	// Observables are the values routed to this owner, with what matched.
	Observables []RoutedObservable `json:"observables"`
}

// RoutedObservable is one observable and the constituency entry it matched.
type RoutedObservable struct {
	Kind    ObservableKind `json:"kind"`
	Value   string         `json:"value"`
	Matched string         `json:"matched"`
}

var responseUnitRoles = []org.Role{org.RoleProvincialResponseUnit, org.RoleMinistryResponseUnit, org.RoleSectorCERT}

func isResponseUnit(o org.Org) bool {
	return slices.ContainsFunc(responseUnitRoles, o.Has)
}

// RouteObservables looks each address, domain, URL and e-mail address of
// the incident up in the constituency (whois) and proposes the owning
// members and their response unit, the owner with most matches first.
// Values nobody (visible to the actor) owns are left out.
func (s *Service) RouteObservables(ctx context.Context, a policy.Actor, key string) ([]Route, error) {
	const op = "incident: route observables"
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	if err := check(a, policy.IncidentWork, inc); err != nil {
		return nil, err
	}
	obs, err := loadObservables(ctx, s, inc.ID)
	if err != nil {
		return nil, err
	}
	if s.Orgs == nil {
		return nil, nil
	}
	byOrg := map[int64]*Route{}
	for _, o := range obs {
		switch o.Kind {
		case ObsIPv4, ObsIPv6, ObsDomain, ObsURL, ObsEmail:
		default:
			continue
		}
		res, err := s.Orgs.Whois(ctx, a, o.Value)
		if errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindInvalid) {
			continue
		}
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		r := byOrg[res.Org.ID]
		if r == nil {
			r = &Route{Owner: res.Org}
			for _, c := range append([]org.Org{res.Org}, res.Chain...) {
				if isResponseUnit(c) {
					c := c
					r.ResponseUnit = &c
					break
				}
			}
			byOrg[res.Org.ID] = r
		}
		r.Observables = append(r.Observables, RoutedObservable{Kind: o.Kind, Value: o.Value, Matched: res.Matched})
	}
	out := make([]Route, 0, len(byOrg))
	for _, r := range byOrg {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Observables) != len(out[j].Observables) {
			return len(out[i].Observables) > len(out[j].Observables)
		}
		return out[i].Owner.ID < out[j].Owner.ID
	})
	return out, nil
}
