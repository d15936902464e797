package org

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/gaissmai/bart"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Index is the in-memory whois index: longest-prefix match over IPv4 and
// IPv6 ranges (a bart routing table), AS numbers in a map, and domains in a
// map walked from the longest suffix. Build it with NewIndex and the Add
// methods, then only read it: an Index in use is never changed (a change
// in the registry builds a new one), so any number of goroutines may read
// it at once.
type Index struct {
	gen     int64
	table   *bart.Table[int32] // value: position in ranges
	ranges  []indexedRange
	asns    map[int64]int64
	domains map[string]int64
}

type indexedRange struct {
	org int64
	pfx netip.Prefix
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{table: new(bart.Table[int32]), asns: map[int64]int64{}, domains: map[string]int64{}}
}

// AddRange maps a prefix (masked on insertion) to an organisation. A prefix
// added twice keeps the last organisation.
func (x *Index) AddRange(p netip.Prefix, orgID int64) {
	p = canonicalPrefix(p)
	if !p.IsValid() {
		return
	}
	if i, ok := x.table.Get(p); ok {
		x.ranges[i].org = orgID
		return
	}
	x.ranges = append(x.ranges, indexedRange{org: orgID, pfx: p})
	x.table.Insert(p, int32(len(x.ranges)-1))
}

// AddASN maps an AS number to an organisation.
func (x *Index) AddASN(asn, orgID int64) { x.asns[asn] = orgID }

// AddDomain maps a domain (canonical: lower-case ASCII, no trailing dot)
// and its subdomains to an organisation.
func (x *Index) AddDomain(domain string, orgID int64) {
	x.domains[strings.TrimSuffix(strings.ToLower(domain), ".")] = orgID
}

// Generation is the registry generation the index was built from.
func (x *Index) Generation() int64 { return x.gen }

// Len returns how many ranges, AS numbers and domains the index holds.
func (x *Index) Len() (ranges, asns, domains int) {
	return len(x.ranges), len(x.asns), len(x.domains)
}

// Lookup returns the organisation owning ip by longest-prefix match, with
// the matching prefix. IPv4-mapped IPv6 addresses are looked up as IPv4. It
// does not allocate.
func (x *Index) Lookup(ip netip.Addr) (orgID int64, prefix netip.Prefix, ok bool) {
	if x == nil || !ip.IsValid() {
		return 0, netip.Prefix{}, false
	}
	i, ok := x.table.Lookup(ip.Unmap())
	if !ok {
		return 0, netip.Prefix{}, false
	}
	r := &x.ranges[i]
	return r.org, r.pfx, true
}

// LookupPrefix returns the organisation owning the whole prefix p: the
// longest registered prefix that contains it.
func (x *Index) LookupPrefix(p netip.Prefix) (orgID int64, prefix netip.Prefix, ok bool) {
	if x == nil || !p.IsValid() {
		return 0, netip.Prefix{}, false
	}
	_, i, ok := x.table.LookupPrefixLPM(canonicalPrefix(p))
	if !ok {
		return 0, netip.Prefix{}, false
	}
	r := &x.ranges[i]
	return r.org, r.pfx, true
}

// LookupASN returns the organisation owning an AS number.
func (x *Index) LookupASN(asn int64) (orgID int64, ok bool) {
	if x == nil {
		return 0, false
	}
	orgID, ok = x.asns[asn]
	return orgID, ok
}

