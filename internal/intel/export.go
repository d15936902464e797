package intel

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
)

// exportable reports whether a label may travel in an export capped at
// maxTLP (no cap when empty): RED is for named people, never for a file
// that travels.
func exportable(t, maxTLP policy.TLP) bool {
	return t != policy.TLPRed && (maxTLP == "" || t.Rank() <= maxTLP.Rank())
}

// ExportOptions select what an export holds.
type ExportOptions struct {
	// MaxTLP: only objects labelled at most this (CLEAR < GREEN < AMBER <
	// AMBER+STRICT < RED); empty means what the actor may read.
	MaxTLP policy.TLP
	// Since: only what changed since.
	Since time.Time
	// Progress, when set, is called with the number of objects written.
	Progress func(n int)
}

// indicatorObject is the STIX form of an indicator row.
func indicatorObject(i Indicator) map[string]any {
	o := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": i.STIXID,
		"created": stix.FormatTime(i.CreatedAt), "modified": stix.FormatTime(maxTime(i.UpdatedAt, i.CreatedAt)),
		"pattern": i.Pattern, "pattern_type": "stix", "pattern_version": "2.1",
		"valid_from": stix.FormatTime(i.ValidFrom), "confidence": i.Confidence,
		"object_marking_refs": []string{stix.TLPMarkingID(string(i.TLP))},
	}
	if i.Kind == KindSTIX {
		o["pattern"] = i.Value
	}
	if i.Name != "" {
		o["name"] = i.Name
	}
	if i.Description != "" {
		o["description"] = i.Description
	}
	if !i.ValidUntil.IsZero() && i.ValidUntil.After(i.ValidFrom) {
		o["valid_until"] = stix.FormatTime(i.ValidUntil)
	}
	if len(i.Tags) > 0 {
		o["labels"] = i.Tags
	}
	if i.Revoked {
		o["revoked"] = true
	}
	var kc []map[string]string
	for _, k := range i.KillChain {
		chain, phase, _ := strings.Cut(k, ":")
		kc = append(kc, map[string]string{"kill_chain_name": chain, "phase_name": phase})
	}
	if len(kc) > 0 {
		o["kill_chain_phases"] = kc
	}
	return o
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

type storedObject struct {
	id   string
	tlp  policy.TLP
	body map[string]any
}

