package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TLP is a Traffic Light Protocol 2.0 label.
type TLP string

const (
	TLPClear       TLP = "CLEAR"
	TLPGreen       TLP = "GREEN"
	TLPAmber       TLP = "AMBER"
	TLPAmberStrict TLP = "AMBER+STRICT"
	TLPRed         TLP = "RED"
)

// TLPs lists the labels from least to most restrictive.
var TLPs = []TLP{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// ParseTLP accepts "TLP:AMBER", "amber", "amber+strict" and the TLP 1.0
// "WHITE" (which becomes CLEAR). Case and spaces do not matter; letters
// outside ASCII are refused (Unicode case folding would otherwise turn
// "whıte" or "amber+ſtrict" into labels).
func ParseTLP(s string) (TLP, error) {
	u := strings.TrimSpace(s)
	for i := 0; i < len(u); i++ {
		if u[i] >= utf8.RuneSelf {
			return "", fmt.Errorf("policy: unknown TLP label %q", s)
		}
	}
	u = strings.ReplaceAll(strings.ToUpper(u), " ", "")
	u = strings.TrimPrefix(u, "TLP:")
	switch u {
	case "CLEAR", "WHITE":
		return TLPClear, nil
	case "GREEN":
		return TLPGreen, nil
	case "AMBER":
		return TLPAmber, nil
	case "AMBER+STRICT", "AMBERSTRICT", "AMBER-STRICT":
		return TLPAmberStrict, nil
	case "RED":
		return TLPRed, nil
	}
	return "", fmt.Errorf("policy: unknown TLP label %q", s)
}

// Rank orders labels: CLEAR 0 … RED 4; unknown labels rank as RED.
func (t TLP) Rank() int {
	for i, l := range TLPs {
		if l == t {
			return i
		}
	}
	return len(TLPs) - 1
}

// Valid reports whether t is one of the five labels.
func (t TLP) Valid() bool {
	for _, l := range TLPs {
		if l == t {
			return true
		}
	}
	return false
}

// Label is the printed form, "TLP:AMBER+STRICT".
func (t TLP) Label() string { return "TLP:" + string(t) }

// CSSClass is the class used by the UI for the label's colours.
func (t TLP) CSSClass() string {
	return "tlp-" + strings.ToLower(strings.ReplaceAll(string(t), "+", "-"))
}
