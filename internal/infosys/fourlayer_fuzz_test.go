package infosys

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzLayersInput: any 4-layer input from a form or the API is refused
// with field errors or stored in canonical form — dates in range and in
// order, ranges as masked prefixes — and its evidence windows are sound.
func FuzzLayersInput(f *testing.F) {
	f.Add("Nguyễn Văn An", "provider", "SOC", "2026-01-01", "2026-12-31", "Kiểm định A", "2026-06-30", "2025-03-01", "203.0.113.0/24 2001:db8::1")
	f.Add("", "inhouse", "", "", "", "", "", "", "")
	f.Add("x", "provider", "", "2026-02-30", "2025-01-01", "", "2099-01-01", "", "300.1.1.1/8")
	f.Add("\x00", "cloud", "\xff", "0000-01-01", "9999-12-31", "a", "2026-1-1", "26/11/2026", "::/0,10.0.0.1/33")
	f.Fuzz(func(t *testing.T, staff, mon, prov, cs, ce, assessor, report, conn, ranges string) {
		in := LayersInput{Monitoring: mon, Provider: prov, ContractStart: cs, ContractEnd: ce, Assessor: assessor,
			LastReportOn: report, ConnectedSince: conn, RangesShared: SplitList(ranges)}
		for _, line := range strings.Split(staff, "\n") {
			in.Staff = append(in.Staff, Staff{Name: line})
		}
		l, err := validateLayers(context.Background(), nil, in, []int64{1}, t0)
		if err != nil {
			return
		}
		if l.Monitoring == MonitorProvider && (l.ContractStart.IsZero() || l.ContractEnd.Before(l.ContractStart) || l.Provider == "") {
			t.Fatalf("provider accepted without a valid contract: %+v", l)
		}
		for _, r := range l.RangesShared {
			p, err := netip.ParsePrefix(r)
			if err != nil || p.Masked() != p {
				t.Fatalf("range %q kept", r)
			}
		}
		if !l.LastReportOn.IsZero() && !l.LastReportOn.Before(dayAfter(t0)) {
			t.Fatalf("future report %v", l.LastReportOn)
		}
		l.CreatedAt = t0
		if from, until, ok := completeWindow(l, Layers{}); ok && !until.IsZero() && !from.Before(until) {
			t.Fatalf("empty window %v–%v", from, until)
		}
		for _, at := range []time.Time{t0, t0.AddDate(1, 0, 0), t0.AddDate(3, 0, 0)} {
			if st := Status(l, Layers{}, at); len(st) != len(LayerKeys) {
				t.Fatalf("status %+v", st)
			}
		}
	})
}
