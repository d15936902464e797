package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/campaign"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
)

// The campaign forms: a runner creates a campaign and imports its address
// list (a CSV file previewed line by line, refused lines with their
// reason, then imported); a member answers for its part.

const (
	tplCampaignNew    = "campaign_new.html"
	tplCampaignImport = "campaign_import.html"

	// campaignImportLimit bounds an upload (the file, and the confirm form
	// carrying it back in base64).
	campaignImportLimit = campaign.MaxImportBytes*2 + 1<<20
)

type campaignNewView struct {
	Base
	Form campaignForm
	TLPs []string
}

type campaignForm struct {
	Name, Malware, Description, Actions, TLP, StartsAt, EndsAt, AckDays string
}

// mayRunCampaigns: the actor may manage campaigns of its own organisation.
func (s *Server) mayRunCampaigns(w http.ResponseWriter, r *http.Request) bool {
	wh := whoFrom(r)
	if err := policy.Check(wh.Actor, policy.CampaignManage, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPAmber}); err != nil {
		s.renderError(w, r, err, "")
		return false
	}
	return true
}

func (s *Server) newCampaignView(r *http.Request) campaignNewView {
	now := s.Now().In(i18n.Zone)
	return campaignNewView{Base: s.base(r, "campaign.new.title"), TLPs: []string{"clear", "green", "amber", "amber+strict"},
		Form: campaignForm{TLP: "amber", StartsAt: now.Format("2006-01-02"), EndsAt: now.AddDate(0, 1, 0).Format("2006-01-02"),
			AckDays: strconv.Itoa(campaign.DefaultAckDays)}}
}

func (s *Server) handleCampaignNew(w http.ResponseWriter, r *http.Request) {
	if _, err := s.campaignSvc(); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if !s.mayRunCampaigns(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, tplCampaignNew, s.newCampaignView(r))
}

func (s *Server) handleCampaignCreate(w http.ResponseWriter, r *http.Request) {
	cs, err := s.campaignSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if !s.mayRunCampaigns(w, r) {
		return
	}
	v := s.newCampaignView(r)
	f := campaignForm{Name: r.PostFormValue("name"), Malware: r.PostFormValue("malware"), Description: r.PostFormValue("description"),
		Actions: r.PostFormValue("actions"), TLP: r.PostFormValue("tlp"), StartsAt: r.PostFormValue("starts_at"),
		EndsAt: r.PostFormValue("ends_at"), AckDays: r.PostFormValue("ack_days")}
	v.Form = f
	in := campaign.Input{Name: f.Name, Malware: f.Malware, Description: f.Description, Actions: f.Actions, TLP: f.TLP}
	bad := errs.Invalid("web: campaign")
	day := func(field, val string) time.Time {
		if strings.TrimSpace(val) == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(val), i18n.Zone)
		if err != nil {
			bad.Field(field, "campaign.error.date")
		}
		return t
	}
	in.StartsAt, in.EndsAt = day("starts_at", f.StartsAt), day("ends_at", f.EndsAt)
	if !in.EndsAt.IsZero() {
		in.EndsAt = in.EndsAt.Add(24*time.Hour - time.Second) // to the end of that day
	}
	if strings.TrimSpace(f.AckDays) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.AckDays))
		if err != nil {
			bad.Field("ack_days", "campaign.error.ack_days")
		}
		in.AckDays = n
	}
	err = bad.OrNil()
	var c campaign.Campaign
	if err == nil {
		c, err = cs.Create(r.Context(), whoFrom(r).Actor, in)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplCampaignNew, v)
		return
	}
	s.redirect(w, r, "/campaigns/"+itoa(c.ID)+"/import", "campaign.new.done")
}

// ---- Import ----

type campaignImportView struct {
	Base
	Campaign campaign.Campaign
	FileName string
	Data     string // the previewed file, base64, sent back to confirm
	Rows     []campaign.Row
	More     int // valid rows past those shown
	Refused  []campaign.LineError
	Result   *campaign.ImportResult
	// An events file (Kind "events"): its addresses inside the members'
	// ranges, filtered by signature/rule ids and an indicator.
	Kind, SignatureIDs, Indicator string
}

// localisedLines puts the refused lines' messages in the page's language.
func localisedLines(b Base, bad []campaign.LineError) []campaign.LineError {
	for i := range bad {
		if bad[i].Key != "" {
			bad[i].Message = b.T(bad[i].Key, bad[i].Args...)
		}
	}
	return bad
}

// campaignImportKind reads the form's list kind and, for events, its filter.
func campaignImportKind(r *http.Request, v *campaignImportView) (campaign.EventFilter, error) {
	v.Kind, v.SignatureIDs, v.Indicator = r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("signature_ids")), strings.TrimSpace(r.PostFormValue("indicator"))
	if v.Kind != "events" {
		v.Kind = "csv"
		return campaign.EventFilter{}, nil
	}
	f, err := campaign.ParseEventFilter(v.SignatureIDs, v.Indicator)
	if err != nil {
		return f, errs.Invalid("web: campaign import").Field("signature_ids", "campaign.error.event_filter", err.Error())
	}
	return f, nil
}

// campaignManaged is the campaign of the path when the actor manages it.
func (s *Server) campaignManaged(w http.ResponseWriter, r *http.Request) (*campaign.Service, campaign.Campaign, bool) {
	cs, c, err := s.campaignOf(r)
	if err == nil && !c.Manages(whoFrom(r).Actor) {
		err = errs.Forbidden("web: campaign import")
	}
	if err == nil {
		err = c.Check(whoFrom(r).Actor, policy.CampaignManage)
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return nil, c, false
	}
	return cs, c, true
}

