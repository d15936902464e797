package intel

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
)

// flex is a MISP field that comes as a string or a number.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number")
	}
	*f = flex(n.String())
	return nil
}

type mispTag struct {
	Name string `json:"name"`
}

type mispSighting struct {
	DateSighting flex `json:"date_sighting"`
	Type         flex `json:"type"` // 0 sighting, 1 false positive, 2 expiration
}

type mispAttribute struct {
	UUID         string         `json:"uuid"`
	Type         string         `json:"type"`
	Category     string         `json:"category"`
	Value        string         `json:"value"`
	ToIDs        bool           `json:"to_ids"`
	Distribution flex           `json:"distribution"`
	Comment      string         `json:"comment"`
	Timestamp    flex           `json:"timestamp"`
	FirstSeen    string         `json:"first_seen"`
	Deleted      bool           `json:"deleted"`
	Tag          []mispTag      `json:"Tag"`
	Sighting     []mispSighting `json:"Sighting"`
}

// MISPEvent is the part of a MISP event certnet reads.
type MISPEvent struct {
	UUID         string          `json:"uuid"`
	Info         string          `json:"info"`
	Date         string          `json:"date"`
	Distribution flex            `json:"distribution"`
	Timestamp    flex            `json:"timestamp"`
	Tag          []mispTag       `json:"Tag"`
	Attribute    []mispAttribute `json:"Attribute"`
	Object       []struct {
		Name      string          `json:"name"`
		Attribute []mispAttribute `json:"Attribute"`
	} `json:"Object"`
}

// ParseMISPEvent reads `{"Event": {…}}` or a bare event object.
func ParseMISPEvent(b []byte) (MISPEvent, error) {
	var wrap struct {
		Event *MISPEvent `json:"Event"`
	}
	if err := json.Unmarshal(b, &wrap); err != nil {
		return MISPEvent{}, fmt.Errorf("not a MISP event: %w", err)
	}
	var ev MISPEvent
	if wrap.Event != nil {
		ev = *wrap.Event
	} else if err := json.Unmarshal(b, &ev); err != nil {
		return MISPEvent{}, fmt.Errorf("not a MISP event: %w", err)
	}
	if ev.UUID != "" && !ValidSTIXID("x--"+ev.UUID, "x") {
		return MISPEvent{}, fmt.Errorf("event uuid %q is not a UUID", ev.UUID)
	}
	if len(ev.Attribute) == 0 && len(ev.Object) == 0 && ev.Info == "" {
		return MISPEvent{}, fmt.Errorf("not a MISP event: no info, attributes or objects")
	}
	return ev, nil
}

// mispKinds maps MISP attribute types to indicator kinds; composite types
// ("filename|md5") take the part after the bar, "ip-dst|port" the part
// before it.
var mispKinds = map[string]Kind{
	"ip-src": KindCIDR, "ip-dst": KindCIDR, "domain": KindDomain, "hostname": KindDomain,
	"url": KindURL, "uri": KindURL, "md5": KindMD5, "sha1": KindSHA1, "sha256": KindSHA256,
	"email": KindEmail, "email-src": KindEmail, "email-dst": KindEmail,
	"filename|md5": KindMD5, "filename|sha1": KindSHA1, "filename|sha256": KindSHA256,
	"ip-dst|port": KindCIDR, "ip-src|port": KindCIDR, "domain|ip": KindDomain, "hostname|port": KindDomain,
	"stix2-pattern": KindSTIX,
}

// MISPKind returns the indicator kind and value of an attribute, ok false
// for types certnet does not match (comments, links, registry keys…).
func MISPKind(typ, value string) (Kind, string, bool) {
	k, ok := mispKinds[typ]
	if !ok {
		return "", "", false
	}
	if strings.Contains(typ, "|") {
		left, right, _ := strings.Cut(value, "|")
		if strings.HasPrefix(typ, "filename|") {
			value = right
		} else {
			value = left
		}
	}
	return k, value, true
}

