package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
)

// Coordination orders, support requests, effort and costs (internal/coord).

const (
	tplIncCoord = "incident_coord"
	tplOrders   = "orders.html"
	tplOrder    = "order.html"
	tplSupport  = "support.html"
)

func init() {
	addIncidentSection("coord", coordSection)
	addNeeds(coordNeeds)
}

type coordSectionView struct {
	Base
	Ref         string
	Orders      []coord.Order
	Support     []coord.Support
	Efforts     []coord.Effort
	Totals      []coord.Totals
	MayIssue    bool
	MayRequest  bool
	MayEffort   bool
	Observables []option
	Priorities  []option
	Now         time.Time
}

func coordSection(s *Server, r *http.Request, v *incView) (string, any, error) {
	if s.Coord == nil {
		return "", nil, nil
	}
	ctx := r.Context()
	orders, err := s.Coord.Orders(ctx, v.Actor, coord.Filter{Incident: v.Inc.ID})
	if err != nil {
		return "", nil, err
	}
	sup, err := s.Coord.SupportRequests(ctx, v.Actor, coord.SupportFilter{Incident: v.Inc.ID})
	if err != nil {
		return "", nil, err
	}
	efforts, totals, err := s.Coord.Efforts(ctx, v.Actor, v.Inc.Ref)
	if err != nil {
		return "", nil, err
	}
	names := s.orgNamer(r)
	maskOrders(names, orders)
	maskSupport(names, sup)
	maskEffort(names, efforts, totals)
	own := policy.Resource{OwnerOrg: v.Actor.OrgID, TLP: policy.TLPGreen}
	sv := coordSectionView{Base: v.Base, Ref: v.Inc.Ref, Orders: orders, Support: sup, Efforts: efforts, Totals: totals,
		MayIssue:   s.Coord.MayIssue(ctx, v.Actor),
		MayRequest: policy.Allowed(v.Actor, policy.SupportRequest, own),
		MayEffort:  policy.Allowed(v.Actor, policy.EffortWrite, own), Now: s.Now()}
	for _, p := range coord.Priorities {
		sv.Priorities = append(sv.Priorities, option{Value: p, Label: v.T("coord.priority." + p), Selected: p == coord.PriorityNormal})
	}
	if sv.MayIssue {
		obs, err := s.Incidents.Observables(ctx, v.Actor, v.Inc.Ref)
		if err == nil {
			for _, o := range obs {
				sv.Observables = append(sv.Observables, option{Value: itoa(o.ID), Label: o.Value})
			}
		}
	}
	return tplIncCoord, sv, nil
}

// maskOrders names organisations as the actor may see them ("#id" for
// those it may not).
func maskOrders(n *orgNames, list []coord.Order) {
	for i := range list {
		list[i].IssuerName = n.label(list[i].IssuerOrgID)
		for j := range list[i].Targets {
			t := &list[i].Targets[j]
			t.OrgName, t.OrgCode = n.label(t.OrgID), ""
		}
	}
}

func maskSupport(n *orgNames, list []coord.Support) {
	for i := range list {
		list[i].RequesterName = n.label(list[i].RequesterOrgID)
		list[i].ReceiverName = n.label(list[i].ReceiverOrgID)
	}
}

func maskEffort(n *orgNames, list []coord.Effort, totals []coord.Totals) {
	for i := range list {
		list[i].OrgName, list[i].OrgCode = n.label(list[i].OrgID), ""
	}
	for i := range totals {
		if totals[i].OrgID != 0 {
			totals[i].OrgName = n.label(totals[i].OrgID)
		}
	}
}

