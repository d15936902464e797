package readiness

import (
	"strings"
	"testing"
)

// The SIM3 v1 parameter list (Open CSIRT Foundation, SIM3 v1; O-6 is not
// used in v1): 10 Organisation, 7 Human, 10 Tools and 17 Processes
// parameters, 44 in all, with these ids and names. The list in sim3.go
// must be exactly this one, in this order.
func TestSim3ParamsAreSIM3v1(t *testing.T) {
	want := `O-1 Mandate
O-2 Constituency
O-3 Authority
O-4 Responsibility
O-5 Service Description
O-7 Service Level Description
O-8 Incident Classification
O-9 Integration in existing CSIRT systems
O-10 Organisational Framework
O-11 Security Policy
H-1 Code of Conduct / Practice / Ethics
H-2 Personnel Resilience
H-3 Skillset Description
H-4 Internal Training
H-5 (External) Technical Training
H-6 (External) Communication Training
H-7 External Networking
T-1 IT Resources List
T-2 Information Sources List
T-3 Consolidated E-mail System
T-4 Incident Tracking System
T-5 Resilient Phone
T-6 Resilient E-mail
T-7 Resilient Internet Access
T-8 Incident Prevention Toolset
T-9 Incident Detection Toolset
T-10 Incident Resolution Toolset
P-1 Escalation to Governance Level
P-2 Escalation to Press Function
P-3 Escalation to Legal Function
P-4 Incident Prevention Process
P-5 Incident Detection Process
P-6 Incident Resolution Process
P-7 Specific Incident Processes
P-8 Audit / Feedback Process
P-9 Emergency Reachability Process
P-10 Best Practice Internet Presence
P-11 Secure Information Handling Process
P-12 Information Sources Process
P-13 Outreach Process
P-14 Reporting Process
P-15 Statistics Process
P-16 Meeting Process
P-17 Peer-to-peer Process`
	lines := strings.Split(want, "\n")
	if len(Sim3Params) != len(lines) || len(lines) != 44 {
		t.Fatalf("%d parameters, want 44", len(Sim3Params))
	}
	per := map[string]int{}
	for i, l := range lines {
		id, name, _ := strings.Cut(l, " ")
		p := Sim3Params[i]
		if p.ID != id || p.Name != name || p.Category != id[:1] {
			t.Errorf("parameter %d: %s %s (%s), want %s %s (%s)", i, p.ID, p.Name, p.Category, id, name, id[:1])
		}
		per[p.Category]++
	}
	if per["O"] != 10 || per["H"] != 7 || per["T"] != 10 || per["P"] != 17 {
		t.Fatalf("per category: %v, want O 10, H 7, T 10, P 17", per)
	}
	if _, ok := sim3Param("O-6"); ok {
		t.Fatal("O-6 is not a SIM3 v1 parameter")
	}
	for _, c := range Sim3Categories {
		if per[c] == 0 {
			t.Fatalf("category %s has no parameter", c)
		}
	}
}