// tlpFromTags returns the strictest tlp:* tag's label, or "".
func tlpFromTags(tags []mispTag) policy.TLP {
	var out policy.TLP
	for _, t := range tags {
		if !strings.HasPrefix(strings.ToLower(t.Name), "tlp:") {
			continue
		}
		if l, err := policy.ParseTLP(t.Name); err == nil {
			out = stricter(out, l)
		}
	}
	return out
}

func rsitFromTags(tags []mispTag) []string {
	var out []string
	for _, t := range tags {
		if n, err := NormaliseRSIT(t.Name); err == nil {
			out = appendUnique(out, n)
		}
	}
	return out
}

func epoch(f flex) time.Time {
	n, err := strconv.ParseInt(string(f), 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// ImportMISP imports one MISP event JSON into the actor's organisation:
// matchable attributes become indicators (tlp:* tags set the label, the
// strictest wins; rsit:* tags carry over; distribution 0 "your organisation
// only" is AMBER+STRICT), sightings are kept, attributes that fail are
// reported.
func (s *Service) ImportMISP(ctx context.Context, a policy.Actor, r io.Reader, opt ImportOptions) (ImportResult, error) {
	const op = "intel: import misp"
	b, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return ImportResult{}, errs.Internal(op, err)
	}
	ev, perr := ParseMISPEvent(b)
	if perr != nil {
		if err := MayImport(a); err != nil {
			return ImportResult{}, err
		}
		return ImportResult{}, errs.Invalid(op).Field("file", "intel.error.file", perr.Error())
	}
	var res ImportResult
	err = s.runImport(ctx, a, "misp", opt, &res, func(im *importer) error {
		if err := im.mispEvent(ctx, ev, 0); err != nil {
			return err
		}
		return im.flush(ctx)
	})
	return res, err
}

// ImportMISPFeed imports a MISP feed folder: manifest.json names the events,
// each in <uuid>.json; hashes.csv (md5 of each value, event uuid) is checked
// against the events. A missing or broken event is reported and the rest
// kept.
func (s *Service) ImportMISPFeed(ctx context.Context, a policy.Actor, feed fs.FS, opt ImportOptions) (ImportResult, error) {
	const op = "intel: import misp feed"
	mb, err := fs.ReadFile(feed, "manifest.json")
	if err != nil {
		return ImportResult{}, errs.Invalid(op).Field("file", "intel.error.manifest", err.Error())
	}
	var manifest map[string]json.RawMessage
	if err := json.Unmarshal(mb, &manifest); err != nil {
		return ImportResult{}, errs.Invalid(op).Field("file", "intel.error.manifest", err.Error())
	}
	uuids := make([]string, 0, len(manifest))
	for u := range manifest {
		uuids = append(uuids, u)
	}
	sort.Strings(uuids)
	hashes := map[string]map[string]bool{} // event → md5s listed
	if hb, err := fs.ReadFile(feed, "hashes.csv"); err == nil {
		rows, err := csv.NewReader(bytes.NewReader(hb)).ReadAll()
		if err != nil {
			return ImportResult{}, errs.Invalid(op).Field("file", "intel.error.hashes", err.Error())
		}
		for _, r := range rows {
			if len(r) != 2 {
				continue
			}
			if hashes[r[1]] == nil {
				hashes[r[1]] = map[string]bool{}
			}
			hashes[r[1]][strings.ToLower(r[0])] = true
		}
	}
	if opt.Name == "" {
		opt.Name = "misp feed"
	}
	var res ImportResult
	err = s.runImport(ctx, a, "misp", opt, &res, func(im *importer) error {
		for i, u := range uuids {
			if !ValidSTIXID("x--"+u, "x") || path.Base(u) != u {
				im.fail(i, u, "event", fmt.Errorf("manifest: %q is not an event UUID", u))
				res.Total++
				continue
			}
			b, err := fs.ReadFile(feed, u+".json")
			if err != nil {
				res.Total++
				im.fail(i, u, "event", fmt.Errorf("event file: %v", err))
				continue
			}
			ev, err := ParseMISPEvent(b)
			if err != nil {
				res.Total++
				im.fail(i, u, "event", err)
				continue
			}
			if ev.UUID == "" {
				ev.UUID = u
			}
			if want := hashes[u]; len(want) > 0 {
				have := map[string]bool{}
				for _, at := range allAttributes(ev) {
					sum := md5.Sum([]byte(at.Value))
					have[hex.EncodeToString(sum[:])] = true
					for _, part := range strings.Split(at.Value, "|") {
						sum := md5.Sum([]byte(part))
						have[hex.EncodeToString(sum[:])] = true
					}
				}
				missing := 0
				for h := range want {
					if !have[h] {
						missing++
					}
				}
				if missing > 0 {
					res.Total++
					im.fail(i, u, "event", fmt.Errorf("hashes.csv lists %d values the event does not hold", missing))
					continue
				}
			}
			if err := im.mispEvent(ctx, ev, res.Total); err != nil {
				return err
			}
			if opt.Progress != nil {
				opt.Progress(res.Total)
			}
		}
		return im.flush(ctx)
	})
	return res, err
}

func allAttributes(ev MISPEvent) []mispAttribute {
	out := append([]mispAttribute{}, ev.Attribute...)
	for _, o := range ev.Object {
		out = append(out, o.Attribute...)
	}
	return out
}

// mispEvent imports one event's attributes; index numbers them from base.
func (im *importer) mispEvent(ctx context.Context, ev MISPEvent, base int) error {
	evTLP := tlpFromTags(ev.Tag)
	if evTLP == "" && ev.Distribution == "0" {
		evTLP = policy.TLPAmberStrict
	}
	if evTLP == "" {
		evTLP = im.def
	}
	evTags := rsitFromTags(ev.Tag)
	source := "misp:" + ev.UUID
	if ev.UUID == "" {
		source = im.source
	}
	for i, at := range allAttributes(ev) {
		idx := base + i
		im.res.Total++
		if at.Deleted {
			im.res.Accepted++
			continue
		}
		k, v, ok := MISPKind(at.Type, at.Value)
		if !ok {
			im.res.Accepted++ // kept nowhere, but not a fault: not an indicator type
			continue
		}
		tlp := stricter(evTLP, tlpFromTags(at.Tag))
		if at.Distribution == "0" {
			tlp = stricter(tlp, policy.TLPAmberStrict)
		}
		conf := 75
		if !at.ToIDs {
			conf = 40
		}
		in := Input{OwnerOrgID: im.owner, Kind: k, Value: v, Name: ev.Info, Description: at.Comment, Confidence: conf, TLP: tlp,
			Tags: append(append([]string{}, evTags...), rsitFromTags(at.Tag)...), Source: source, Ref: at.UUID}
		if fs, err := stix.ParseTime(at.FirstSeen); err == nil {
			in.ValidFrom = fs
		} else if ts := epoch(at.Timestamp); !ts.IsZero() {
			in.ValidFrom = ts
		}
		e := errs.Invalid("intel: import misp attribute")
		ind := validate(in, im.now, e)
		ind.OwnerOrgID = im.owner
		if e.OrNil() != nil {
			im.fail(idx, at.UUID, at.Type, fmt.Errorf("%s", fieldMessage(e)))
			continue
		}
		im.res.Accepted++
		p := pendingIndicator{ind: ind, source: source, ref: at.UUID}
		for j, sg := range at.Sighting {
			if sg.Type != "" && sg.Type != "0" {
				continue // false positives and expirations are not sightings
			}
			when := epoch(sg.DateSighting)
			if when.IsZero() {
				continue
			}
			p.sightings = append(p.sightings, SightingInput{FirstSeen: when, LastSeen: when, Count: 1, Source: source,
				STIXID: "sighting--" + uuidFrom(at.UUID, strconv.Itoa(j))})
		}
		im.pending = append(im.pending, p)
		if len(im.pending) >= importBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