// LookupDomain returns the organisation owning a canonical domain (lower-
// case ASCII) by longest suffix: the domain itself, else its parent, and so
// on. matched is the registered domain. It does not allocate.
func (x *Index) LookupDomain(domain string) (orgID int64, matched string, ok bool) {
	if x == nil {
		return 0, "", false
	}
	d := domain
	for d != "" {
		if id, ok := x.domains[d]; ok {
			return id, d, true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return 0, "", false
}

// buildIndex reads the constituency from the store into a new index.
func (s *Service) buildIndex(ctx context.Context, gen int64) (*Index, error) {
	x := NewIndex()
	x.gen = gen
	rows, err := s.DB.Query(ctx, "SELECT org_id, cidr FROM org_ranges")
	if err != nil {
		return nil, fmt.Errorf("org: index ranges: %w", err)
	}
	for rows.Next() {
		var org int64
		var cidr string
		if err := rows.Scan(&org, &cidr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("org: index ranges: %w", err)
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			s.log().Warn("unreadable range in the store, left out of the whois index", "cidr", cidr, "org", org)
			continue
		}
		x.AddRange(p, org)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: index ranges: %w", err)
	}
	rows, err = s.DB.Query(ctx, "SELECT org_id, asn FROM org_asns")
	if err != nil {
		return nil, fmt.Errorf("org: index asns: %w", err)
	}
	for rows.Next() {
		var org, asn int64
		if err := rows.Scan(&org, &asn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("org: index asns: %w", err)
		}
		x.AddASN(asn, org)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: index asns: %w", err)
	}
	rows, err = s.DB.Query(ctx, "SELECT org_id, domain FROM org_domains")
	if err != nil {
		return nil, fmt.Errorf("org: index domains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var org int64
		var d string
		if err := rows.Scan(&org, &d); err != nil {
			return nil, fmt.Errorf("org: index domains: %w", err)
		}
		x.AddDomain(d, org)
	}
	return x, rows.Err()
}

// WhoisIndex returns the current in-memory whois index, rebuilding it when
// the registry generation moved (read from the store at most once a second,
// and at once after this node's own changes). Between rebuilds it does no
// SQL. When the store cannot be read the last good index is returned.
func (s *Service) WhoisIndex(ctx context.Context) (*Index, error) {
	gen, gerr := s.generation(ctx, false)
	x := s.index.Load()
	if gerr != nil {
		if x != nil {
			s.log().Warn("registry generation check failed; using the cached whois index", "err", gerr)
			return x, nil
		}
		return nil, errs.Internal("org: whois index", gerr)
	}
	if x != nil && x.gen == gen {
		return x, nil
	}
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if x = s.index.Load(); x != nil && x.gen == gen {
		return x, nil
	}
	nx, err := s.buildIndex(ctx, gen)
	if err != nil {
		if x != nil {
			s.log().Warn("whois index rebuild failed; using the cached one", "err", err)
			return x, nil
		}
		return nil, errs.Internal("org: whois index", err)
	}
	r, a, d := nx.Len()
	s.log().Debug("whois index built", "generation", gen, "ranges", r, "asns", a, "domains", d)
	s.index.Store(nx)
	return nx, nil
}

// WhoisResult is the answer to a whois query.
type WhoisResult struct {
	Query string `json:"query"`
	// Kind is "ip", "cidr", "asn" or "domain".
	Kind string `json:"kind"`
	// Matched is the range, AS number or domain that matched.
	Matched string `json:"matched"`
	Org     Org    `json:"org"`
	// Chain is the owner's parents, nearest first.
	Chain []Org `json:"chain"`
}

// whoisQuery is a parsed whois query.
type whoisQuery struct {
	kind   string
	addr   netip.Addr
	prefix netip.Prefix
	asn    int64
	domain string
}

// parseWhoisQuery reads an IP address, a CIDR, an AS number or a domain (a
// URL or an e-mail address is reduced to its host). It returns the i18n key
// of the problem when q is none of them.
func parseWhoisQuery(q string) (whoisQuery, string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return whoisQuery{}, "field.required"
	}
	if len(q) > 2048 {
		return whoisQuery{}, "org.whois.bad_query"
	}
	if strings.Contains(q, "://") {
		u, err := url.Parse(q)
		if err != nil || u.Hostname() == "" {
			return whoisQuery{}, "org.whois.bad_query"
		}
		q = u.Hostname()
	} else if at := strings.LastIndexByte(q, '@'); at >= 0 {
		q = q[at+1:]
	}
	if strings.HasPrefix(q, "[") && strings.HasSuffix(q, "]") {
		q = q[1 : len(q)-1]
	}
	if strings.Contains(q, "/") {
		p, err := netip.ParsePrefix(q)
		if err != nil {
			return whoisQuery{}, "org.whois.bad_query"
		}
		return whoisQuery{kind: KindCIDR, prefix: canonicalPrefix(p)}, ""
	}
	if a, err := netip.ParseAddr(q); err == nil {
		return whoisQuery{kind: KindIP, addr: a.WithZone("").Unmap()}, ""
	}
	if looksLikeIP(q) || strings.Contains(q, ":") {
		return whoisQuery{}, "org.whois.bad_query"
	}
	if looksLikeASN(q) {
		n, key := parseASN(q)
		if key != "" {
			return whoisQuery{}, "org.whois.bad_query"
		}
		return whoisQuery{kind: KindASN, asn: n}, ""
	}
	d, key := parseDomain(q)
	if key != "" {
		return whoisQuery{}, "org.whois.bad_query"
	}
	return whoisQuery{kind: KindDomain, domain: d}, ""
}

// Whois answers who owns an IP address, a CIDR, an AS number or a domain,
// with the owner's parents. errs.Invalid (field "q") when q is none of them,
// errs.NotFound when nobody the actor may see owns it.
func (s *Service) Whois(ctx context.Context, a policy.Actor, q string) (WhoisResult, error) {
	const op = "org: whois"
	if err := policy.Check(a, policy.Whois, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return WhoisResult{}, err
	}
	wq, key := parseWhoisQuery(q)
	if key != "" {
		return WhoisResult{}, errs.Invalid(op).Field("q", key)
	}
	x, err := s.WhoisIndex(ctx)
	if err != nil {
		return WhoisResult{}, err
	}
	res := WhoisResult{Query: strings.TrimSpace(q), Kind: wq.kind}
	var orgID int64
	var ok bool
	switch wq.kind {
	case KindIP:
		var p netip.Prefix
		orgID, p, ok = x.Lookup(wq.addr)
		res.Matched = p.String()
	case KindCIDR:
		var p netip.Prefix
		orgID, p, ok = x.LookupPrefix(wq.prefix)
		res.Matched = p.String()
	case KindASN:
		orgID, ok = x.LookupASN(wq.asn)
		res.Matched = "AS" + strconv.FormatInt(wq.asn, 10)
	case KindDomain:
		orgID, res.Matched, ok = x.LookupDomain(wq.domain)
	}
	// The longest match may belong to an organisation the actor may not
	// see (an AMBER+STRICT member inside an ISP's block): then the answer
	// is the nearest owner the actor may see, as if the hidden one did not
	// exist — without saying that it does.
	var r orgRow
	for ok {
		got, err := getOrgByID(ctx, s.DB, orgID)
		if err != nil && !errs.Is(err, errs.KindNotFound) {
			return WhoisResult{}, err
		}
		if err == nil {
			cerr := policy.Check(a, policy.Whois, got.Resource())
			if cerr == nil {
				r = got
				break
			}
			if !errs.Is(cerr, errs.KindNotFound) {
				return WhoisResult{}, cerr
			}
		}
		orgID, res.Matched, ok = x.shorter(wq, res.Matched)
	}
	if !ok {
		return WhoisResult{}, notFound(op, "org.whois.not_found", res.Query)
	}
	res.Org = r.view(a)
	chain, err := s.Chain(ctx, a, orgID)
	if err != nil {
		return WhoisResult{}, err
	}
	res.Chain = chain[1:]
	return res, nil
}

// shorter finds the next owner of the query after the match m, going one
// step less specific: the longest range strictly wider than m, or the
// longest domain suffix strictly shorter than m. AS numbers have no wider
// match.
func (x *Index) shorter(q whoisQuery, m string) (int64, string, bool) {
	switch q.kind {
	case KindIP, KindCIDR:
		p, err := netip.ParsePrefix(m)
		if err != nil || p.Bits() == 0 {
			return 0, "", false
		}
		id, wider, ok := x.LookupPrefix(netip.PrefixFrom(p.Addr(), p.Bits()-1).Masked())
		return id, wider.String(), ok
	case KindDomain:
		_, rest, found := strings.Cut(m, ".")
		if !found || rest == "" {
			return 0, "", false
		}
		return x.LookupDomain(rest)
	}
	return 0, "", false
}
