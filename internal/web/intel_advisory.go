package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// Advisories (cảnh báo): the list, the form of a draft, one advisory with
// the recipient's answer forms and — for the publisher's side — the rates,
// the chart and the recipients, and the CSV/XLSX export of the recipients.

const (
	tplAdvisories   = "advisories.html"
	tplAdvisory     = "advisory.html"
	tplAdvisoryForm = "advisory_form.html"
)

func init() { addNeeds(advisoryNeeds) }

// advisoryPageSize is how many advisories a page of the list shows.
const advisoryPageSize = 50

type advisoriesView struct {
	Base
	Rows                 []intel.AdvisoryRow
	Status, Severity     string
	Mine, Own            bool
	Exercise             bool // the drills' advisories instead of the real ones
	Statuses, Severities []option
	// NewerHref, OlderHref: the neighbouring pages, with the filters.
	NewerHref, OlderHref string
	MayWrite             bool
	Now                  time.Time
}

// SevClass is the class of a severity badge (one colour and icon each).
func (b Base) AdvSev(sev string) string {
	return advSevIcons[sev] + " " + b.T("intel.adv.severity."+sev)
}

var advSevIcons = map[string]string{intel.SeverityLow: "▽", intel.SeverityMedium: "◇", intel.SeverityHigh: "▲", intel.SeverityCritical: "⬣"}

func (s *Server) handleAdvisories(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	q := r.URL.Query()
	v := advisoriesView{Base: s.base(r, "intel.adv.title"), Status: q.Get("status"), Severity: q.Get("severity"),
		Mine: q.Get("mine") == "1", Own: q.Get("own") == "1", Exercise: q.Get("exercise") == "1", Now: s.Now()}
	if !slices.Contains(intel.AdvisoryStatuses, v.Status) {
		v.Status = ""
	}
	if !slices.Contains(intel.Severities, v.Severity) {
		v.Severity = ""
	}
	v.Statuses = v.choices("intel.adv.status.", intel.AdvisoryStatuses)
	for i := range v.Statuses {
		v.Statuses[i].Selected = v.Statuses[i].Value == v.Status
	}
	v.Severities = v.choices("intel.adv.severity.", intel.Severities)
	for i := range v.Severities {
		v.Severities[i].Selected = v.Severities[i].Value == v.Severity
	}
	before, err1 := strconv.ParseInt(cmp.Or(q.Get("before"), "0"), 10, 64)
	after, err2 := strconv.ParseInt(cmp.Or(q.Get("after"), "0"), 10, 64)
	if err1 != nil || err2 != nil {
		s.renderError(w, r, errs.Invalid("web: advisories").Field("before", "field.invalid"), "")
		return
	}
	p, err := s.Intel.AdvisoriesPage(r.Context(), wh.Actor, intel.AdvisoryFilter{Status: v.Status, Severity: v.Severity, Mine: v.Mine,
		Own: v.Own, Exercise: v.Exercise, Limit: advisoryPageSize}, before, after)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.Rows = p.Rows
	keep := url.Values{}
	for k, x := range map[string]string{"status": v.Status, "severity": v.Severity} {
		if x != "" {
			keep.Set(k, x)
		}
	}
	for k, on := range map[string]bool{"mine": v.Mine, "own": v.Own, "exercise": v.Exercise} {
		if on {
			keep.Set(k, "1")
		}
	}
	page := func(k string, id int64) string {
		u := url.Values{}
		for kk, vv := range keep {
			u[kk] = vv
		}
		u.Set(k, strconv.FormatInt(id, 10))
		return "/advisories?" + u.Encode()
	}
	if p.Newer != 0 {
		v.NewerHref = page("after", p.Newer)
	}
	if p.Older != 0 {
		v.OlderHref = page("before", p.Older)
	}
	v.MayWrite = s.Intel.MayWriteAdvisory(r.Context(), wh.Actor)
	s.render(w, r, http.StatusOK, tplAdvisories, v)
}