// coordNeeds: orders my organisation must acknowledge, overdue orders
// issued by or to it, support requests waiting for it.
func coordNeeds(s *Server, r *http.Request, wh *who) []need {
	if s.Coord == nil || wh.Actor.OrgID == 0 {
		return nil
	}
	now := s.Now()
	var out []need
	orders, err := s.Coord.Orders(r.Context(), wh.Actor, coord.Filter{})
	if err != nil {
		return nil
	}
	names := s.orgNamer(r) // only the organisations named in a need are looked up
	for _, o := range orders {
		href := fmt.Sprintf("/orders/%d", o.ID)
		for _, t := range o.Targets {
			switch {
			case t.OrgID == wh.Actor.OrgID && t.Status == coord.StatusSent:
				out = append(out, need{Text: i18n.T(wh.Lang, "coord.need.ack", o.Title), Href: href, Due: t.AckDueAt,
					Left: t.AckDueAt.Sub(now), Late: now.After(t.AckDueAt)})
			case (t.OrgID == wh.Actor.OrgID || o.IssuerOrgID == wh.Actor.OrgID) && o.Overdue(t, now):
				out = append(out, need{Text: i18n.T(wh.Lang, "coord.need.overdue", names.label(t.OrgID), o.Title), Href: href, Due: o.DeadlineAt,
					Left: o.DeadlineAt.Sub(now), Late: true})
			}
		}
	}
	sup, err := s.Coord.SupportRequests(r.Context(), wh.Actor, coord.SupportFilter{Direction: coord.DirIn, Status: coord.SupportOpen})
	if err == nil {
		maskSupport(names, sup)
		for _, sr := range sup {
			out = append(out, need{Text: i18n.T(wh.Lang, "coord.need.support", sr.RequesterName, sr.IncidentRef), Href: "/support"})
		}
	}
	return out
}

// orgIDsByCode reads the target field: organisation codes separated by
// commas or spaces. Unknown codes are reported on the field.
func (s *Server) orgIDsByCode(r *http.Request, a policy.Actor, text string) ([]int64, []string) {
	var ids []int64
	var unknown []string
	for _, code := range coord.ParseCodes(text) {
		// Codes are looked up as certnet itself: the service then decides
		// on each organisation (scope), with one message for all.
		o, err := s.Orgs.GetByCode(r.Context(), policy.SystemActor("web"), strings.TrimSpace(code))
		if err != nil {
			unknown = append(unknown, code)
			continue
		}
		ids = append(ids, o.ID)
	}
	return ids, unknown
}

// badForm is the error of a form whose fields could not be read, in the
// service's order: the incident's own answer first (not found, for someone
// who may not see it), then the action on the owner organisation's
// resource, then the fields.
func (s *Server) badForm(r *http.Request, a policy.Actor, act policy.Action, owner int64, bad *errs.Error) error {
	if len(bad.Fields) == 0 {
		return nil
	}
	if _, err := s.Incidents.Get(r.Context(), a, r.PathValue("ref")); err != nil {
		return err
	}
	if err := policy.Check(a, act, policy.Resource{OwnerOrg: owner, TLP: policy.TLPGreen}); err != nil {
		return err
	}
	return bad
}

func (s *Server) handleOrderIssue(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: orders"), "")
		return
	}
	in := coord.IssueInput{Title: r.PostFormValue("title"), Actions: r.PostFormValue("actions"), Priority: r.PostFormValue("priority"),
		TLP: policy.TLP(r.PostFormValue("tlp"))}
	bad := errs.Invalid("web: order")
	if d := strings.TrimSpace(r.PostFormValue("deadline_at")); d != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", d, i18n.Zone)
		if err != nil {
			bad.Field("deadline_at", "incidents.err.time")
		}
		in.DeadlineAt = t
	}
	ids, unknown := s.orgIDsByCode(r, wh.Actor, r.PostFormValue("targets"))
	if len(unknown) > 0 {
		bad.Field("targets", "coord.err.codes", strings.Join(unknown, ", "))
	}
	in.Targets = ids
	if r.PostForm != nil {
		for _, v := range r.PostForm["observable"] {
			in.ObservableIDs = append(in.ObservableIDs, formID(v))
		}
	}
	in.SupportID = formID(r.PostFormValue("support_id"))
	if err := s.badForm(r, wh.Actor, policy.OrderIssue, wh.Actor.OrgID, bad); err != nil {
		s.afterAction(w, r, prefixed(err, "order."), "")
		return
	}
	_, err := s.Coord.Issue(r.Context(), wh.Actor, r.PathValue("ref"), in)
	s.afterAction(w, r, prefixed(err, "order."), "coord.flash.issued")
}

