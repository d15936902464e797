package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"certnet/internal/campaign"
	"certnet/internal/errs"
	"certnet/internal/policy"
)

const (
	tplCampaigns      = "campaign_list.html"
	tplCampaign       = "campaign_detail.html"
	tplCampaignReport = "campaign_report.html"
)

type campaignListView struct {
	Base
	Campaigns []campaign.Campaign
	CanRun    bool // the actor may start a campaign
}

type campaignView struct {
	Base
	Campaign  campaign.Campaign
	Manages   bool
	Parts     []campaignPartRow
	Addresses []campaign.Address
	Unrouted  []campaign.Address
	Report    campaign.Report
	Chart     template.HTML
	Map       template.HTML
	// Statuses a member may answer with; AnswerOrg the part whose answer
	// was refused (its form shows the errors).
	Statuses  []string
	AnswerOrg int64
}

type campaignPartRow struct {
	campaign.Part
	OrgName string
	Overdue bool
	Answers bool // the actor may answer for this part
}

func (s *Server) campaignSvc() (*campaign.Service, error) {
	if s.Campaign == nil {
		return nil, errs.NotFound("web: campaigns")
	}
	return s.Campaign, nil
}

func (s *Server) handleCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := s.campaignSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	l, err := cs.List(r.Context(), whoFrom(r).Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	wh := whoFrom(r)
	s.render(w, r, http.StatusOK, tplCampaigns, campaignListView{Base: s.base(r, "campaign.list.title"), Campaigns: l,
		CanRun: policy.Check(wh.Actor, policy.CampaignManage, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPAmber}) == nil})
}

func (s *Server) campaignOf(r *http.Request) (*campaign.Service, campaign.Campaign, error) {
	cs, err := s.campaignSvc()
	if err != nil {
		return nil, campaign.Campaign{}, err
	}
	id, err := intParam(r, "cid")
	if err != nil {
		return nil, campaign.Campaign{}, err
	}
	c, err := cs.Get(r.Context(), whoFrom(r).Actor, id)
	return cs, c, err
}

func (s *Server) handleCampaign(w http.ResponseWriter, r *http.Request) {
	v, err := s.campaignDetail(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplCampaign, v)
}

// campaignDetail is the campaign page's view: the runner's progress, or the
// member's part with its answer form.
func (s *Server) campaignDetail(r *http.Request) (campaignView, error) {
	cs, c, err := s.campaignOf(r)
	if err != nil {
		return campaignView{}, err
	}
	a := whoFrom(r).Actor
	v := campaignView{Base: s.base(r, "campaign.detail.title"), Campaign: c, Manages: c.Manages(a),
		Statuses: []string{campaign.PartAcknowledged, campaign.PartCleaning, campaign.PartCleaned, campaign.PartNotAffected}}
	parts, err := cs.Parts(r.Context(), a, c.ID)
	if err != nil {
		return v, err
	}
	now := s.Now()
	for _, p := range parts {
		row := campaignPartRow{Part: p, Overdue: c.Overdue(p, now),
			Answers: policy.Check(a, policy.CampaignRespond, policy.Resource{OwnerOrg: p.OrgID, TLP: policy.TLPAmber}) == nil}
		if o, err := s.Orgs.Get(r.Context(), a, p.OrgID); err == nil {
			row.OrgName = o.Name
		}
		v.Parts = append(v.Parts, row)
	}
	if v.Addresses, err = cs.Addresses(r.Context(), a, c.ID, campaign.Filter{Limit: 500}); err != nil {
		return v, err
	}
	if v.Manages {
		if v.Unrouted, err = cs.Addresses(r.Context(), a, c.ID, campaign.Filter{Unrouted: true, Limit: 500}); err != nil {
			return v, err
		}
		if v.Report, err = cs.Report(r.Context(), a, c.ID); err != nil {
			return v, err
		}
		var bars []Bar
		for _, l := range v.Report.Members {
			if len(bars) == 15 {
				break
			}
			bars = append(bars, Bar{Label: l.Name, Value: l.Remaining})
		}
		v.Chart = barChart(v.T("campaign.chart"), bars)
		if provs, err := s.Orgs.Provinces(r.Context()); err == nil {
			left := map[string]int{}
			for _, l := range v.Report.Provinces {
				left[l.Province] = l.Remaining
			}
			var tiles []Tile
			for _, p := range provs {
				if p.Map != nil {
					tiles = append(tiles, Tile{Col: p.Map.Col, Row: p.Map.Row, Label: p.Name, Value: left[p.Code],
						Href: "/orgs?province=" + url.QueryEscape(p.Code)})
				}
			}
			v.Map = tileMap(v.T("campaign.map"), tiles)
		}
	}
	return v, nil
}

