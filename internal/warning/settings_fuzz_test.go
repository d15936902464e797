package warning_test

import (
	"encoding/json"
	"math"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/warning"
)

// FuzzSettings feeds the thresholds as a client sends them (PUT
// /api/v1/warnings/settings): whatever the JSON, validation never panics,
// and what it accepts is inside the bounds and survives a round trip.
func FuzzSettings(f *testing.F) {
	f.Add(`{"min_orgs":3,"min_provinces":3,"window_minutes":60,"rate_factor":5,"rate_min_events":1000,"incident_confidence":80}`)
	f.Add(`{"min_orgs":-1,"rate_factor":1e308}`)
	f.Fuzz(func(t *testing.T, body string) {
		st := warning.DefaultSettings()
		if json.Unmarshal([]byte(body), &st) != nil {
			return
		}
		e := errs.Invalid("fuzz")
		st.Validate(e)
		if e.OrNil() != nil {
			return
		}
		if st.MinOrgs < 2 || st.MinProvinces < 0 || st.WindowMinutes < 5 || st.WindowMinutes > 7*24*60 ||
			math.IsNaN(st.RateFactor) || st.RateFactor < 1.5 || st.RateFactor > 1000 || st.RateMinEvents < 1 ||
			st.IncidentConfidence < 0 || st.IncidentConfidence > 100 {
			t.Fatalf("accepted out of bounds: %+v", st)
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back warning.Settings
		if err := json.Unmarshal(b, &back); err != nil || back != st {
			t.Fatalf("round trip %+v → %+v (%v)", st, back, err)
		}
	})
}
