package campaign

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/netip"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// The first list: the header in another order, three bad lines, a
// duplicate and an unrouted address.
const list1 = `note,ip,port,asn,seen_at,malware
camera,100.64.7.9,23,,2026-11-25,Mirai
isp customer,100.64.9.9,2323,,2026-11-25T10:00:00Z,
no range here,198.51.100.5,,AS64500,,
nobody,203.0.113.9,,,,
bad ip,999.1.1.1,,,,
bad port,100.64.7.10,70000,,,
bad date,100.64.7.11,,,yesterday,
dup,100.64.7.9,23,,,
`

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestImportRouting(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "amber")
		res, err := f.s.ImportCSV(ctx, coord, c.ID, "list1.csv.gz", bytes.NewReader(gz(list1)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 5 || res.New != 4 || res.Unrouted != 1 || res.Members != 3 || len(res.Errors) != 3 {
			t.Fatalf("result %+v", res)
		}
		for i, line := range []int{6, 7, 8} {
			if res.Errors[i].Line != line {
				t.Errorf("error %d on line %d, want %d (%s)", i, res.Errors[i].Line, line, res.Errors[i].Message)
			}
		}
		addrs, err := f.s.Addresses(ctx, coord, c.ID, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]int64{"100.64.7.9": {f.cust.ID, f.isp.ID}, "100.64.9.9": {f.isp.ID, f.isp.ID},
			"198.51.100.5": {f.other.ID, f.isp.ID}, "203.0.113.9": {0, 0}}
		if len(addrs) != len(want) {
			t.Fatalf("%d addresses, want %d", len(addrs), len(want))
		}
		for _, a := range addrs {
			w, ok := want[a.IP]
			if !ok || a.MemberOrgID != w[0] || a.ISPOrgID != w[1] || a.Status != AddrOpen {
				t.Errorf("%s routed to member %d ISP %d (%s), want %v", a.IP, a.MemberOrgID, a.ISPOrgID, a.Status, w)
			}
			if a.IP == "100.64.7.9" && (a.Malware != "Mirai" || a.Port != 23) {
				t.Errorf("row kept %+v", a)
			}
			if a.IP == "198.51.100.5" && a.Malware != "Mirai" {
				t.Errorf("the campaign's malware is the default: %q", a.Malware)
			}
		}
		un, err := f.s.Addresses(ctx, coord, c.ID, Filter{Unrouted: true})
		if err != nil || len(un) != 1 || un[0].IP != "203.0.113.9" {
			t.Fatalf("unrouted %v %v", un, err)
		}
		// One message per organisation of the import: CUST, ISP, OTHER.
		if n := f.count(`SELECT COUNT(*) FROM notifications WHERE kind = ?`, KindNotified); n != 3 {
			t.Fatalf("%d messages, want 3", n)
		}
		if n := f.count(`SELECT rows_bad FROM campaign_imports WHERE id = ?`, res.ImportID); n != 3 {
			t.Fatalf("import recorded %d refused lines, want 3", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM campaign_parts WHERE campaign_id = ? AND status = ?`, c.ID, PartNotified); n != 3 {
			t.Fatalf("%d parts, want 3", n)
		}
		f.verifyAudit()
	})
}

func TestImportRefusals(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "amber")
		for name, body := range map[string]string{
			"no ip column":   "port,asn\n23,1\n",
			"unknown column": "ip,colour\n100.64.7.9,red\n",
			"empty":          "",
			"only bad rows":  "ip\nnot-an-ip\n127.0.0.1\n",
		} {
			if _, err := f.s.ImportCSV(ctx, coord, c.ID, name, strings.NewReader(body)); !errs.Is(err, errs.KindInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		// A member, a viewer and a response unit outside the campaign may not import.
		for _, a := range []policy.Actor{f.actor(f.cust, policy.RoleAdmin), f.actor(f.national, policy.RoleViewer), f.actor(f.hnu, policy.RoleCoordinator)} {
			if _, err := f.s.ImportCSV(ctx, a, c.ID, "x", strings.NewReader("ip\n100.64.7.9\n")); err == nil {
				t.Errorf("%s imported", a.Username)
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM campaign_addresses`); n != 0 {
			t.Fatalf("%d addresses written by refused imports", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM campaign_imports`); n != 0 {
			t.Fatalf("%d imports written", n)
		}
		// Create: bad fields, a member organisation may not run a campaign.
		_, err := f.s.Create(ctx, coord, Input{TLP: "purple"})
		if e, ok := errs.As(err); !ok || !e.Has("name") || !e.Has("malware") || !e.Has("actions") || !e.Has("tlp") || !e.Has("ends_at") {
			t.Fatalf("create: %v", err)
		}
		_, err = f.s.Create(ctx, f.actor(f.cust, policy.RoleCoordinator), Input{Name: "x", Malware: "x", Actions: "x", TLP: "green", EndsAt: t0.Add(24 * 3600e9)})
		if !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("a member ran a campaign: %v", err)
		}
		if _, err := f.s.AddAddress(ctx, coord, c.ID, Row{}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("empty address: %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM campaigns`); n != 1 {
			t.Fatalf("%d campaigns", n)
		}
	})
}

func TestDedupeAndReinfection(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "green")
		if _, err := f.s.ImportCSV(ctx, coord, c.ID, "1", strings.NewReader(list1)); err != nil {
			t.Fatal(err)
		}
		cust := f.actor(f.cust, policy.RoleReporter)
		for _, st := range []string{PartAcknowledged, PartCleaning} {
			if _, err := f.s.SetStatus(ctx, cust, c.ID, f.cust.ID, st, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.MarkCleaned(ctx, cust, c.ID, "100.64.7.9"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetStatus(ctx, cust, c.ID, f.cust.ID, PartCleaned, ""); err != nil {
			t.Fatal(err)
		}
		// The ISP cleans its customer's address.
		if _, err := f.s.MarkCleaned(ctx, f.actor(f.isp, policy.RoleAnalyst), c.ID, "198.51.100.5"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(24 * 3600e9)
		res, err := f.s.ImportCSV(ctx, coord, c.ID, "2", strings.NewReader("ip\n100.64.7.9\n100.64.9.9\n::ffff:100.64.7.9\n"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 3 || res.New != 0 || res.Reinfected != 1 || res.Seen != 1 || res.Members != 1 {
			t.Fatalf("second import %+v", res)
		}
		if n := f.count(`SELECT COUNT(*) FROM campaign_addresses WHERE campaign_id = ?`, c.ID); n != 4 {
			t.Fatalf("%d addresses after a re-import, want 4", n)
		}
		addrs, _ := f.s.Addresses(ctx, coord, c.ID, Filter{Status: AddrReinfected})
		if len(addrs) != 1 || addrs[0].IP != "100.64.7.9" || addrs[0].Reinfections != 1 {
			t.Fatalf("reinfected %+v", addrs)
		}
		parts, _ := f.s.Parts(ctx, cust, c.ID)
		if len(parts) != 1 || parts[0].Status != PartCleaning {
			t.Fatalf("the cleaned part reopens as cleaning: %+v", parts)
		}
		// One more message for CUST and ISP (the reinfected address), none for OTHER.
		if n := f.count(`SELECT COUNT(*) FROM notifications WHERE kind = ?`, KindNotified); n != 5 {
			t.Fatalf("%d messages, want 5", n)
		}
		rep, err := f.s.Report(ctx, coord, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Addresses != 4 || rep.Total.AtStart != 4 || rep.Total.Cleaned != 1 || rep.Total.Remaining != 3 || rep.Total.Reinfected != 1 || rep.Unrouted != 1 {
			t.Fatalf("total %+v unrouted %d", rep.Total, rep.Unrouted)
		}
		byCode := map[string]Line{}
		for _, l := range rep.Members {
			byCode["m:"+l.Code] = l
		}
		for _, l := range rep.ISPs {
			byCode["i:"+l.Code] = l
		}
		check := func(k string, start, cleaned, remaining, reinf int) {
			l := byCode[k]
			if l.AtStart != start || l.Cleaned != cleaned || l.Remaining != remaining || l.Reinfected != reinf {
				t.Errorf("%s: %+v, want start %d cleaned %d remaining %d reinfected %d", k, l, start, cleaned, remaining, reinf)
			}
		}
		check("m:CUST", 1, 0, 1, 1)
		check("m:OTHER", 1, 1, 0, 0)
		check("m:ISP", 1, 0, 1, 0)
		check("i:ISP", 3, 1, 2, 1)
		if len(rep.Provinces) != 2 || rep.Provinces[0].Province != "HCM" || rep.Provinces[0].Addresses != 2 || rep.Provinces[1].Remaining != 1 {
			t.Fatalf("provinces %+v", rep.Provinces)
		}
		if _, err := f.s.MarkCleaned(ctx, cust, c.ID, "100.64.9.9"); err == nil {
			t.Fatal("CUST cleaned an address of the ISP's own range")
		}
		f.verifyAudit()
	})
}

func TestTransitions(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "amber")
		if _, err := f.s.AddAddress(ctx, coord, c.ID, Row{IP: netip.MustParseAddr("100.64.7.20")}); err != nil {
			t.Fatal(err)
		}
		cust := f.actor(f.cust, policy.RoleReporter)
		refuse := func(a policy.Actor, org int64, st, note string, kind errs.Kind) {
			t.Helper()
			before := f.count(`SELECT COUNT(*) FROM audit_log`)
			if _, err := f.s.SetStatus(ctx, a, c.ID, org, st, note); !errs.Is(err, kind) {
				t.Errorf("%s → %s: %v, want %v", a.Username, st, err, kind)
			}
			if after := f.count(`SELECT COUNT(*) FROM audit_log`); after != before {
				t.Errorf("a refused move wrote %d audit entries", after-before)
			}
		}
		refuse(cust, f.cust.ID, PartCleaned, "", errs.KindConflict)
		refuse(cust, f.cust.ID, PartNotAffected, "  ", errs.KindInvalid)
		refuse(cust, f.cust.ID, "done", "", errs.KindInvalid)
		refuse(cust, f.cust.ID, PartNotified, "", errs.KindInvalid)
		refuse(f.actor(f.cust, policy.RoleViewer), f.cust.ID, PartAcknowledged, "", errs.KindForbidden)
		refuse(f.actor(f.other, policy.RoleAdmin), f.cust.ID, PartAcknowledged, "", errs.KindNotFound)
		refuse(cust, f.other.ID, PartAcknowledged, "", errs.KindNotFound)
		p, err := f.s.SetStatus(ctx, cust, c.ID, f.cust.ID, PartAcknowledged, "")
		if err != nil || p.Status != PartAcknowledged || !p.AcknowledgedAt.Equal(t0) {
			t.Fatalf("acknowledge %+v %v", p, err)
		}
		refuse(cust, f.cust.ID, PartAcknowledged, "", errs.KindConflict)
		// The organisation above the member may answer for it.
		p, err = f.s.SetStatus(ctx, f.actor(f.isp, policy.RoleCoordinator), c.ID, f.cust.ID, PartNotAffected, "máy đã thay")
		if err != nil || p.Status != PartNotAffected || p.Note != "máy đã thay" {
			t.Fatalf("not affected %+v %v", p, err)
		}
		refuse(cust, f.cust.ID, PartCleaning, "", errs.KindConflict)
		if _, err := f.s.MarkCleaned(ctx, cust, c.ID, "100.64.7.20"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.MarkCleaned(ctx, cust, c.ID, "100.64.7.20"); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("cleaned twice: %v", err)
		}
		if _, err := f.s.MarkCleaned(ctx, cust, c.ID, "nope"); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("bad ip: %v", err)
		}
		f.verifyAudit()
	})
}

func TestVisibility(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "amber+strict")
		if _, err := f.s.ImportCSV(ctx, coord, c.ID, "1", strings.NewReader(list1)); err != nil {
			t.Fatal(err)
		}
		seen := func(a policy.Actor) []string {
			t.Helper()
			addrs, err := f.s.Addresses(ctx, a, c.ID, Filter{})
			if err != nil {
				t.Fatalf("%s: %v", a.Username, err)
			}
			var out []string
			for _, ad := range addrs {
				out = append(out, ad.IP)
			}
			return out
		}
		if got := strings.Join(seen(f.actor(f.cust, policy.RoleViewer)), " "); got != "100.64.7.9" {
			t.Errorf("CUST sees %s", got)
		}
		if got := strings.Join(seen(f.actor(f.isp, policy.RoleViewer)), " "); got != "100.64.7.9 100.64.9.9 198.51.100.5" {
			t.Errorf("ISP sees %s", got)
		}
		if got := strings.Join(seen(f.actor(f.other, policy.RoleViewer)), " "); got != "198.51.100.5" {
			t.Errorf("OTHER sees %s", got)
		}
		if got := len(seen(coord)); got != 4 {
			t.Errorf("the coordinator sees %d", got)
		}
		// AMBER+STRICT: SIB and HNU (not participants) do not see the
		// campaign at all.
		for _, a := range []policy.Actor{f.actor(f.sib, policy.RoleAdmin), f.actor(f.hnu, policy.RoleCoordinator)} {
			if _, err := f.s.Get(ctx, a, c.ID); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("%s: %v", a.Username, err)
			}
			if l, _ := f.s.List(ctx, a); len(l) != 0 {
				t.Errorf("%s lists %d", a.Username, len(l))
			}
		}
		cust := f.actor(f.cust, policy.RoleAdmin)
		if _, err := f.s.Addresses(ctx, cust, c.ID, Filter{Unrouted: true}); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("member reads unrouted: %v", err)
		}
		if _, err := f.s.Report(ctx, cust, c.ID); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("member reads the report: %v", err)
		}
		if parts, _ := f.s.Parts(ctx, cust, c.ID); len(parts) != 1 || parts[0].OrgID != f.cust.ID {
			t.Errorf("member parts %+v", parts)
		}
	})
}

