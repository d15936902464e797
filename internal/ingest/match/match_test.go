package match

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	"certnet/internal/ingest/decode"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// ind normalises value as intel stores it.
func ind(t testing.TB, id int64, kind intel.Kind, value string) Indicator {
	t.Helper()
	k, v, err := intel.Normalise(kind, value)
	if err != nil {
		t.Fatalf("normalise %s %q: %v", kind, value, err)
	}
	return Indicator{ID: id, Kind: string(k), Value: v, Confidence: int(id % 101), OrgID: 100 + id%3}
}

func decodeOne(t *testing.T, line string) decode.Event {
	t.Helper()
	evs, lerrs, err := decode.Decode(decode.Generic, []byte(line), nil)
	if err != nil || len(lerrs) != 0 || len(evs) != 1 {
		t.Fatalf("decode %s: %v %v", line, err, lerrs)
	}
	return evs[0]
}

type hitKey struct {
	ID    int64
	Field string
	Value string
}

func keys(hs []Hit) []hitKey {
	out := make([]hitKey, len(hs))
	for i, h := range hs {
		out[i] = hitKey{h.IndicatorID, h.Field, h.String()}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Field < out[j].Field
	})
	return out
}

func TestMatch(t *testing.T) {
	x := Build([]Indicator{
		ind(t, 1, intel.KindIPv4, "198.51.100.23"),
		ind(t, 2, intel.KindIPv6, "2001:DB8:0:0::1"),
		ind(t, 3, intel.KindCIDR, "10.0.0.0/8"),
		ind(t, 4, intel.KindCIDR, "10.20.0.0/16"),
		ind(t, 5, intel.KindCIDR, "2001:db8:ff00::/40"),
		ind(t, 6, intel.KindDomain, "Evil.Example."),
		ind(t, 7, intel.KindDomain, "deep.sub.evil.example"),
		ind(t, 8, intel.KindURL, "HTTP://Dl.Evil-CDN.example/payload.exe#frag"),
		ind(t, 9, intel.KindMD5, "44D88612FEA8A8F36DE82E1278ABB02F"),
		ind(t, 10, intel.KindSHA1, "3395856ce81f2b7382dee72602f798b642f14140"),
		ind(t, 11, intel.KindSHA256, "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"),
		ind(t, 12, intel.KindEmail, "billing@Evil-CDN.example"),
		ind(t, 13, intel.KindDomain, "evil.example"), // the same value from another owner
		ind(t, 14, intel.KindSTIX, "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']"),
	})
	if x.Len() != 13 {
		t.Errorf("Len = %d, want 13 (the STIX pattern is not matchable)", x.Len())
	}
	cases := []struct {
		name, event string
		want        []hitKey
	}{
		{"exact IPv4 source", `{"time":"2026-11-20T08:00:00Z","src_ip":"198.51.100.23","dst_ip":"192.0.2.1"}`,
			[]hitKey{{1, "src", "198.51.100.23"}}},
		{"IPv4-mapped destination", `{"time":"2026-11-20T08:00:00Z","dst_ip":"::ffff:198.51.100.23"}`,
			[]hitKey{{1, "dst", "198.51.100.23"}}},
		{"exact IPv6 and its covering range", `{"time":"2026-11-20T08:00:00Z","src_ip":"2001:db8::1"}`,
			[]hitKey{{2, "src", "2001:db8::1"}}},
		{"IPv6 range", `{"time":"2026-11-20T08:00:00Z","dst_ip":"2001:db8:ff12::9"}`,
			[]hitKey{{5, "dst", "2001:db8:ff12::9"}}},
		{"nested ranges both hit", `{"time":"2026-11-20T08:00:00Z","src_ip":"10.20.3.4","dst_ip":"10.99.0.1"}`,
			[]hitKey{{3, "dst", "10.99.0.1"}, {3, "src", "10.20.3.4"}, {4, "src", "10.20.3.4"}}},
		{"parent domain", `{"time":"2026-11-20T08:00:00Z","domains":["A.B.Evil.Example."]}`,
			[]hitKey{{6, "domain", "a.b.evil.example"}, {13, "domain", "a.b.evil.example"}}},
		{"the domain itself and a deeper indicator, each once", `{"time":"2026-11-20T08:00:00Z","domains":["x.deep.sub.evil.example","evil.example"]}`,
			[]hitKey{{6, "domain", "x.deep.sub.evil.example"}, {7, "domain", "x.deep.sub.evil.example"}, {13, "domain", "x.deep.sub.evil.example"}}},
		{"a look-alike is no sub-domain", `{"time":"2026-11-20T08:00:00Z","domains":["notevil.example","evil.example.com","example"]}`, nil},
		{"URL normalised on both sides", `{"time":"2026-11-20T08:00:00Z","urls":["http://DL.evil-cdn.EXAMPLE/payload.exe"]}`,
			[]hitKey{{8, "url", "http://dl.evil-cdn.example/payload.exe"}}},
		{"URL path is case-sensitive", `{"time":"2026-11-20T08:00:00Z","urls":["http://dl.evil-cdn.example/PAYLOAD.exe"]}`, nil},
		{"hashes in any case", `{"time":"2026-11-20T08:00:00Z","hashes":["44d88612fea8a8f36de82e1278abb02f","3395856CE81F2B7382DEE72602F798B642F14140","275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"]}`,
			[]hitKey{{9, "hash", "44d88612fea8a8f36de82e1278abb02f"}, {10, "hash", "3395856ce81f2b7382dee72602f798b642f14140"}, {11, "hash", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}},
		{"email", `{"time":"2026-11-20T08:00:00Z","emails":["billing@EVIL-cdn.example","other@evil-cdn.example"]}`,
			[]hitKey{{12, "email", "billing@evil-cdn.example"}}},
		{"nothing", `{"time":"2026-11-20T08:00:00Z","src_ip":"192.0.2.1","dst_ip":"11.0.0.1","domains":["good.example"],"hashes":["d41d8cd98f00b204e9800998ecf8427e"]}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := decodeOne(t, c.event)
			got := x.Match(&e, nil)
			if !reflect.DeepEqual(keys(got), c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("hits %v, want %v", keys(got), c.want)
			}
			for _, h := range got {
				if h.Confidence != int(h.IndicatorID%101) || h.OrgID != 100+h.IndicatorID%3 {
					t.Errorf("hit %+v carries the wrong confidence or owner", h)
				}
			}
		})
	}
	// Match appends after what dst holds.
	e := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"198.51.100.23"}`)
	dst := x.Match(&e, []Hit{{IndicatorID: 1, Field: "src"}})
	if len(dst) != 2 {
		t.Errorf("Match with a non-empty dst: %v", dst)
	}
	if n := testing.AllocsPerRun(100, func() { dst = x.Match(&e, dst[:0]) }); n != 0 {
		t.Errorf("Match allocates %v times per event", n)
	}
}

func TestEmptyIndex(t *testing.T) {
	x := Build(nil)
	e := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"10.0.0.1","domains":["a.example"],"urls":["http://a.example/"],"hashes":["d41d8cd98f00b204e9800998ecf8427e"],"emails":["a@a.example"]}`)
	if hs := x.Match(&e, nil); len(hs) != 0 || x.Len() != 0 {
		t.Errorf("empty index: %v", hs)
	}
	b := NewBuilder()
	for _, in := range []Indicator{{Kind: "ipv4", Value: "300.1.1.1"}, {Kind: "md5", Value: "xyz"}, {Kind: "cidr", Value: "10.0.0.0/33"}, {Kind: "stix", Value: "[x:y = 'z']"}, {Kind: "domain"}} {
		if b.Add(in) {
			t.Errorf("Add(%+v) accepted", in)
		}
	}
	if b.Skipped() != 5 || b.Index().Len() != 0 {
		t.Error("unreadable indicators were indexed")
	}
}

// The index is read by many workers at once.
func TestConcurrentReaders(t *testing.T) {
	x := Build([]Indicator{ind(t, 1, intel.KindCIDR, "10.0.0.0/8"), ind(t, 2, intel.KindDomain, "evil.example")})
	e := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"10.1.2.3","domains":["a.evil.example"]}`)
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			var dst []Hit
			for range 1000 {
				dst = x.Match(&e, dst[:0])
				n += len(dst)
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != 2000 {
			t.Errorf("a reader saw %d hits, want 2000", n)
		}
	}
}