// advisoryForm is the form of a draft as typed.
type advisoryForm struct {
	ID                                                                                                                     int64 // 0 for a new draft
	Title, TitleEN, Summary, SummaryEN, Body, BodyEN, Severity, TLP, DeadlineAt, CVEs, Products, Actions, Indicators, Orgs string
	All, Ranges                                                                                                            bool
	Sectors, Regions, Provinces, Roles                                                                                     []string
	Clusters                                                                                                               []string
}

type advisoryFormView struct {
	Base
	F                                                              advisoryForm
	Severities, TLPs, Sectors, Regions, Provinces, Clusters, Roles []option
}

func (s *Server) advisoryFormPage(w http.ResponseWriter, r *http.Request, status int, f advisoryForm, formErr error) {
	v := advisoryFormView{Base: s.base(r, "intel.adv.new"), F: f}
	mark := func(opts []option, sel []string) []option {
		for i := range opts {
			opts[i].Selected = slices.Contains(sel, opts[i].Value)
		}
		return opts
	}
	v.Severities = mark(v.choices("intel.adv.severity.", intel.Severities), []string{f.Severity})
	v.TLPs = tlpOptions(f.TLP)
	var sectors, roles []string
	for _, x := range org.Sectors {
		sectors = append(sectors, string(x))
	}
	for _, x := range org.Roles {
		roles = append(roles, string(x))
	}
	v.Sectors = mark(v.choices("org.sector.", sectors), f.Sectors)
	v.Roles = mark(v.choices("org.role.", roles), f.Roles)
	v.Regions = mark(v.choices("org.region.", org.Regions), f.Regions)
	if provs, err := s.Orgs.Provinces(r.Context()); err == nil {
		for _, p := range provs {
			v.Provinces = append(v.Provinces, option{Value: p.Code, Label: p.Name, Selected: slices.Contains(f.Provinces, p.Code)})
		}
	}
	if cl, err := s.Orgs.Clusters(r.Context()); err == nil {
		for _, c := range cl {
			id := itoa(c.ID)
			v.Clusters = append(v.Clusters, option{Value: id, Label: c.Name, Selected: slices.Contains(f.Clusters, id)})
		}
	}
	if formErr != nil {
		v.formErrors(formErr)
	}
	s.render(w, r, status, tplAdvisoryForm, v)
}

func (s *Server) mayWriteAdvisory(w http.ResponseWriter, r *http.Request) bool {
	a := whoFrom(r).Actor
	if err := policy.Check(a, policy.AdvisoryWrite, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		s.renderError(w, r, err, "")
		return false
	}
	if !s.Intel.MayWriteAdvisory(r.Context(), a) {
		e := errs.Forbidden("web: advisory")
		e.Message = errs.Msg{Key: "intel.adv.err.not_publisher"}
		s.renderError(w, r, e, "")
		return false
	}
	return true
}

func (s *Server) handleAdvisoryNew(w http.ResponseWriter, r *http.Request) {
	if !s.mayWriteAdvisory(w, r) {
		return
	}
	s.advisoryFormPage(w, r, http.StatusOK, advisoryForm{Severity: intel.SeverityHigh, TLP: string(policy.TLPAmber)}, nil)
}

// parseProducts reads "vendor | product | version" lines.
func parseProducts(s string) []intel.Product {
	var out []intel.Product
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.SplitN(line, "|", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		p := intel.Product{Vendor: parts[0], Product: parts[1], Version: parts[2]}
		if strings.TrimSpace(p.Product) == "" && !strings.Contains(line, "|") {
			p = intel.Product{Product: line}
		}
		out = append(out, p)
	}
	return out
}