func TestReminderOnce(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		coord := f.actor(f.national, policy.RoleCoordinator)
		c := f.campaign(coord, "green")
		if _, err := f.s.ImportCSV(ctx, coord, c.ID, "1", strings.NewReader(list1)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetStatus(ctx, f.actor(f.other, policy.RoleReporter), c.ID, f.other.ID, PartAcknowledged, ""); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(3*24*3600e9 - 1e9)
		if n, err := f.s.Remind(ctx); err != nil || n != 0 {
			t.Fatalf("early: %d %v", n, err)
		}
		f.clock.Advance(1e9)
		if n, err := f.s.Remind(ctx); err != nil || n != 2 {
			t.Fatalf("due: %d %v, want 2 (CUST and ISP, OTHER acknowledged)", n, err)
		}
		f.clock.Advance(24 * 3600e9)
		if n, err := f.s.Remind(ctx); err != nil || n != 0 {
			t.Fatalf("again: %d %v", n, err)
		}
		if n := f.count(`SELECT COUNT(*) FROM notifications WHERE kind = ?`, KindReminder); n != 2 {
			t.Fatalf("%d reminders", n)
		}
		rep, _ := f.s.Report(ctx, coord, c.ID)
		overdue := 0
		for _, l := range rep.Members {
			if l.Overdue {
				overdue++
			}
		}
		if overdue != 2 {
			t.Fatalf("%d overdue members, want 2", overdue)
		}
		f.verifyAudit()
	})
}
