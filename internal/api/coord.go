package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Coordination orders, support requests, effort and costs.

func init() {
	register([]Route{
		{"GET", "/api/v1/orders"},
		{"POST", "/api/v1/incidents/{ref}/orders"},
		{"GET", "/api/v1/orders/{id}"},
		{"POST", "/api/v1/orders/{id}/respond"},
		{"GET", "/api/v1/orders/{id}/effort"},
		{"POST", "/api/v1/orders/{id}/effort"},
		{"GET", "/api/v1/support"},
		{"POST", "/api/v1/incidents/{ref}/support"},
		{"GET", "/api/v1/support/{id}"},
		{"POST", "/api/v1/support/{id}/decide"},
		{"GET", "/api/v1/incidents/{ref}/effort"},
		{"POST", "/api/v1/incidents/{ref}/effort"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/orders":                   s.authed(s.listOrders),
			"POST /api/v1/incidents/{ref}/orders":  s.authed(s.issueOrder),
			"GET /api/v1/orders/{id}":              s.authed(s.getOrder),
			"POST /api/v1/orders/{id}/respond":     s.authed(s.respondOrder),
			"GET /api/v1/orders/{id}/effort":       s.authed(s.listOrderEffort),
			"POST /api/v1/orders/{id}/effort":      s.authed(s.addOrderEffort),
			"GET /api/v1/support":                  s.authed(s.listSupport),
			"POST /api/v1/incidents/{ref}/support": s.authed(s.requestSupport),
			"GET /api/v1/support/{id}":             s.authed(s.getSupport),
			"POST /api/v1/support/{id}/decide":     s.authed(s.decideSupport),
			"GET /api/v1/incidents/{ref}/effort":   s.authed(s.listEffort),
			"POST /api/v1/incidents/{ref}/effort":  s.authed(s.addEffort),
		}
	})
}

func (s *Server) coord() (*coord.Service, error) {
	if s.Coord == nil {
		return nil, errs.NotFound("api: coord")
	}
	return s.Coord, nil
}

// orgLabel names organisations as the caller may see them ("#id", and no
// code, for those it may not), as the web UI does.
type orgLabel struct {
	s     *Server
	r     *http.Request
	a     policy.Actor
	cache map[int64]string // "" for an organisation the caller may not read
}

func (s *Server) labels(r *http.Request, a policy.Actor) *orgLabel {
	return &orgLabel{s: s, r: r, a: a, cache: map[int64]string{}}
}

// name returns the organisation's name, or "#id" and false when the caller
// may not read it.
func (l *orgLabel) name(id int64) (string, bool) {
	if id == 0 {
		return "", true
	}
	v, ok := l.cache[id]
	if !ok {
		if o, err := l.s.Orgs.Get(l.r.Context(), l.a, id); err == nil {
			v = o.Name
		}
		l.cache[id] = v
	}
	if v == "" {
		return fmt.Sprintf("#%d", id), false
	}
	return v, true
}

func (l *orgLabel) order(o *coord.Order) {
	o.IssuerName, _ = l.name(o.IssuerOrgID)
	for j := range o.Targets {
		t := &o.Targets[j]
		var seen bool
		if t.OrgName, seen = l.name(t.OrgID); !seen {
			t.OrgCode = ""
		}
	}
}