// readAdvisoryForm reads the posted form: what was typed, the service's
// input, and the fields the page could not read.
func (s *Server) readAdvisoryForm(r *http.Request) (advisoryForm, intel.AdvisoryInput, *errs.Error, error) {
	wh := whoFrom(r)
	r.ParseForm()
	pf := r.PostForm
	f := advisoryForm{Title: pf.Get("title"), TitleEN: pf.Get("title_en"), Summary: pf.Get("summary"), SummaryEN: pf.Get("summary_en"),
		Body: pf.Get("body"), BodyEN: pf.Get("body_en"), Severity: pf.Get("severity"), TLP: pf.Get("tlp"), DeadlineAt: pf.Get("deadline_at"),
		CVEs: pf.Get("cves"), Products: pf.Get("products"), Actions: pf.Get("actions"), Indicators: pf.Get("indicators"), Orgs: pf.Get("orgs"),
		All: pf.Get("all") == "1", Ranges: pf.Get("ranges") == "1", Sectors: pf["sector"], Regions: pf["region"], Provinces: pf["province"],
		Roles: pf["role"], Clusters: pf["cluster"]}
	in := intel.AdvisoryInput{Title: f.Title, TitleEN: f.TitleEN, Summary: f.Summary, SummaryEN: f.SummaryEN, Body: f.Body, BodyEN: f.BodyEN,
		Severity: f.Severity, TLP: policy.TLP(f.TLP), CVEs: splitList(f.CVEs), Products: parseProducts(f.Products), Actions: f.Actions,
		Targeting: intel.Targeting{All: f.All, Ranges: f.Ranges, Sectors: f.Sectors, Regions: f.Regions, Provinces: f.Provinces, Roles: f.Roles}}
	bad := errs.Invalid("web: advisory")
	if d := strings.TrimSpace(f.DeadlineAt); d != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", d, i18n.Zone)
		if err != nil {
			bad.Field("deadline_at", "intel.adv.err.deadline")
		}
		in.DeadlineAt = t
	}
	for _, c := range f.Clusters {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			in.Targeting.Clusters = append(in.Targeting.Clusters, id)
		}
	}
	if strings.TrimSpace(f.Orgs) != "" {
		ids, unknown := s.orgIDsByCode(r, wh.Actor, f.Orgs)
		if len(unknown) > 0 {
			bad.Field("targeting", "intel.adv.err.codes", strings.Join(unknown, ", "))
		}
		in.Targeting.Orgs = ids
	}
	ids, unknown, err := s.Intel.FindIndicators(r.Context(), wh.Actor, splitList(f.Indicators))
	if err != nil {
		return f, in, bad, err
	}
	if len(unknown) > 0 {
		bad.Field("indicators", "intel.adv.err.indicator_refs", strings.Join(unknown, ", "))
	}
	in.IndicatorIDs = ids
	return f, in, bad, nil
}

func (s *Server) handleAdvisoryCreate(w http.ResponseWriter, r *http.Request) {
	if !s.mayWriteAdvisory(w, r) {
		return
	}
	f, in, bad, err := s.readAdvisoryForm(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if len(bad.Fields) > 0 {
		s.advisoryFormPage(w, r, http.StatusBadRequest, f, bad)
		return
	}
	v, err := s.Intel.CreateAdvisory(r.Context(), whoFrom(r).Actor, in)
	if errs.Is(err, errs.KindInvalid) {
		s.advisoryFormPage(w, r, http.StatusBadRequest, f, err)
		return
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/advisories/%d", v.ID), "intel.adv.flash.created")
}

// editable reads the draft of the path for its editor: NotFound when the
// actor may not read it, Forbidden when it may not write it.
func (s *Server) editable(w http.ResponseWriter, r *http.Request) (intel.Advisory, bool) {
	a := whoFrom(r).Actor
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, errs.NotFound("web: advisory"), "")
		return intel.Advisory{}, false
	}
	v, err := s.Intel.Advisory(r.Context(), a, id)
	if err == nil {
		err = policy.Check(a, policy.AdvisoryWrite, policy.Resource{OwnerOrg: v.OwnerOrgID, TLP: policy.TLPGreen})
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return intel.Advisory{}, false
	}
	return v, true
}

