package intel

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// mispTypes maps indicator kinds to MISP attribute types.
var mispTypes = map[Kind]string{
	KindIPv4: "ip-dst", KindIPv6: "ip-dst", KindCIDR: "ip-dst", KindDomain: "domain", KindURL: "url",
	KindMD5: "md5", KindSHA1: "sha1", KindSHA256: "sha256", KindEmail: "email", KindSTIX: "stix2-pattern",
}

type mispOutAttr struct {
	UUID         string    `json:"uuid"`
	Type         string    `json:"type"`
	Category     string    `json:"category"`
	Value        string    `json:"value"`
	ToIDs        bool      `json:"to_ids"`
	Distribution string    `json:"distribution"`
	Comment      string    `json:"comment"`
	Timestamp    string    `json:"timestamp"`
	Tag          []mispTag `json:"Tag"`
}

type mispOutEvent struct {
	UUID          string        `json:"uuid"`
	Info          string        `json:"info"`
	Date          string        `json:"date"`
	Published     bool          `json:"published"`
	Timestamp     string        `json:"timestamp"`
	ThreatLevelID string        `json:"threat_level_id"`
	Analysis      string        `json:"analysis"`
	Distribution  string        `json:"distribution"`
	Orgc          mispOrg       `json:"Orgc"`
	Tag           []mispTag     `json:"Tag"`
	Attribute     []mispOutAttr `json:"Attribute"`
}

type mispOrg struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

func mispCategory(k Kind) string {
	switch k {
	case KindMD5, KindSHA1, KindSHA256:
		return "Payload delivery"
	case KindSTIX:
		return "Other"
	}
	return "Network activity"
}

func tlpTag(t policy.TLP) string { return "tlp:" + strings.ToLower(string(t)) }

// ExportMISPFeed writes a MISP feed folder (one event per owning
// organisation, manifest.json, hashes.csv) of the indicators the actor may
// read, labelled at most maxTLP (GREEN when empty; RED never leaves). Each
// attribute carries its own tlp:* tag and the indicator's rsit:* tags; the
// event carries the least restrictive label of its attributes, which the
// attributes' own tags tighten (on import the strictest tag wins). orgName names an
// owner (may be nil). It returns the number of attributes written.
func (s *Service) ExportMISPFeed(ctx context.Context, a policy.Actor, dir string, maxTLP policy.TLP, orgName func(int64) string) (int, error) {
	const op = "intel: export misp feed"
	if maxTLP == "" {
		maxTLP = policy.TLPGreen
	}
	if !maxTLP.Valid() {
		return 0, errs.Invalid(op).Field("tlp", "intel.error.tlp")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	events := map[int64]*mispOutEvent{}
	loosest := map[int64]policy.TLP{}
	n := 0
	f := Filter{ByID: true, Limit: 1000}
	for {
		page, _, err := s.List(ctx, a, f)
		if err != nil {
			return n, err
		}
		for _, i := range page {
			if !exportable(i.TLP, maxTLP) {
				continue
			}
			ev := events[i.OwnerOrgID]
			if ev == nil {
				name := fmt.Sprintf("org %d", i.OwnerOrgID)
				if orgName != nil {
					name = orgName(i.OwnerOrgID)
				}
				ev = &mispOutEvent{UUID: uuidFrom("certnet-misp-feed", strconv.FormatInt(i.OwnerOrgID, 10)),
					Info: "certnet: " + name, Date: s.stamp().Format("2006-01-02"), Published: true, ThreatLevelID: "4", Analysis: "2",
					Distribution: "1", Orgc: mispOrg{Name: name, UUID: uuidFrom("certnet-org", strconv.FormatInt(i.OwnerOrgID, 10))}}
				events[i.OwnerOrgID] = ev
			}
			if l, ok := loosest[i.OwnerOrgID]; !ok || i.TLP.Rank() < l.Rank() {
				loosest[i.OwnerOrgID] = i.TLP
			}
			at := mispOutAttr{UUID: uuidFrom("certnet-attr", i.STIXID, i.Value), Type: mispTypes[i.Kind], Category: mispCategory(i.Kind),
				Value: i.Value, ToIDs: i.Active(s.Now()), Distribution: "5", Comment: i.Name,
				Timestamp: strconv.FormatInt(i.UpdatedAt.Unix(), 10), Tag: []mispTag{{tlpTag(i.TLP)}}}
			for _, t := range i.Tags {
				at.Tag = append(at.Tag, mispTag{t})
			}
			ev.Attribute = append(ev.Attribute, at)
			if ts := at.Timestamp; ts > ev.Timestamp {
				ev.Timestamp = ts
			}
			n++
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	owners := make([]int64, 0, len(events))
	for o := range events {
		owners = append(owners, o)
	}
	sort.Slice(owners, func(i, j int) bool { return owners[i] < owners[j] })
	manifest := map[string]any{}
	var hashes strings.Builder
	for _, o := range owners {
		ev := events[o]
		ev.Tag = []mispTag{{tlpTag(loosest[o])}}
		b, err := json.Marshal(map[string]any{"Event": ev})
		if err != nil {
			return n, errs.Internal(op, err)
		}
		if err := writeFileAtomic(filepath.Join(dir, ev.UUID+".json"), b); err != nil {
			return n, fmt.Errorf("%s: %w", op, err)
		}
		manifest[ev.UUID] = map[string]any{"Orgc": ev.Orgc, "Tag": ev.Tag, "info": ev.Info, "date": ev.Date, "analysis": ev.Analysis,
			"threat_level_id": ev.ThreatLevelID, "timestamp": ev.Timestamp}
		for _, at := range ev.Attribute {
			sum := md5.Sum([]byte(at.Value))
			fmt.Fprintf(&hashes, "%s,%s\n", hex.EncodeToString(sum[:]), ev.UUID)
		}
	}
	mb, _ := json.MarshalIndent(manifest, "", " ")
	if err := writeFileAtomic(filepath.Join(dir, "manifest.json"), mb); err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "hashes.csv"), []byte(hashes.String())); err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