type ordersView struct {
	Base
	Orders     []coord.Order
	Direction  string
	Status     string
	Overdue    bool
	Exercise   bool // the drills' orders instead of the real ones
	Directions []option
	Statuses   []option
	Now        time.Time
}

func (s *Server) handleOrders(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	q := r.URL.Query()
	v := ordersView{Base: s.base(r, "coord.orders_title"), Direction: q.Get("direction"), Status: q.Get("status"),
		Overdue: q.Get("overdue") == "1", Exercise: q.Get("exercise") == "1", Now: s.Now()}
	if v.Direction != coord.DirIn && v.Direction != coord.DirOut {
		v.Direction = ""
	}
	if !slices.Contains(coord.Statuses, v.Status) {
		v.Status = ""
	}
	for _, d := range []string{"", coord.DirIn, coord.DirOut} {
		v.Directions = append(v.Directions, option{Value: d, Label: v.T("coord.dir." + cmp.Or(d, "all")), Selected: d == v.Direction})
	}
	v.Statuses = append(v.Statuses, option{Value: "", Label: v.T("coord.dir.all"), Selected: v.Status == ""})
	for _, st := range coord.Statuses {
		v.Statuses = append(v.Statuses, option{Value: st, Label: v.T("coord.status." + st), Selected: st == v.Status})
	}
	if s.Coord != nil {
		list, err := s.Coord.Orders(r.Context(), wh.Actor, coord.Filter{Direction: v.Direction, Status: v.Status, Overdue: v.Overdue,
			Exercise: v.Exercise})
		if err != nil {
			s.renderError(w, r, err, "")
			return
		}
		maskOrders(s.orgNamer(r), list)
		v.Orders = list
	}
	if q.Get("format") == "csv" || q.Get("format") == "xlsx" {
		s.exportTable(w, r, q.Get("format"), "orders", "coord.orders_title", func(*http.Request) ([][]string, error) {
			rows := [][]string{{v.T("coord.col.id"), v.T("coord.col.incident"), v.T("coord.col.title"), v.T("coord.col.issuer"),
				v.T("coord.col.target"), v.T("coord.col.status"), v.T("coord.col.deadline"), v.T("coord.col.result")}}
			for _, o := range v.Orders {
				for _, t := range o.Targets {
					rows = append(rows, []string{itoa(o.ID), o.IncidentRef, o.Title, o.IssuerName, t.OrgName,
						v.T("coord.status." + t.Status), o.DeadlineAt.Format(time.RFC3339), t.Result})
				}
			}
			return rows, nil
		})
		return
	}
	s.render(w, r, http.StatusOK, tplOrders, v)
}

type orderView struct {
	Base
	Order   coord.Order
	Mine    coord.Target
	IsMine  bool
	Next    []string
	MayResp bool
	Now     time.Time
	AckHelp bool
	// Efforts: the effort recorded on the order that the actor may see;
	// MayEffort: the actor's organisation, a target, may record its own.
	Efforts   []coord.Effort
	MayEffort bool
}

func (s *Server) orderPage(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err != nil || s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: order"), "")
		return
	}
	o, err := s.Coord.Order(r.Context(), wh.Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	one := []coord.Order{o}
	maskOrders(s.orgNamer(r), one)
	o = one[0]
	v := orderView{Base: s.base(r, "coord.order_title"), Order: o, Now: s.Now()}
	v.Title = o.Title
	if t, ok := o.Target(wh.Actor.OrgID); ok {
		v.Mine, v.IsMine = t, true
		v.Next = coord.Next(t.Status)
		v.MayResp = len(v.Next) > 0 && policy.Allowed(wh.Actor, policy.OrderRespond, policy.Resource{OwnerOrg: t.OrgID, TLP: policy.TLPAmber})
		v.MayEffort = policy.Allowed(wh.Actor, policy.EffortWrite, policy.Resource{OwnerOrg: t.OrgID, TLP: policy.TLPGreen})
	}
	if v.Efforts, err = s.Coord.OrderEfforts(r.Context(), wh.Actor, id); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if formErr != nil {
		v.formErrors(formErr)
	}
	s.render(w, r, status, tplOrder, v)
}