// formOf is the form of a stored draft.
func (s *Server) formOf(r *http.Request, v intel.Advisory) advisoryForm {
	f := advisoryForm{ID: v.ID, Title: v.Title, TitleEN: v.TitleEN, Summary: v.Summary, SummaryEN: v.SummaryEN, Body: v.Body, BodyEN: v.BodyEN,
		Severity: v.Severity, TLP: string(v.TLP), CVEs: strings.Join(v.CVEs, ", "), Actions: v.Actions, All: v.Targeting.All,
		Ranges: v.Targeting.Ranges, Sectors: v.Targeting.Sectors, Regions: v.Targeting.Regions, Provinces: v.Targeting.Provinces,
		Roles: v.Targeting.Roles}
	if !v.DeadlineAt.IsZero() {
		f.DeadlineAt = v.DeadlineAt.In(i18n.Zone).Format("2006-01-02T15:04")
	}
	var lines []string
	for _, p := range v.Products {
		lines = append(lines, p.Vendor+" | "+p.Product+" | "+p.Version)
	}
	f.Products = strings.Join(lines, "\n")
	var refs []string
	for _, id := range v.IndicatorIDs {
		refs = append(refs, itoa(id))
	}
	f.Indicators = strings.Join(refs, "\n")
	for _, c := range v.Targeting.Clusters {
		f.Clusters = append(f.Clusters, itoa(c))
	}
	var codes []string
	for _, id := range v.Targeting.Orgs {
		// The codes the publisher typed, read as the code field reads them.
		if o, err := s.Orgs.Get(r.Context(), policy.SystemActor("web"), id); err == nil {
			codes = append(codes, o.Code)
		}
	}
	f.Orgs = strings.Join(codes, ", ")
	return f
}

func (s *Server) handleAdvisoryEdit(w http.ResponseWriter, r *http.Request) {
	v, ok := s.editable(w, r)
	if !ok {
		return
	}
	s.advisoryFormPage(w, r, http.StatusOK, s.formOf(r, v), nil)
}

func (s *Server) handleAdvisoryUpdate(w http.ResponseWriter, r *http.Request) {
	v, ok := s.editable(w, r)
	if !ok {
		return
	}
	f, in, bad, err := s.readAdvisoryForm(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f.ID = v.ID
	if len(bad.Fields) > 0 {
		s.advisoryFormPage(w, r, http.StatusBadRequest, f, bad)
		return
	}
	in.STIXID = v.STIXID
	_, err = s.Intel.UpdateAdvisory(r.Context(), whoFrom(r).Actor, v.ID, in)
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.advisoryFormPage(w, r, http.StatusBadRequest, f, err)
		return
	case errs.KindConflict:
		s.advisoryFormPage(w, r, http.StatusConflict, f, err)
		return
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/advisories/%d", v.ID), "intel.adv.flash.saved")
}

// cveRow is a CVE of an advisory with what the CVE table knows.
type cveRow struct {
	ID    string
	Known bool
	intel.CVE
}

type advisoryView struct {
	Base
	A          intel.Advisory
	Owner      string
	CVEs       []cveRow
	Indicators []intel.Indicator
	Hidden     int // linked indicators the reader may not see
	Mine       *intel.Recipient
	MayAck     bool
	MayReport  bool
	Manager    bool
	MayPublish bool
	MayClose   bool
	Reach      int // organisations a draft would reach; -1 when it cannot be resolved
	Rates      intel.Rates
	// The recipients the reader follows, with the filters of the list.
	Recipients                          []intel.Recipient
	FStatus, FOutcome, FSector, FProv   string
	FOverdue                            bool
	StatusOpts, OutcomeOpts, SectorOpts []option
	ProvOpts                            []option
	SectorChart, ProvChart              template.HTML
	ExportQuery                         string
	Outcomes                            []option
	Now                                 time.Time
	// Evidence files of the answers the reader follows, by recipient id;
	// MayAttach: the reader's organisation may add files to its answer.
	Evidence      map[int64][]intel.AnswerEvidence
	MayAttach     bool
	EvidenceExts  string
	EvidenceMaxMB int
}

// Pct shows a rate with one decimal.
func (b Base) Pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " %" }

// SectorName labels a sector key ("" is none).
func (b Base) SectorName(k string) string {
	if k == "" {
		return b.T("intel.adv.no_sector")
	}
	return b.T("org.sector." + k)
}

