package campaign

import (
	"strings"
	"testing"

	"certnet/internal/i18n"
)

// Every refused CSV line carries a catalog key whose message, in both
// languages, takes the line's arguments.
func TestRefusedLinesLocalised(t *testing.T) {
	list := list1 + "bad host,0.0.0.0,,,,\nmissing,,,,,\n\"quoted,\"x\"y,,,,\nlong," + "100.64.7.12,,,," + strings.Repeat("m", 201) + "\n"
	_, bad, err := ParseCSV(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, e := range bad {
		if e.Key == "" || e.Message == "" {
			t.Fatalf("line %d without a key: %+v", e.Line, e)
		}
		keys[e.Key] = true
		for _, l := range []i18n.Lang{i18n.VI, i18n.EN} {
			m := i18n.T(l, e.Key, e.Args...)
			if strings.HasPrefix(m, "[") || strings.Contains(m, "%!") {
				t.Errorf("%s %s: %q", l, e.Key, m)
			}
		}
	}
	for _, k := range []string{"campaign.line.ip", "campaign.line.port", "campaign.line.seen_at", "campaign.line.ip_host", "campaign.line.ip_missing", "campaign.line.csv"} {
		if !keys[k] {
			t.Errorf("no line refused as %s (%v)", k, keys)
		}
	}
	if m := i18n.T(i18n.VI, bad[0].Key, bad[0].Args...); !strings.Contains(m, "999.1.1.1") || !strings.Contains(m, "không phải") {
		t.Errorf("vi: %q", m)
	}
}