func (s *Server) handleOrder(w http.ResponseWriter, r *http.Request) {
	s.orderPage(w, r, http.StatusOK, nil)
}

func (s *Server) handleOrderRespond(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err != nil || s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: order"), "")
		return
	}
	_, err = s.Coord.Respond(r.Context(), wh.Actor, id, coord.RespondInput{Status: r.PostFormValue("status"), Result: r.PostFormValue("result")})
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.orderPage(w, r, http.StatusBadRequest, err)
		return
	case errs.KindConflict:
		s.orderPage(w, r, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orders/%d", id), "coord.flash.responded")
}

func (s *Server) handleSupportRequest(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: support"), "")
		return
	}
	_, err := s.Coord.RequestSupport(r.Context(), wh.Actor, r.PathValue("ref"), coord.SupportInput{Needed: r.PostFormValue("needed"),
		Urgency: r.PostFormValue("urgency"), ToNational: r.PostFormValue("to") == "national"})
	s.afterAction(w, r, prefixed(err, "support."), "coord.flash.requested")
}

type supportView struct {
	Base
	Requests  []coord.Support
	Direction string
}

// MayDecide reports whether the signed-in actor may decide the request.
func (v supportView) MayDecide(sr coord.Support) bool {
	return policy.Allowed(v.Actor, policy.SupportDecide, policy.Resource{OwnerOrg: sr.ReceiverOrgID, TLP: policy.TLPGreen})
}

func (s *Server) supportPage(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	wh := whoFrom(r)
	v := supportView{Base: s.base(r, "coord.support_title"), Direction: r.URL.Query().Get("direction")}
	if v.Direction != coord.DirIn && v.Direction != coord.DirOut {
		v.Direction = ""
	}
	if s.Coord != nil {
		list, err := s.Coord.SupportRequests(r.Context(), wh.Actor, coord.SupportFilter{Direction: v.Direction})
		if err != nil {
			s.renderError(w, r, err, "")
			return
		}
		maskSupport(s.orgNamer(r), list)
		v.Requests = list
	}
	if formErr != nil {
		v.formErrors(formErr)
	}
	s.render(w, r, status, tplSupport, v)
}

func (s *Server) handleSupportList(w http.ResponseWriter, r *http.Request) {
	s.supportPage(w, r, http.StatusOK, nil)
}

func (s *Server) handleSupportDecide(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err != nil || s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: support"), "")
		return
	}
	_, err = s.Coord.DecideSupport(r.Context(), wh.Actor, id, r.PostFormValue("decision"), r.PostFormValue("answer"))
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.supportPage(w, r, http.StatusBadRequest, err)
		return
	case errs.KindConflict:
		s.supportPage(w, r, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/support", "coord.flash.decided")
}

// effortForm reads the effort form's numbers and date; bad collects the
// fields that could not be read.
func effortForm(r *http.Request, bad *errs.Error) coord.EffortInput {
	num := func(field string) float64 {
		if strings.TrimSpace(r.PostFormValue(field)) == "" {
			return 0
		}
		f, err := coord.ParseDecimal(r.PostFormValue(field))
		if err != nil {
			bad.Field(field, "coord.err.number")
		}
		return f
	}
	in := coord.EffortInput{Date: r.PostFormValue("date"), People: int(num("people")), Hours: num("hours"),
		Description: r.PostFormValue("description")}
	if cost := strings.TrimSpace(r.PostFormValue("cost_vnd")); cost != "" {
		n, err := coord.ParseVND(cost)
		if err != nil {
			bad.Field("cost_vnd", "coord.err.number")
		}
		in.CostVND = n
	}
	return in
}

