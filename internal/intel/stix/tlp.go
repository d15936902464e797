package stix

// TLP marking-definition ids (TLP 2.0, and TLP 1.0 accepted on import).
var tlpMarkings = map[string]string{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "CLEAR",
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "GREEN",
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "AMBER",
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "AMBER+STRICT",
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "RED",
	// TLP 1.0
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
}

var tlp2IDs = map[string]string{
	"CLEAR":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"GREEN":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"AMBER":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"RED":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// TLPOfMarking returns the label ("CLEAR" … "RED") a TLP 2.0 or 1.0 marking
// definition stands for, or "".
func TLPOfMarking(id string) string { return tlpMarkings[id] }

// TLPMarkingID returns the TLP 2.0 marking-definition id of a label.
func TLPMarkingID(label string) string { return tlp2IDs[label] }

// TLPMarking returns the TLP 2.0 marking-definition object of a label.
func TLPMarking(label string) map[string]any {
	id := tlp2IDs[label]
	if id == "" {
		return nil
	}
	return map[string]any{
		"type": "marking-definition", "spec_version": "2.1", "id": id, "created": "2022-10-01T00:00:00.000Z",
		"name": "TLP:" + label,
		"extensions": map[string]any{
			"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": map[string]any{
				"extension_type": "property-extension", "tlp_2_0": map[string]string{
					"CLEAR": "clear", "GREEN": "green", "AMBER": "amber", "AMBER+STRICT": "amber+strict", "RED": "red"}[label],
			},
		},
	}
}