func (s *Server) campaignReport(r *http.Request) (campaign.Report, error) {
	cs, c, err := s.campaignOf(r)
	if err != nil {
		return campaign.Report{}, err
	}
	return cs.Report(r.Context(), whoFrom(r).Actor, c.ID)
}

func (s *Server) handleCampaignReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.campaignReport(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := campaignView{Base: s.base(r, "campaign.report.title"), Campaign: rep.Campaign, Manages: true, Report: rep}
	s.render(w, r, http.StatusOK, tplCampaignReport, v)
}

func (s *Server) handleCampaignReportCSV(w http.ResponseWriter, r *http.Request) {
	s.campaignExport(w, r, "csv")
}

func (s *Server) handleCampaignReportXLSX(w http.ResponseWriter, r *http.Request) {
	s.campaignExport(w, r, "xlsx")
}

// campaignExport is the report as a table: one row per member and per ISP,
// then the total.
func (s *Server) campaignExport(w http.ResponseWriter, r *http.Request, format string) {
	rep, err := s.campaignReport(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	lang := whoFrom(r).Lang
	s.exportTable(w, r, format, fmt.Sprintf("campaign-%d", rep.Campaign.ID), "campaign.report.title", func(*http.Request) ([][]string, error) {
		out := [][]string{{t(lang, "campaign.col.kind"), t(lang, "campaign.col.code"), t(lang, "campaign.col.org"), t(lang, "campaign.col.province"),
			t(lang, "campaign.col.status"), t(lang, "campaign.col.at_start"), t(lang, "campaign.col.addresses"), t(lang, "campaign.col.cleaned"),
			t(lang, "campaign.col.remaining"), t(lang, "campaign.col.reinfected")}}
		row := func(kind string, l campaign.Line) []string {
			st := ""
			if l.Status != "" {
				st = t(lang, "campaign.part."+l.Status)
			}
			return []string{kind, l.Code, l.Name, l.Province, st, strconv.Itoa(l.AtStart), strconv.Itoa(l.Addresses),
				strconv.Itoa(l.Cleaned), strconv.Itoa(l.Remaining), strconv.Itoa(l.Reinfected)}
		}
		for _, l := range rep.Members {
			out = append(out, row(t(lang, "campaign.kind.member"), l))
		}
		for _, l := range rep.ISPs {
			out = append(out, row(t(lang, "campaign.kind.isp"), l))
		}
		out = append(out, row(t(lang, "campaign.kind.total"), rep.Total))
		return out, nil
	})
}

// campaignLines is a table of report lines for the "campaignlines"
// template; Parts shows the members' status and last activity.
type campaignLines struct {
	V     Base
	Rows  []campaign.Line
	Parts bool
}

// MemberLines is the report by member.
func (v campaignView) MemberLines() campaignLines {
	return campaignLines{V: v.Base, Rows: v.Report.Members, Parts: true}
}

// ISPLines is the report by ISP.
func (v campaignView) ISPLines() campaignLines { return campaignLines{V: v.Base, Rows: v.Report.ISPs} }

// ProvinceLines is the report by province.
func (v campaignView) ProvinceLines() campaignLines {
	return campaignLines{V: v.Base, Rows: v.Report.Provinces}
}
