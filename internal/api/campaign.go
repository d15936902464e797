package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/campaign"
	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Malware-cleanup campaigns (issue 5, item 5): the coordinator's campaigns,
// imports of infected addresses (CSV, gzip allowed), the members' parts,
// addresses cleaned by the member or its ISP, and the report.

func init() {
	register([]Route{
		{"GET", "/api/v1/campaigns"},
		{"POST", "/api/v1/campaigns"},
		{"GET", "/api/v1/campaigns/{cid}"},
		{"POST", "/api/v1/campaigns/{cid}/import"},
		{"GET", "/api/v1/campaigns/{cid}/addresses"},
		{"POST", "/api/v1/campaigns/{cid}/addresses/clean"},
		{"POST", "/api/v1/campaigns/{cid}/parts/{oid}/status"},
		{"GET", "/api/v1/campaigns/{cid}/report"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/campaigns":                           s.authed(s.listCampaigns),
			"POST /api/v1/campaigns":                          s.authed(s.createCampaign),
			"GET /api/v1/campaigns/{cid}":                     s.authed(s.getCampaign),
			"POST /api/v1/campaigns/{cid}/import":             s.authed(s.importCampaign),
			"GET /api/v1/campaigns/{cid}/addresses":           s.authed(s.campaignAddresses),
			"POST /api/v1/campaigns/{cid}/addresses/clean":    s.authed(s.cleanAddress),
			"POST /api/v1/campaigns/{cid}/parts/{oid}/status": s.authed(s.campaignPartStatus),
			"GET /api/v1/campaigns/{cid}/report":              s.authed(s.campaignReport),
		}
	})
}

func (s *Server) campaigns() (*campaign.Service, error) {
	if s.Campaign == nil {
		return nil, errs.NotFound("api: campaigns")
	}
	return s.Campaign, nil
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	l, err := cs.List(r.Context(), a)
	return items(l), http.StatusOK, err
}

type campaignBody struct {
	OrgID       int64  `json:"org_id"`
	Name        string `json:"name"`
	Malware     string `json:"malware"`
	Description string `json:"description"`
	Actions     string `json:"actions"`
	TLP         string `json:"tlp"`
	StartsAt    string `json:"starts_at"`
	EndsAt      string `json:"ends_at"`
	AckDays     int    `json:"ack_days"`
}

func parseDay(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.Invalid("api: campaign").Field(field, "campaign.error.date")
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	var b campaignBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	start, err := parseDay("starts_at", b.StartsAt)
	if err != nil {
		return nil, 0, err
	}
	end, err := parseDay("ends_at", b.EndsAt)
	if err != nil {
		return nil, 0, err
	}
	c, err := cs.Create(r.Context(), a, campaign.Input{OrgID: b.OrgID, Name: b.Name, Malware: b.Malware, Description: b.Description,
		Actions: b.Actions, TLP: b.TLP, StartsAt: start, EndsAt: end, AckDays: b.AckDays})
	if err != nil {
		return nil, 0, err
	}
	return c, http.StatusCreated, nil
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	c, err := cs.Get(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	parts, err := cs.Parts(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if parts == nil {
		parts = []campaign.Part{}
	}
	return struct {
		campaign.Campaign
		Parts   []campaign.Part `json:"parts"`
		Manages bool            `json:"manages"`
	}{c, parts, c.Manages(a)}, http.StatusOK, nil
}

type importBody struct {
	Source string `json:"source"`
	CSV    string `json:"csv"`
	// Events is an events file (instead of csv): its addresses inside the
	// members' ranges are imported, optionally only those of the given
	// signature or rule ids, or of the events carrying indicator.
	Events       string  `json:"events"`
	SignatureIDs []int64 `json:"signature_ids"`
	Indicator    string  `json:"indicator"`
}

// importCampaign takes the CSV as the body (text/csv, gzip allowed) or in a
// JSON object {"source", "csv"}. An events file (Suricata EVE, Wazuh,
// generic, STIX) comes as the body with format=events (any media type;
// application/x-ndjson and application/stix+json need no format) and the
// filter in signature_id and indicator, or in the JSON object's "events".
func (s *Server) importCampaign(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	q := r.URL.Query()
	format := strings.ToLower(strings.TrimSpace(q.Get("format")))
	if format != "" && format != "csv" && format != "events" {
		return nil, 0, errs.Invalid("api: campaign import").Field("format", "campaign.error.format")
	}
	if format == "" && (mt == "application/x-ndjson" || mt == "application/stix+json") {
		format = "events"
	}
	var res campaign.ImportResult
	switch {
	case format == "events":
		filter, ferr := campaign.ParseEventFilter(q.Get("signature_id"), q.Get("indicator"))
		if ferr != nil {
			return nil, 0, errs.Invalid("api: campaign import").Field("signature_id", "campaign.error.event_filter", ferr.Error())
		}
		res, err = cs.ImportEvents(r.Context(), a, id, q.Get("source"), r.Body, filter)
	case mt == "text/csv", mt == "application/gzip":
		res, err = cs.ImportCSV(r.Context(), a, id, q.Get("source"), r.Body)
	default:
		var b importBody
		if err := decode(r, &b); err != nil {
			return nil, 0, err
		}
		switch {
		case b.Events != "" && b.CSV != "":
			return nil, 0, errs.Invalid("api: campaign import").Field("events", "campaign.error.csv_or_events")
		case b.Events != "":
			filter := campaign.EventFilter{SignatureIDs: b.SignatureIDs, Indicator: strings.TrimSpace(b.Indicator)}
			res, err = cs.ImportEvents(r.Context(), a, id, b.Source, strings.NewReader(b.Events), filter)
		default:
			res, err = cs.ImportCSV(r.Context(), a, id, b.Source, strings.NewReader(b.CSV))
		}
	}
	if err != nil {
		return nil, 0, err
	}
	return res, http.StatusOK, nil
}

func (s *Server) campaignAddresses(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := campaign.Filter{Status: q.Get("status"), Unrouted: q.Get("unrouted") == "true"}
	if v := q.Get("org_id"); v != "" {
		if f.OrgID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, 0, errs.Invalid("api: addresses").Field("org_id", "campaign.error.org")
		}
	}
	if v := q.Get("limit"); v != "" {
		f.Limit, _ = strconv.Atoi(v)
	}
	l, err := cs.Addresses(r.Context(), a, id, f)
	return items(l), http.StatusOK, err
}

func (s *Server) cleanAddress(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	var b struct {
		IP string `json:"ip"`
	}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	ad, err := cs.MarkCleaned(r.Context(), a, id, b.IP)
	if err != nil {
		return nil, 0, err
	}
	return ad, http.StatusOK, nil
}

func (s *Server) campaignPartStatus(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	oid, err := pathID(r, "oid")
	if err != nil {
		return nil, 0, err
	}
	var b struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	p, err := cs.SetStatus(r.Context(), a, id, oid, b.Status, b.Note)
	if err != nil {
		return nil, 0, err
	}
	return p, http.StatusOK, nil
}

func (s *Server) campaignReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	cs, err := s.campaigns()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "cid")
	if err != nil {
		return nil, 0, err
	}
	rep, err := cs.Report(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusOK, nil
}