// ExportSTIX writes a STIX 2.1 bundle of the indicators and objects the
// actor may read (each filtered by its label), with TLP 2.0 markings; RED
// never goes into a bundle.
// References to objects the bundle does not carry are dropped (a sighting
// or relationship left without its subject is left out), so that every
// reference resolves and nothing hidden is named. It returns the number of
// objects written.
func (s *Service) ExportSTIX(ctx context.Context, a policy.Actor, w io.Writer, opt ExportOptions) (int, error) {
	const op = "intel: export stix"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return 0, errs.Unauthenticated(op, "")
	}
	if opt.MaxTLP != "" && !opt.MaxTLP.Valid() {
		return 0, errs.Invalid(op).Field("tlp", "intel.error.tlp")
	}
	allowed := func(t policy.TLP, owner, by int64) bool {
		return exportable(t, opt.MaxTLP) &&
			policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner, TLP: t, CreatedBy: by}) == nil
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	n := 0
	first := true
	write := func(o map[string]any) error {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if !first {
			bw.WriteString(",\n")
		}
		first = false
		bw.Write(b)
		n++
		if opt.Progress != nil && n%1000 == 0 {
			opt.Progress(n)
		}
		return nil
	}
	fmt.Fprintf(bw, `{"type":"bundle","id":"bundle--%s","objects":[`+"\n", uuid.NewString())
	for _, t := range policy.TLPs {
		if !exportable(t, opt.MaxTLP) {
			continue
		}
		if err := write(stix.TLPMarking(string(t))); err != nil {
			return n, errs.Internal(op, err)
		}
	}
	// The indicators, paged by id; ids holds what the bundle carries, so
	// that the objects' references can be checked against it and each id
	// is written once (owners may share a value's id).
	ids := map[string]bool{}
	f := Filter{ByID: true, Limit: 1000, Since: opt.Since}
	for {
		page, _, err := s.List(ctx, a, f)
		if err != nil {
			return n, err
		}
		for _, i := range page {
			if !ids[i.STIXID] && allowed(i.TLP, i.OwnerOrgID, i.CreatedBy) {
				ids[i.STIXID] = true
				if err := write(indicatorObject(i)); err != nil {
					return n, errs.Internal(op, err)
				}
			}
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	var objs []storedObject
	err := s.eachObject(ctx, opt.Since, func(owner int64, id string, t policy.TLP, body string) error {
		if ids[id] || !allowed(t, owner, 0) {
			return nil // one object per id when two owners hold it
		}
		m, err := stix.Decode([]byte(body))
		if err != nil {
			return nil
		}
		ids[id] = true
		objs = append(objs, storedObject{id, t, m})
		return nil
	})
	if err != nil {
		return n, errs.Internal(op, err)
	}
	// Objects whose required reference is gone are left out, until
	// nothing changes (a relationship to a dropped sighting…).
	for changed := true; changed; {
		changed = false
		for i := range objs {
			if objs[i].body == nil {
				continue
			}
			if !trimRefs(objs[i].body, ids) {
				delete(ids, objs[i].id)
				objs[i].body = nil
				changed = true
			}
		}
	}
	for _, o := range objs {
		if o.body == nil {
			continue
		}
		o.body["object_marking_refs"] = []string{stix.TLPMarkingID(string(o.tlp))}
		delete(o.body, "granular_markings")
		if err := write(o.body); err != nil {
			return n, errs.Internal(op, err)
		}
	}
	bw.WriteString("\n]}\n")
	if opt.Progress != nil {
		opt.Progress(n)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("%s: write: %w", op, err)
	}
	return n, nil
}

// required references: without them the object means nothing.
var requiredRefs = map[string]bool{"sighting_of_ref": true, "source_ref": true, "target_ref": true}

// trimRefs drops references that do not resolve; it reports false when a
// required one is gone (or a list the schema wants non-empty is emptied).
func trimRefs(o map[string]any, ids map[string]bool) bool {
	for k, v := range o {
		if k == "object_marking_refs" {
			continue
		}
		switch {
		case strings.HasSuffix(k, "_refs"):
			l, ok := v.([]any)
			if !ok {
				continue
			}
			var keep []any
			for _, x := range l {
				if s, _ := x.(string); ids[s] {
					keep = append(keep, x)
				}
			}
			if len(keep) == 0 {
				if k == "object_refs" {
					return false
				}
				delete(o, k)
				continue
			}
			o[k] = keep
		case strings.HasSuffix(k, "_ref"):
			s, _ := v.(string)
			if !ids[s] {
				if requiredRefs[k] {
					return false
				}
				delete(o, k)
			}
		}
	}
	return true
}

func (s *Service) eachObject(ctx context.Context, since time.Time, fn func(owner int64, id string, t policy.TLP, body string) error) error {
	var last int64
	for {
		q := `SELECT id, owner_org_id, stix_id, tlp, body FROM intel_objects WHERE id > ?`
		args := []any{last}
		if !since.IsZero() {
			q += ` AND updated_at >= ?`
			args = append(args, since.UTC())
		}
		rows, err := s.DB.Query(ctx, q+` ORDER BY id LIMIT 1000`, args...)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var owner int64
			var id, t, body string
			if err := rows.Scan(&last, &owner, &id, &t, &body); err != nil {
				rows.Close()
				return err
			}
			n++
			if err := fn(owner, id, policy.TLP(t), body); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < 1000 {
			return nil
		}
	}
}
