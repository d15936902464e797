package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/campaign"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// The campaign import of an events file: by format=events, by its media
// type and in the JSON object, with a filter, a refused line kept out.
func TestCampaignImportEventsAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	mem := e.Org("MEM", "Công ty", nat.ID, org.RoleSystemOwner)
	if _, err := e.App.Orgs.AddRange(t.Context(), e.Sys, mem.ID, "100.70.1.0/24", ""); err != nil {
		t.Fatal(err)
	}
	coord := e.Token(e.User(nat.ID, "dieuphoi", policy.RoleCoordinator))
	camp, err := e.App.Campaign.Create(t.Context(), e.Sys, campaign.Input{OrgID: nat.ID, Name: "Bóc gỡ botnet", Malware: "Mirai",
		Actions: "Cập nhật firmware", TLP: "amber", EndsAt: e.Clock.Now().AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	events := `{"time":"2026-11-20T08:15:02Z","signature_id":900001,"src_ip":"100.70.1.5","dst_ip":"203.0.113.9"}
{"time":"2026-11-20T09:15:02Z","signature_id":900002,"src_ip":"100.70.1.6","dst_ip":"203.0.113.9"}
{"time": not json
{"time":"2026-11-20T10:15:02Z","signature_id":900001,"src_ip":"100.70.1.5","dst_ip":"203.0.113.9"}
`
	path := fmt.Sprintf("/api/v1/campaigns/%d/import", camp.ID)
	var res campaign.ImportResult
	r := call(t, e, "POST", path+"?format=events&signature_id=900001&source=eve", coord, events, map[string]string{"Content-Type": "text/plain"})
	json.Unmarshal(r.Body, &res)
	if r.Status != http.StatusOK || res.Rows != 1 || res.New != 1 || res.Members != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 3 {
		t.Fatalf("format=events: %d %s", r.Status, r.Body)
	}
	res = campaign.ImportResult{}
	r = call(t, e, "POST", path, coord, events, map[string]string{"Content-Type": "application/x-ndjson"})
	json.Unmarshal(r.Body, &res)
	if r.Status != http.StatusOK || res.Rows != 2 || res.New != 1 || res.Seen != 1 {
		t.Fatalf("ndjson: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "POST", path, coord, jsonBody(map[string]any{"events": events, "indicator": "100.70.1.6"}), nil)
	res = campaign.ImportResult{}
	json.Unmarshal(r.Body, &res)
	if r.Status != http.StatusOK || res.Rows != 1 || res.Seen != 1 {
		t.Fatalf("json object: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"?format=xml", "?format=events&signature_id=abc"} {
		r = call(t, e, "POST", path+q, coord, events, map[string]string{"Content-Type": "text/plain"})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	r = call(t, e, "POST", path, coord, jsonBody(map[string]any{"events": events, "csv": "ip\n100.70.1.9\n"}), nil)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("csv and events: %d %s", r.Status, r.Body)
	}
	// Addresses of no member: nothing to import, a field error.
	r = call(t, e, "POST", path+"?format=events&indicator=203.0.113.200", coord, events, nil)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "file") {
		t.Fatalf("no rows: %d %s", r.Status, r.Body)
	}
	if n, err := e.App.Campaign.Addresses(t.Context(), e.Sys, camp.ID, campaign.Filter{}); err != nil || len(n) != 2 {
		t.Fatalf("addresses %d %v", len(n), err)
	}
}