func (s *Server) handleEffortAdd(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: effort"), "")
		return
	}
	bad := errs.Invalid("web: effort")
	in := effortForm(r, bad)
	if code := strings.TrimSpace(r.PostFormValue("org")); code != "" {
		ids, unknown := s.orgIDsByCode(r, wh.Actor, code)
		if len(unknown) > 0 || len(ids) != 1 {
			bad.Field("org_id", "coord.err.codes", code)
		} else {
			in.OrgID = ids[0]
		}
	}
	if err := s.badForm(r, wh.Actor, policy.EffortWrite, cmp.Or(in.OrgID, wh.Actor.OrgID), bad); err != nil {
		s.afterAction(w, r, prefixed(err, "effort."), "")
		return
	}
	_, err := s.Coord.AddEffort(r.Context(), wh.Actor, r.PathValue("ref"), in)
	s.afterAction(w, r, prefixed(err, "effort."), "coord.flash.effort")
}

// handleOrderEffort records the effort of the actor's organisation on an
// order it is a target of, from the order's page.
func (s *Server) handleOrderEffort(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err != nil || s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: order effort"), "")
		return
	}
	bad := errs.Invalid("web: order effort")
	in := effortForm(r, bad)
	if len(bad.Fields) == 0 {
		_, err = s.Coord.AddOrderEffort(r.Context(), wh.Actor, id, in)
	} else if _, err = s.Coord.Order(r.Context(), wh.Actor, id); err == nil {
		// The order's own answer first (not found, for someone who may
		// not see it), then the right to record, then the fields.
		if err = policy.Check(wh.Actor, policy.EffortWrite, policy.Resource{OwnerOrg: wh.Actor.OrgID, TLP: policy.TLPGreen}); err == nil {
			err = bad
		}
	}
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.orderPage(w, r, http.StatusBadRequest, prefixed(err, "effort."))
		return
	case errs.KindConflict:
		s.orderPage(w, r, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orders/%d", id), "coord.flash.effort")
}

// handleEffortExport sends the incident's effort records and totals as CSV
// or XLSX, for the reimbursement file.
func (s *Server) handleEffortExport(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Coord == nil {
		s.renderError(w, r, errs.NotFound("web: effort"), "")
		return
	}
	format := r.URL.Query().Get("format")
	if format != "xlsx" {
		format = "csv"
	}
	ref := r.PathValue("ref")
	s.exportTable(w, r, format, "effort-"+strings.ReplaceAll(ref, "/", "-"), "coord.effort_title", func(r *http.Request) ([][]string, error) {
		list, totals, err := s.Coord.Efforts(r.Context(), wh.Actor, ref)
		if err != nil {
			return nil, err
		}
		maskEffort(s.orgNamer(r), list, totals)
		tr := func(k string) string { return i18n.T(wh.Lang, k) }
		rows := [][]string{{tr("coord.col.incident"), tr("coord.col.org"), tr("coord.col.date"), tr("coord.col.people"),
			tr("coord.col.hours"), tr("coord.col.cost"), tr("coord.col.work"), tr("coord.col.recorded_by")}}
		hours := func(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }
		for _, e := range list {
			rows = append(rows, []string{ref, e.OrgName, e.Date, strconv.Itoa(e.People), hours(e.Hours),
				strconv.FormatInt(e.CostVND, 10), e.Description, e.RecordedBy})
		}
		for _, t := range totals {
			name := t.OrgName
			if t.OrgID == 0 {
				name = tr("coord.total")
			}
			rows = append(rows, []string{ref, name, tr("coord.total"), strconv.Itoa(t.People), hours(t.Hours),
				strconv.FormatInt(t.CostVND, 10), "", ""})
		}
		return rows, nil
	})
}
