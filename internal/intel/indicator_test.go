package intel

import (
	"context"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestNormalise(t *testing.T) {
	for _, c := range []struct {
		kind  Kind
		in    string
		kOut  Kind
		vOut  string
		fails bool
	}{
		{"", "198.51.100.7", KindIPv4, "198.51.100.7", false},
		{"", " 2001:DB8::1 ", KindIPv6, "2001:db8::1", false},
		{"", "::ffff:198.51.100.7", KindIPv4, "198.51.100.7", false},
		{"", "198.51.100.9/24", KindCIDR, "198.51.100.0/24", false},
		{KindCIDR, "198.51.100.9/32", KindIPv4, "198.51.100.9", false},
		{"", "Evil.Example.COM.", KindDomain, "evil.example.com", false},
		{"", "bộ-công-an.vn", KindDomain, "xn--b-cng-an-63a1467e.vn", false},
		{"", "HTTP://Evil.Example.com:8080/a?b=c#frag", KindURL, "http://evil.example.com:8080/a?b=c", false},
		{"", "D41D8CD98F00B204E9800998ECF8427E", KindMD5, "d41d8cd98f00b204e9800998ecf8427e", false},
		{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709", KindSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", false},
		{"", "Phish@Example.COM", KindEmail, "Phish@example.com", false},
		{"", "[ipv4-addr:value = '203.0.113.5']", KindIPv4, "203.0.113.5", false},
		{"", "[file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']", KindSHA256, "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", false},
		{"", "[file:name = 'x.exe']", KindSTIX, "[file:name = 'x.exe']", false},
		{KindIPv4, "2001:db8::1", "", "", true},
		{KindIPv4, "300.1.1.1", "", "", true},
		{KindMD5, "abc", "", "", true},
		{KindDomain, "localhost", "", "", true},
		{KindDomain, "-bad-.vn", "", "", true},
		{KindURL, "example.com/path", "", "", true},
		{KindEmail, "Name <a@b.vn>", "", "", true},
		{KindSTIX, "[ipv4-addr:value = ", "", "", true},
		{"", "", "", "", true},
		{"bogus", "x", "", "", true},
	} {
		k, v, err := Normalise(c.kind, c.in)
		if c.fails {
			if err == nil {
				t.Errorf("%s %q: accepted as %s %q", c.kind, c.in, k, v)
			}
			continue
		}
		if err != nil || k != c.kOut || v != c.vOut {
			t.Errorf("%s %q: got %s %q %v, want %s %q", c.kind, c.in, k, v, err, c.kOut, c.vOut)
		}
	}
}

func TestNormaliseRSIT(t *testing.T) {
	for in, want := range map[string]string{
		`rsit:malicious-code="c2-server"`: `rsit:malicious-code="c2-server"`,
		`RSIT:Fraud=phishing`:             `rsit:fraud="phishing"`,
		`rsit:test`:                       `rsit:test="test"`,
	} {
		if got, err := NormaliseRSIT(in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, in := range []string{`rsit:fraud="spam"`, `rsit:nope="x"`, `tlp:amber`} {
		if _, err := NormaliseRSIT(in); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestIndicatorStore(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		hnAnalyst := f.actor(f.hn, policy.RoleAnalyst)

		// One row per value: the same value twice (written differently)
		// is one indicator with two sources, the stricter label and the
		// higher confidence.
		a, err := f.s.Create(ctx, hnAnalyst, Input{Value: "Evil.Example.com", TLP: policy.TLPGreen, Confidence: 40,
			Tags: []string{`rsit:malicious-code="c2-server"`}, KillChain: []string{"lockheed-martin-cyber-kill-chain:command-and-control"},
			Name: "Máy chủ điều khiển", ValidUntil: t0.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != KindDomain || a.Value != "evil.example.com" || a.Pattern != "[domain-name:value = 'evil.example.com']" {
			t.Fatalf("created %+v", a)
		}
		b, err := f.s.Create(ctx, hnAnalyst, Input{Kind: KindDomain, Value: "evil.example.com.", TLP: policy.TLPAmber, Confidence: 80,
			Source: "misp:abc", Ref: "attr-1", Tags: []string{"rsit:fraud=phishing"}, ValidUntil: t0.Add(72 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if b.ID != a.ID || b.TLP != policy.TLPAmber || b.Confidence != 80 || len(b.Tags) != 2 || !b.ValidUntil.Equal(t0.Add(72*time.Hour)) {
			t.Fatalf("merged %+v", b)
		}
		got, err := f.s.Get(ctx, hnAnalyst, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Sources) != 2 || got.Sources[1].Source != "misp:abc" || got.Name != "Máy chủ điều khiển" {
			t.Fatalf("sources %+v", got.Sources)
		}
		if f.count("intel_indicators") != 1 {
			t.Fatal("duplicate row")
		}

		// Bad input changes nothing and names every field.
		_, err = f.s.Create(ctx, hnAnalyst, Input{Kind: KindIPv4, Value: "999.1.1.1", TLP: "PINK", Confidence: 101,
			Tags: []string{"rsit:x=y"}, ValidFrom: t0, ValidUntil: t0.Add(-time.Hour)})
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.KindInvalid {
			t.Fatalf("want invalid, got %v", err)
		}
		for _, fld := range []string{"value", "tlp", "confidence", "tags", "valid_until"} {
			if !e.Has(fld) {
				t.Errorf("no error for %s: %v", fld, e.Fields)
			}
		}
		if f.count("intel_indicators") != 1 {
			t.Fatal("invalid input stored")
		}

		// Policy: a viewer may not create; the sibling province does not
		// see AMBER; GREEN reaches every member.
		if _, err := f.s.Create(ctx, f.actor(f.hn, policy.RoleViewer), Input{Value: "203.0.113.9", TLP: policy.TLPGreen}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer create: %v", err)
		}
		if _, err := f.s.Create(ctx, hnAnalyst, Input{OwnerOrgID: f.dn.ID, Value: "203.0.113.9", TLP: policy.TLPGreen}); err == nil {
			t.Fatal("created for an organisation outside scope")
		}
		dnAnalyst := f.actor(f.dn, policy.RoleAnalyst)
		if _, err := f.s.Get(ctx, dnAnalyst, a.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("sibling sees AMBER: %v", err)
		}
		green, err := f.s.Create(ctx, hnAnalyst, Input{Value: "203.0.113.9", TLP: policy.TLPGreen})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Get(ctx, dnAnalyst, green.ID); err != nil {
			t.Fatalf("sibling does not see GREEN: %v", err)
		}
		if _, err := f.s.Get(ctx, f.actor(f.national, policy.RoleViewer), a.ID); err != nil {
			t.Fatalf("national does not see AMBER: %v", err)
		}
		red, err := f.s.Create(ctx, hnAnalyst, Input{Value: "d41d8cd98f00b204e9800998ecf8427e", TLP: policy.TLPRed})
		if err != nil {
			t.Fatal(err)
		}
		list, total, err := f.s.List(ctx, dnAnalyst, Filter{})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != green.ID {
			t.Fatalf("sibling list %v %d %v", list, total, err)
		}
		list, total, _ = f.s.List(ctx, f.actor(f.national, policy.RoleAnalyst), Filter{})
		if total != 2 {
			t.Fatalf("national list %d", total)
		}
		list, total, _ = f.s.List(ctx, hnAnalyst, Filter{})
		if total != 3 {
			t.Fatalf("creator list %d (RED included)", total)
		}

		// Filters: kind, label, source, search without diacritics, status.
		for _, c := range []struct {
			f    Filter
			want int
		}{
			{Filter{Kind: KindDomain}, 1},
			{Filter{TLP: policy.TLPRed}, 1},
			{Filter{Source: "misp:"}, 1},
			{Filter{Source: "manual"}, 3},
			{Filter{Query: "may chu dieu khien"}, 1},
			{Filter{Query: "203.0.113"}, 1},
			{Filter{Status: "active"}, 3},
		} {
			if _, n, err := f.s.List(ctx, hnAnalyst, c.f); err != nil || n != c.want {
				t.Errorf("filter %+v: %d %v, want %d", c.f, n, err, c.want)
			}
		}
		if _, _, err := f.s.List(ctx, hnAnalyst, Filter{Status: "later"}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("bad status: %v", err)
		}
		f.clock.Advance(73 * time.Hour)
		if _, n, _ := f.s.List(ctx, hnAnalyst, Filter{Status: "expired"}); n != 1 {
			t.Errorf("expired %d", n)
		}
		if err := f.s.Expire(ctx, hnAnalyst, green.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Revoke(ctx, hnAnalyst, red.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Revoke(ctx, dnAnalyst, green.ID); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("sibling revoke: %v", err)
		}
		if _, n, _ := f.s.List(ctx, hnAnalyst, Filter{Status: "active"}); n != 0 {
			t.Errorf("active after expiry %d", n)
		}
		if _, n, _ := f.s.List(ctx, hnAnalyst, Filter{Status: "revoked"}); n != 1 {
			t.Errorf("revoked %d", n)
		}

		// Sightings: the sibling province saw the GREEN one.
		if err := f.s.AddSighting(ctx, dnAnalyst, green.ID, SightingInput{Count: 3, Source: "ids"}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.AddSighting(ctx, dnAnalyst, green.ID, SightingInput{Count: -1}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("bad sighting: %v", err)
		}
		if err := f.s.AddSighting(ctx, dnAnalyst, a.ID, SightingInput{}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("sighting of an unseen indicator: %v", err)
		}
		g, _ := f.s.Get(ctx, hnAnalyst, green.ID)
		if len(g.Sightings) != 1 || g.Sightings[0].Count != 3 || g.Sightings[0].OrgID != f.dn.ID {
			t.Fatalf("sightings %+v", g.Sightings)
		}
		f.verifyAudit()
	})
}