func TestLoad(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
		clock := testkit.NewClock(t0)
		sys := policy.SystemActor("test")
		orgs := org.NewService(db, clock.Now, nil)
		o, err := orgs.Create(ctx, sys, org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		svc := intel.NewService(db, clock.Now, nil)
		mk := func(kind intel.Kind, v string, from, until time.Time) int64 {
			t.Helper()
			i, err := svc.Create(ctx, sys, intel.Input{OwnerOrgID: o.ID, Kind: kind, Value: v, TLP: policy.TLPGreen, Confidence: 90, ValidFrom: from, ValidUntil: until})
			if err != nil {
				t.Fatalf("create %s: %v", v, err)
			}
			return i.ID
		}
		active := mk(intel.KindCIDR, "203.0.113.0/24", t0.Add(-time.Hour), time.Time{})
		later := mk(intel.KindDomain, "evil.example", t0.Add(-time.Hour), t0.Add(2*time.Hour))
		expired := mk(intel.KindIPv4, "198.51.100.1", t0.Add(-3*time.Hour), t0.Add(time.Hour))
		revoked := mk(intel.KindMD5, "44d88612fea8a8f36de82e1278abb02f", t0.Add(-time.Hour), time.Time{})
		future := mk(intel.KindURL, "http://evil.example/x", t0.Add(150*time.Minute), time.Time{})
		mk(intel.KindSTIX, "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']", t0.Add(-time.Hour), time.Time{})
		if err := svc.Revoke(ctx, sys, revoked); err != nil {
			t.Fatal(err)
		}
		e := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"203.0.113.9","dst_ip":"198.51.100.1","domains":["www.evil.example"],"urls":["http://evil.example/x"],"hashes":["44D88612FEA8A8F36DE82E1278ABB02F"]}`)

		x, err := Load(ctx, db, t0.Add(90*time.Minute)) // expired has just ended
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() != 2 {
			t.Errorf("Len = %d, want 2 (the range and the domain)", x.Len())
		}
		got := keys(x.Match(&e, nil))
		want := []hitKey{{active, "src", "203.0.113.9"}, {later, "domain", "www.evil.example"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("hits %v, want %v", got, want)
		}
		for _, h := range x.Match(&e, nil) {
			if h.Confidence != 90 || h.OrgID != o.ID {
				t.Errorf("hit %+v", h)
			}
		}

		// Earlier, the expired one was still in force and the future one not yet.
		x, err = Load(ctx, db, t0)
		if err != nil {
			t.Fatal(err)
		}
		got = keys(x.Match(&e, nil))
		want = []hitKey{{active, "src", "203.0.113.9"}, {later, "domain", "www.evil.example"}, {expired, "dst", "198.51.100.1"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("at t0: hits %v, want %v", got, want)
		}
		// Later still, the future one is in force and the domain has expired.
		x, err = Load(ctx, db, t0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got = keys(x.Match(&e, nil))
		want = []hitKey{{active, "src", "203.0.113.9"}, {future, "url", "http://evil.example/x"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("at t0+3h: hits %v, want %v", got, want)
		}
	})
}