func (s *Server) advisoryPage(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	wh := whoFrom(r)
	ctx := r.Context()
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, errs.NotFound("web: advisory"), "")
		return
	}
	a, err := s.Intel.Advisory(ctx, wh.Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	names := s.orgNamer(r)
	q := r.URL.Query()
	v := advisoryView{Base: s.base(r, "intel.adv.title"), A: a, Owner: names.label(a.OwnerOrgID), Now: s.Now(),
		FStatus: q.Get("status"), FOutcome: q.Get("outcome"), FSector: q.Get("sector"), FProv: q.Get("province"), FOverdue: q.Get("overdue") == "1"}
	v.Title = a.Title
	if v.IsEN() && a.TitleEN != "" {
		v.Title = a.TitleEN
	}
	if !slices.Contains(intel.RecipientStatuses, v.FStatus) {
		v.FStatus = ""
	}
	if !slices.Contains(intel.Outcomes, v.FOutcome) {
		v.FOutcome = ""
	}
	info, err := s.Intel.CVEInfo(ctx, wh.Actor, a.CVEs)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	for _, c := range a.CVEs {
		ci, ok := info[c]
		v.CVEs = append(v.CVEs, cveRow{ID: c, Known: ok, CVE: ci})
	}
	for _, iid := range a.IndicatorIDs {
		ind, err := s.Intel.Get(ctx, wh.Actor, iid)
		if err != nil {
			v.Hidden++
			continue
		}
		v.Indicators = append(v.Indicators, ind)
	}
	v.Manager = intel.AdvisoryManager(wh.Actor, a)
	own := policy.Resource{OwnerOrg: a.OwnerOrgID, TLP: policy.TLPGreen}
	mayPub := policy.Allowed(wh.Actor, policy.AdvisoryPublish, own)
	v.MayPublish = a.Status == intel.AdvisoryDraft && mayPub
	v.MayClose = a.Status == intel.AdvisoryPublished && mayPub
	if v.MayPublish {
		v.Reach = -1
		if res, err := s.Intel.Resolve(ctx, wh.Actor, a); err == nil {
			v.Reach = len(res.Orgs)
		}
	}
	if a.Status != intel.AdvisoryDraft {
		if slices.Contains(a.RecipientOrgs, wh.Actor.OrgID) {
			list, err := s.Intel.Recipients(ctx, wh.Actor, a.ID, intel.RecipientFilter{})
			if err == nil {
				for i := range list {
					if list[i].OrgID == wh.Actor.OrgID {
						m := list[i]
						v.Mine = &m
					}
				}
			}
		}
		if v.Mine != nil && a.Status == intel.AdvisoryPublished &&
			policy.Allowed(wh.Actor, policy.AdvisoryRespond, policy.Resource{OwnerOrg: v.Mine.OrgID, TLP: policy.TLPGreen}) {
			v.MayAck = v.Mine.Status == intel.RecipientDelivered
			v.MayReport = v.Mine.Status == intel.RecipientAcknowledged || v.Mine.Status == intel.RecipientReported && v.Mine.Outcome == intel.OutcomeInProgress
		}
		if v.Rates, err = s.Intel.Rates(ctx, wh.Actor, a.ID); err != nil {
			s.renderError(w, r, err, "")
			return
		}
		f := intel.RecipientFilter{Status: v.FStatus, Outcome: v.FOutcome, Sector: v.FSector, Province: v.FProv, Overdue: v.FOverdue}
		if v.Recipients, err = s.Intel.Recipients(ctx, wh.Actor, a.ID, f); err != nil {
			s.renderError(w, r, err, "")
			return
		}
		for i := range v.Recipients {
			v.Recipients[i].OrgName = names.label(v.Recipients[i].OrgID)
		}
		if v.Evidence, err = s.Intel.AnswerEvidenceByRecipient(ctx, wh.Actor, a.ID); err != nil {
			s.renderError(w, r, err, "")
			return
		}
		v.MayAttach = v.Mine != nil && a.Status == intel.AdvisoryPublished &&
			policy.Allowed(wh.Actor, policy.AdvisoryRespond, policy.Resource{OwnerOrg: v.Mine.OrgID, TLP: policy.TLPGreen})
		v.EvidenceExts, v.EvidenceMaxMB = strings.Join(intel.AnswerEvidenceExtensions(), ","), intel.MaxAnswerEvidence>>20
		v.ExportQuery = r.URL.RawQuery
		v.StatusOpts = v.choices("intel.adv.rstatus.", intel.RecipientStatuses)
		for i := range v.StatusOpts {
			v.StatusOpts[i].Selected = v.StatusOpts[i].Value == v.FStatus
		}
		v.Outcomes = v.choices("intel.adv.outcome.", intel.Outcomes)
		v.OutcomeOpts = v.choices("intel.adv.outcome.", intel.Outcomes)
		for i := range v.OutcomeOpts {
			v.OutcomeOpts[i].Selected = v.OutcomeOpts[i].Value == v.FOutcome
		}
		var sb, pb []Bar
		for _, x := range v.Rates.BySector {
			v.SectorOpts = append(v.SectorOpts, option{Value: x.Key, Label: v.SectorName(x.Key), Selected: x.Key == v.FSector})
			sb = append(sb, Bar{Label: v.SectorName(x.Key), Value: int(x.DoneRate() + 0.5)})
		}
		for _, x := range v.Rates.ByProvince {
			label := x.Name
			if label == "" {
				label = v.T("intel.adv.no_province")
			}
			v.ProvOpts = append(v.ProvOpts, option{Value: x.Key, Label: label, Selected: x.Key == v.FProv})
			pb = append(pb, Bar{Label: label, Value: int(x.DoneRate() + 0.5)})
		}
		v.SectorChart = barChart(v.T("intel.adv.chart_sector"), sb)
		v.ProvChart = barChart(v.T("intel.adv.chart_province"), pb)
	}
	if formErr != nil {
		v.formErrors(formErr)
	}
	s.render(w, r, status, tplAdvisory, v)
}