func (l *orgLabel) support(r *coord.Support) {
	r.RequesterName, _ = l.name(r.RequesterOrgID)
	r.ReceiverName, _ = l.name(r.ReceiverOrgID)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := coord.Filter{Direction: q.Get("direction"), Status: q.Get("status"), Overdue: q.Get("overdue") == "true",
		Exercise: q.Get("exercise") == "true"}
	if f.Direction != "" && f.Direction != coord.DirIn && f.Direction != coord.DirOut {
		return nil, 0, errs.Invalid("api: orders").Field("direction", "field.invalid")
	}
	list, err := c.Orders(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	l := s.labels(r, a)
	for i := range list {
		l.order(&list[i])
	}
	return listOut[coord.Order]{list}, http.StatusOK, nil
}

type orderBody struct {
	Title         string  `json:"title"`
	Actions       string  `json:"actions"`
	Priority      string  `json:"priority"`
	TLP           string  `json:"tlp"`
	DeadlineAt    string  `json:"deadline_at"`
	Targets       []int64 `json:"targets"`
	ObservableIDs []int64 `json:"observable_ids"`
	SupportID     int64   `json:"support_id"`
}

func (s *Server) issueOrder(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	var b orderBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in := coord.IssueInput{Title: b.Title, Actions: b.Actions, Priority: b.Priority, TLP: policy.TLP(strings.ToUpper(b.TLP)),
		Targets: b.Targets, ObservableIDs: b.ObservableIDs, SupportID: b.SupportID}
	if d := strings.TrimSpace(b.DeadlineAt); d != "" {
		t, err := time.Parse(time.RFC3339, d)
		if err != nil {
			return nil, 0, errs.Invalid("api: order").Field("deadline_at", "api.err.rfc3339")
		}
		in.DeadlineAt = t
	}
	o, err := c.Issue(r.Context(), a, incidentKey(r), in)
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/orders/%d", o.ID))
	return o, http.StatusCreated, nil
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	o, err := c.Order(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	s.labels(r, a).order(&o)
	return o, http.StatusOK, nil
}

type respondBody struct {
	Status string `json:"status"`
	Result string `json:"result"`
}

func (s *Server) respondOrder(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b respondBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	o, err := c.Respond(r.Context(), a, id, coord.RespondInput{Status: b.Status, Result: b.Result})
	if err != nil {
		return nil, 0, err
	}
	s.labels(r, a).order(&o)
	return o, http.StatusOK, nil
}

func (s *Server) listSupport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := coord.SupportFilter{Direction: q.Get("direction"), Status: q.Get("status")}
	if f.Direction != "" && f.Direction != coord.DirIn && f.Direction != coord.DirOut {
		return nil, 0, errs.Invalid("api: support").Field("direction", "field.invalid")
	}
	list, err := c.SupportRequests(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	l := s.labels(r, a)
	for i := range list {
		l.support(&list[i])
	}
	return listOut[coord.Support]{list}, http.StatusOK, nil
}

type supportBody struct {
	Needed     string `json:"needed"`
	Urgency    string `json:"urgency"`
	ToNational bool   `json:"to_national"`
}

func (s *Server) requestSupport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	var b supportBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	sr, err := c.RequestSupport(r.Context(), a, incidentKey(r), coord.SupportInput{Needed: b.Needed, Urgency: b.Urgency, ToNational: b.ToNational})
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/support/%d", sr.ID))
	return sr, http.StatusCreated, nil
}

func (s *Server) getSupport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	sr, err := c.SupportRequest(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	s.labels(r, a).support(&sr)
	return sr, http.StatusOK, nil
}

type supportDecideBody struct {
	Decision string `json:"decision"`
	Answer   string `json:"answer"`
}

func (s *Server) decideSupport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b supportDecideBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	sr, err := c.DecideSupport(r.Context(), a, id, b.Decision, b.Answer)
	if err != nil {
		return nil, 0, err
	}
	return sr, http.StatusOK, nil
}

type effortOut struct {
	Items  []coord.Effort `json:"items"`
	Totals []coord.Totals `json:"totals"`
}

func (s *Server) listEffort(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	list, totals, err := c.Efforts(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	l := s.labels(r, a)
	for i := range list {
		var seen bool
		if list[i].OrgName, seen = l.name(list[i].OrgID); !seen {
			list[i].OrgCode = ""
		}
	}
	for i := range totals {
		if totals[i].OrgID != 0 {
			totals[i].OrgName, _ = l.name(totals[i].OrgID)
		}
	}
	return effortOut{list, totals}, http.StatusOK, nil
}

type effortBody struct {
	OrgID       int64   `json:"org_id"`
	Date        string  `json:"date"`
	People      int     `json:"people"`
	Hours       float64 `json:"hours"`
	CostVND     int64   `json:"cost_vnd"`
	Description string  `json:"description"`
	OrderID     int64   `json:"order_id"`
}

func (s *Server) addEffort(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	var b effortBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	e, err := c.AddEffort(r.Context(), a, incidentKey(r), coord.EffortInput{OrgID: b.OrgID, Date: b.Date, People: b.People,
		Hours: b.Hours, CostVND: b.CostVND, Description: b.Description, OrderID: b.OrderID})
	if err != nil {
		return nil, 0, err
	}
	return e, http.StatusCreated, nil
}

func (s *Server) listOrderEffort(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	list, err := c.OrderEfforts(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	l := s.labels(r, a)
	for i := range list {
		var seen bool
		if list[i].OrgName, seen = l.name(list[i].OrgID); !seen {
			list[i].OrgCode = ""
		}
	}
	return items(list), http.StatusOK, nil
}

// orderEffortBody is an effort record of the caller's organisation on an
// order: the organisation and the order come from the path and the caller.
type orderEffortBody struct {
	Date        string  `json:"date"`
	People      int     `json:"people"`
	Hours       float64 `json:"hours"`
	CostVND     int64   `json:"cost_vnd"`
	Description string  `json:"description"`
}

func (s *Server) addOrderEffort(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := s.coord()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b orderEffortBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	e, err := c.AddOrderEffort(r.Context(), a, id, coord.EffortInput{Date: b.Date, People: b.People, Hours: b.Hours,
		CostVND: b.CostVND, Description: b.Description})
	if err != nil {
		return nil, 0, err
	}
	return e, http.StatusCreated, nil
}
