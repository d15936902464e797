package match

import (
	stdjson "encoding/json"
	"os"
	"testing"

	"certnet/internal/ingest/decode"
	"certnet/internal/intel"
	"certnet/internal/testkit"
)

// The real Suricata alerts of the shared data, decoded and matched against
// indicators of some of their addresses, a range and a host name: every
// alert that carries one of them hits, and no other.
func TestSharedSuricata(t *testing.T) {
	raw, err := os.ReadFile(testkit.SharedData(t, "suricata/first-org-conf-2015.alerts-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, lerrs, err := decode.Decode(decode.Suricata, raw, nil) // the file is a JSON array
	if err != nil || len(lerrs) != 0 {
		t.Fatalf("%v %v", err, lerrs)
	}
	var recs []struct {
		Src  string `json:"src_ip"`
		Dst  string `json:"dest_ip"`
		HTTP *struct {
			Hostname string `json:"hostname"`
		} `json:"http"`
	}
	if err := stdjson.Unmarshal(raw, &recs); err != nil {
		t.Fatal(err)
	}
	x := Build([]Indicator{
		ind(t, 1, intel.KindIPv4, "222.186.56.46"),
		ind(t, 2, intel.KindCIDR, "157.56.0.0/16"),
		ind(t, 3, intel.KindDomain, "skype.com"),
	})
	want := map[int64]int{}
	for _, r := range recs {
		if r.Src == "222.186.56.46" || r.Dst == "222.186.56.46" {
			want[1]++
		}
		if len(r.Src) > 7 && r.Src[:7] == "157.56." || len(r.Dst) > 7 && r.Dst[:7] == "157.56." {
			want[2]++
		}
		if h := r.HTTP; h != nil && (h.Hostname == "skype.com" || len(h.Hostname) > 10 && h.Hostname[len(h.Hostname)-10:] == ".skype.com") {
			want[3]++
		}
	}
	got := map[int64]int{}
	var hits []Hit
	for i := range evs {
		hits = x.Match(&evs[i], hits[:0])
		seen := map[int64]bool{}
		for _, h := range hits {
			if !seen[h.IndicatorID] {
				got[h.IndicatorID]++
				seen[h.IndicatorID] = true
			}
		}
	}
	if want[1] == 0 || want[2] == 0 || want[3] == 0 {
		t.Fatalf("the sample no longer has the chosen values: %v", want)
	}
	for id := int64(1); id <= 3; id++ {
		if got[id] != want[id] {
			t.Errorf("indicator %d hit %d alerts, want %d", id, got[id], want[id])
		}
	}
	t.Logf("%d alerts; alerts hit per indicator: %v", len(evs), got)
}