func (s *Server) handleCampaignImportForm(w http.ResponseWriter, r *http.Request) {
	_, c, ok := s.campaignManaged(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, tplCampaignImport, campaignImportView{Base: s.base(r, "campaign.import.title"), Campaign: c, Kind: "csv"})
}

// handleCampaignImportPreview parses the uploaded list and shows its rows
// and its refused lines; nothing is written.
func (s *Server) handleCampaignImportPreview(w http.ResponseWriter, r *http.Request) {
	cs, c, ok := s.campaignManaged(w, r)
	if !ok {
		return
	}
	v := campaignImportView{Base: s.base(r, "campaign.import.title"), Campaign: c}
	filter, ferr := campaignImportKind(r, &v)
	if ferr != nil {
		v.formErrors(ferr)
		s.render(w, r, formStatus(ferr), tplCampaignImport, v)
		return
	}
	var data []byte
	file, hdr, err := r.FormFile("file")
	if err == nil {
		defer file.Close()
		data, err = io.ReadAll(io.LimitReader(file, campaign.MaxImportBytes+1))
		if err != nil {
			s.renderError(w, r, errs.Internal("web: campaign import", err), "")
			return
		}
		v.FileName = hdr.Filename
	} else if text := r.PostFormValue("text"); strings.TrimSpace(text) != "" {
		data = []byte(text)
	}
	if len(data) == 0 {
		v.formErrors(errs.Invalid("web: campaign import").Field("file", "campaign.import.no_file"))
		s.render(w, r, http.StatusBadRequest, tplCampaignImport, v)
		return
	}
	var rows []campaign.Row
	var bad []campaign.LineError
	if v.Kind == "events" {
		rows, bad, err = cs.EventRows(r.Context(), whoFrom(r).Actor, c.ID, bytes.NewReader(data), filter)
		if err != nil {
			if !showOnForm(err) && errs.KindOf(err) != errs.KindTooLarge {
				s.renderError(w, r, err, "")
				return
			}
			v.formErrors(err)
			s.render(w, r, formStatus(err), tplCampaignImport, v)
			return
		}
	} else if rows, bad, err = campaign.ParseCSV(bytes.NewReader(data)); err != nil {
		e := errs.Invalid("web: campaign import").Field("file", "campaign.error.file", err.Error())
		if errors.Is(err, campaign.ErrTooLarge) {
			e = errs.TooLarge("web: campaign import")
		}
		v.formErrors(e)
		s.render(w, r, formStatus(e), tplCampaignImport, v)
		return
	}
	v.Refused = localisedLines(v.Base, bad)
	v.Rows = rows
	if len(rows) > 200 {
		v.Rows, v.More = rows[:200], len(rows)-200
	}
	if len(rows) > 0 {
		v.Data = base64.StdEncoding.EncodeToString(data)
	} else if v.Kind == "events" {
		v.formErrors(errs.Invalid("web: campaign import").Field("file", "campaign.error.no_event_rows"))
	} else {
		v.formErrors(errs.Invalid("web: campaign import").Field("file", "campaign.error.no_rows"))
	}
	s.render(w, r, http.StatusOK, tplCampaignImport, v)
}

// handleCampaignImportConfirm imports the previewed list: its valid rows,
// routed and stored in one transaction.
func (s *Server) handleCampaignImportConfirm(w http.ResponseWriter, r *http.Request) {
	cs, c, ok := s.campaignManaged(w, r)
	if !ok {
		return
	}
	v := campaignImportView{Base: s.base(r, "campaign.import.title"), Campaign: c, FileName: r.PostFormValue("file_name")}
	filter, err := campaignImportKind(r, &v)
	if err != nil {
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplCampaignImport, v)
		return
	}
	data, err := base64.StdEncoding.DecodeString(r.PostFormValue("data"))
	if err != nil || len(data) == 0 {
		v.formErrors(errs.Invalid("web: campaign import").Field("file", "campaign.import.no_file"))
		s.render(w, r, http.StatusBadRequest, tplCampaignImport, v)
		return
	}
	source := v.FileName
	if source == "" {
		source = "web"
	}
	var res campaign.ImportResult
	if v.Kind == "events" {
		res, err = cs.ImportEvents(r.Context(), whoFrom(r).Actor, c.ID, source, bytes.NewReader(data), filter)
	} else {
		res, err = cs.ImportCSV(r.Context(), whoFrom(r).Actor, c.ID, source, bytes.NewReader(data))
	}
	if err != nil {
		if !showOnForm(err) && errs.KindOf(err) != errs.KindTooLarge {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplCampaignImport, v)
		return
	}
	v.Result, v.Refused = &res, localisedLines(v.Base, res.Errors)
	s.render(w, r, http.StatusOK, tplCampaignImport, v)
}

// ---- A member's answer ----

// handleCampaignRespond moves the member's part: acknowledged, cleaning,
// cleaned, or not ours (with a note).
func (s *Server) handleCampaignRespond(w http.ResponseWriter, r *http.Request) {
	cs, c, err := s.campaignOf(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	oid, err := intParam(r, "oid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	_, err = cs.SetStatus(r.Context(), whoFrom(r).Actor, c.ID, oid, r.PostFormValue("status"), r.PostFormValue("note"))
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.campaignDetail(r)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		v.AnswerOrg = oid
		s.render(w, r, formStatus(err), tplCampaign, v)
		return
	}
	s.redirect(w, r, "/campaigns/"+itoa(c.ID)+"#part-"+itoa(oid), "campaign.respond.done")
}
