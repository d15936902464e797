package match

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"

	"certnet/internal/ingest/decode"
)

// naiveMatch is the obvious matcher, one indicator at a time: the
// reference the index must agree with.
func naiveMatch(inds []Indicator, e *decode.Event) []hitKey {
	var out []hitKey
	seen := map[hitKey]bool{}
	add := func(id int64, field, value string) {
		k := hitKey{id, field, ""}
		if !seen[k] {
			seen[k] = true
			out = append(out, hitKey{id, field, value})
		}
	}
	addrs := []struct {
		a     netip.Addr
		field string
	}{{e.Src, "src"}, {e.Dst, "dst"}}
	for _, a := range e.IPs {
		addrs = append(addrs, struct {
			a     netip.Addr
			field string
		}{a, "ip"})
	}
	for _, in := range inds {
		switch in.Kind {
		case "ipv4", "ipv6":
			for _, a := range addrs {
				if a.a.IsValid() && a.a.String() == in.Value {
					add(in.ID, a.field, a.a.String())
				}
			}
		case "cidr":
			p := netip.MustParsePrefix(in.Value)
			for _, a := range addrs {
				if a.a.IsValid() && p.Contains(a.a) {
					add(in.ID, a.field, a.a.String())
				}
			}
		case "domain":
			for _, d := range e.Domains {
				if d == in.Value || strings.HasSuffix(d, "."+in.Value) {
					add(in.ID, "domain", d)
				}
			}
		case "md5":
			for _, h := range e.Hashes {
				if h == in.Value {
					add(in.ID, "hash", h)
				}
			}
		}
	}
	return out
}

func sortKeys(ks []hitKey) []hitKey {
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].ID != ks[j].ID {
			return ks[i].ID < ks[j].ID
		}
		return ks[i].Field < ks[j].Field
	})
	return ks
}

// Random indicators drawn from small spaces (so ranges nest and values
// repeat across owners) and random events: the index, and the index after
// random patches, agree with the naive matcher on every event.
func TestMatchAgreesWithNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	addr := func() netip.Addr {
		if r.IntN(4) == 0 {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(r.IntN(4)), 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(r.IntN(8))})
		}
		return netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(16))})
	}
	labels := []string{"a", "b", "evil", "cdn"}
	domain := func(depth int) string {
		parts := []string{"example"}
		for range depth {
			parts = append([]string{labels[r.IntN(len(labels))]}, parts...)
		}
		return strings.Join(parts, ".")
	}
	hashes := []string{"44d88612fea8a8f36de82e1278abb02f", "d41d8cd98f00b204e9800998ecf8427e", "5d41402abc4b2a76b9719d911017c592"}
	nextID := int64(0)
	randInd := func() Indicator {
		nextID++
		in := Indicator{ID: nextID, Confidence: r.IntN(101), OrgID: int64(r.IntN(3))}
		switch r.IntN(4) {
		case 0:
			a := addr()
			in.Kind, in.Value = "ipv4", a.String()
			if a.Is6() {
				in.Kind = "ipv6"
			}
		case 1:
			a := addr()
			bits := 8 + r.IntN(23)
			if a.Is6() {
				bits = 32 + r.IntN(95)
			}
			in.Kind, in.Value = "cidr", netip.PrefixFrom(a, bits).Masked().String()
		case 2:
			in.Kind, in.Value = "domain", domain(1+r.IntN(2))
		case 3:
			in.Kind, in.Value = "md5", hashes[r.IntN(len(hashes))]
		}
		return in
	}
	randEvent := func() decode.Event {
		e := decode.Event{Src: addr(), Dst: addr(), Domains: []string{domain(1 + r.IntN(4))}, Hashes: []string{hashes[r.IntN(len(hashes))]}}
		if r.IntN(3) == 0 {
			e.IPs = []netip.Addr{addr(), addr()}
		}
		if r.IntN(2) == 0 {
			e.Dst = netip.Addr{}
		}
		return e
	}
	inds := make([]Indicator, 300)
	for i := range inds {
		inds[i] = randInd()
	}
	check := func(name string, x *Index, live []Indicator) {
		t.Helper()
		if x.Len() != len(live) {
			t.Fatalf("%s: Len %d, want %d", name, x.Len(), len(live))
		}
		withHits := 0
		defer func() {
			if withHits < 100 {
				t.Errorf("%s: only %d of 500 events hit: the test is too easy", name, withHits)
			}
		}()
		for range 500 {
			e := randEvent()
			got := sortKeys(keys(x.Match(&e, nil)))
			want := sortKeys(naiveMatch(live, &e))
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			withHits++
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: event %+v\n got %v\nwant %v", name, e, got, want)
			}
		}
	}
	x := Build(inds)
	check("built", x, inds)

	live := map[int64]Indicator{}
	for _, in := range inds {
		live[in.ID] = in
	}
	for round := range 5 {
		var changes []Change
		for range 40 {
			if r.IntN(2) == 0 && len(live) > 0 { // withdraw or change an existing one
				for id, in := range live {
					if r.IntN(2) == 0 {
						delete(live, id)
						changes = append(changes, Change{in, false})
					} else {
						in.Confidence = r.IntN(101)
						live[id] = in
						changes = append(changes, Change{in, true})
					}
					break
				}
			} else {
				in := randInd()
				live[in.ID] = in
				changes = append(changes, Change{in, true})
			}
		}
		x = x.Patch(changes)
		var l []Indicator
		for _, in := range live {
			l = append(l, in)
		}
		check(fmt.Sprintf("patch %d", round+1), x, l)
	}
}