func (s *Server) handleAdvisory(w http.ResponseWriter, r *http.Request) {
	s.advisoryPage(w, r, http.StatusOK, nil)
}

// advisoryAction runs a change and answers as its form expects: back to
// the advisory with a flash, or the page again with what went wrong.
func (s *Server) advisoryAction(w http.ResponseWriter, r *http.Request, flash string, do func(id int64) error) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, errs.NotFound("web: advisory"), "")
		return
	}
	err = do(id)
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.advisoryPage(w, r, http.StatusBadRequest, err)
		return
	case errs.KindConflict:
		s.advisoryPage(w, r, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/advisories/%d", id), flash)
}

func (s *Server) handleAdvisoryPublish(w http.ResponseWriter, r *http.Request) {
	s.advisoryAction(w, r, "intel.adv.flash.published", func(id int64) error {
		_, err := s.Intel.Publish(r.Context(), whoFrom(r).Actor, id)
		return err
	})
}

func (s *Server) handleAdvisoryClose(w http.ResponseWriter, r *http.Request) {
	s.advisoryAction(w, r, "intel.adv.flash.closed", func(id int64) error {
		_, err := s.Intel.CloseAdvisory(r.Context(), whoFrom(r).Actor, id)
		return err
	})
}

func (s *Server) handleAdvisoryAck(w http.ResponseWriter, r *http.Request) {
	s.advisoryAction(w, r, "intel.adv.flash.acknowledged", func(id int64) error {
		_, err := s.Intel.Respond(r.Context(), whoFrom(r).Actor, id, intel.RespondInput{Acknowledge: true})
		return err
	})
}

func (s *Server) handleAdvisoryReport(w http.ResponseWriter, r *http.Request) {
	s.advisoryAction(w, r, "intel.adv.flash.reported", func(id int64) error {
		_, err := s.Intel.Respond(r.Context(), whoFrom(r).Actor, id, intel.RespondInput{Outcome: r.PostFormValue("outcome"), Note: r.PostFormValue("note")})
		return err
	})
}

// handleAdvisoryExport sends the recipients the reader follows, filtered
// as on the page, as CSV (default) or XLSX.
func (s *Server) handleAdvisoryExport(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, errs.NotFound("web: advisory"), "")
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format != "xlsx" {
		format = "csv"
	}
	s.exportTable(w, r, format, fmt.Sprintf("advisory-%d-recipients", id), "intel.adv.recipients", func(r *http.Request) ([][]string, error) {
		f := intel.RecipientFilter{Status: q.Get("status"), Outcome: q.Get("outcome"), Sector: q.Get("sector"), Province: q.Get("province"),
			Overdue: q.Get("overdue") == "1"}
		list, err := s.Intel.Recipients(r.Context(), wh.Actor, id, f)
		if err != nil {
			return nil, err
		}
		names := s.orgNamer(r)
		tr := func(k string) string { return i18n.T(wh.Lang, k) }
		b := Base{Lang: wh.Lang}
		rows := [][]string{{tr("intel.adv.col.org"), tr("intel.adv.col.sector"), tr("intel.adv.col.province"), tr("intel.adv.col.status"),
			tr("intel.adv.col.outcome"), tr("intel.adv.col.note"), tr("intel.adv.col.delivered"), tr("intel.adv.col.acknowledged"), tr("intel.adv.col.reported")}}
		stamp := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format(time.RFC3339)
		}
		for _, x := range list {
			outcome := ""
			if x.Outcome != "" {
				outcome = tr("intel.adv.outcome." + x.Outcome)
			}
			rows = append(rows, []string{names.label(x.OrgID), b.SectorName(x.Sector), x.ProvinceCode,
				tr("intel.adv.rstatus." + x.Status), outcome, x.Note, stamp(x.DeliveredAt), stamp(x.AcknowledgedAt), stamp(x.ReportedAt)})
		}
		return rows, nil
	})
}

// advisoryNeeds: advisories my organisation has to acknowledge or answer,
// with the deadline.
func advisoryNeeds(s *Server, r *http.Request, wh *who) []need {
	if s.Intel == nil || wh.Actor.OrgID == 0 {
		return nil
	}
	now := s.Now()
	list, err := s.Intel.Waiting(r.Context(), wh.Actor)
	if err != nil {
		return nil
	}
	var out []need
	for _, row := range list {
		href := fmt.Sprintf("/advisories/%d", row.ID)
		if row.Mine.Status == intel.RecipientDelivered {
			out = append(out, need{Text: i18n.T(wh.Lang, "intel.adv.need.ack", row.Title), Href: href, Due: row.Mine.AckDueAt,
				Left: row.Mine.AckDueAt.Sub(now), Late: !now.Before(row.Mine.AckDueAt)})
			continue
		}
		n := need{Text: i18n.T(wh.Lang, "intel.adv.need.report", row.Title), Href: href}
		if !row.DeadlineAt.IsZero() {
			n.Due, n.Left, n.Late = row.DeadlineAt, row.DeadlineAt.Sub(now), !now.Before(row.DeadlineAt)
		}
		out = append(out, n)
	}
	// The publisher's side: its published advisories past the deadline
	// that some recipients have not finished.
	if s.Intel.MayPublish(r.Context(), wh.Actor) {
		own, err := s.Intel.Advisories(r.Context(), wh.Actor, intel.AdvisoryFilter{Own: true, Status: intel.AdvisoryPublished, Limit: 50})
		if err != nil {
			return out
		}
		for _, row := range own {
			if !row.Overdue(now) {
				continue
			}
			rates, err := s.Intel.Rates(r.Context(), wh.Actor, row.ID)
			if err != nil {
				continue
			}
			if open := rates.Overall.Total - rates.Overall.Remediated - rates.Overall.NotAffected; open > 0 {
				out = append(out, need{Text: i18n.T(wh.Lang, "intel.adv.need.overdue", open, row.Title), Href: fmt.Sprintf("/advisories/%d?overdue=1", row.ID),
					Due: row.DeadlineAt, Left: row.DeadlineAt.Sub(now), Late: true})
			}
		}
	}
	return out
}

// handleAdvisorySTIX sends the advisory as a STIX 2.1 bundle with its
// report.
func (s *Server) handleAdvisorySTIX(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, errs.NotFound("web: advisory"), "")
		return
	}
	b, err := s.Intel.AdvisorySTIX(r.Context(), whoFrom(r).Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="advisory-%d.stix.json"`, id))
	w.Write(b)
}

// handleAdvisoryFromReport makes a draft from an imported STIX report.
func (s *Server) handleAdvisoryFromReport(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("stix_id"))
	if !intel.ValidSTIXID(id, "report") {
		s.renderError(w, r, errs.NotFound("web: report"), "")
		return
	}
	v, err := s.Intel.AdvisoryFromReport(r.Context(), whoFrom(r).Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/advisories/%d", v.ID), "intel.adv.flash.from_report")
}
