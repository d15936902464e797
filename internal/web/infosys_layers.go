package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/infosys"
	"certnet/internal/policy"
)

const tplInfosysLayers = "infosys_layers.html"

// layersForm is the 4-layer form as typed.
type layersForm struct {
	Staff, Monitoring, Provider, ContractStart, ContractEnd string
	Assessor, LastReportOn, ConnectedSince, Ranges          string
	People                                                  map[int64]bool
}

// layerRow is one layer's status as the page shows it.
type layerRow struct {
	infosys.LayerStatus
	Label string
}

type infosysLayersView struct {
	Base
	// Of an organisation (Sys nil) or of a system.
	OrgID    int64
	OrgName  string
	Sys      *infosys.System
	Action   string
	Rows     []layerRow
	Complete bool
	Form     layersForm
	People   []option // readiness people of the owner (and operator)
	Monitors []option
	CanEdit  bool
	Updated  time.Time
	Staff    []string // every name of the local force
	// The organisation's systems and whether each has its four layers.
	Systems []infosys.SystemComplete
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(infosys.Local).Format(time.DateOnly)
}

func formOfLayers(l infosys.Layers) layersForm {
	f := layersForm{Monitoring: l.Monitoring, Provider: l.Provider, ContractStart: dateOf(l.ContractStart), ContractEnd: dateOf(l.ContractEnd),
		Assessor: l.Assessor, LastReportOn: dateOf(l.LastReportOn), ConnectedSince: dateOf(l.ConnectedSince),
		Ranges: strings.Join(l.RangesShared, "\n"), People: map[int64]bool{}}
	var names []string
	for _, st := range l.Staff {
		if st.PersonID != 0 {
			f.People[st.PersonID] = true
		} else {
			names = append(names, st.Name)
		}
	}
	f.Staff = strings.Join(names, "\n")
	return f
}

func layersInputOf(r *http.Request) (infosys.LayersInput, layersForm) {
	f := layersForm{Staff: r.PostFormValue("staff"), Monitoring: r.PostFormValue("monitoring"), Provider: r.PostFormValue("monitoring_provider"),
		ContractStart: r.PostFormValue("contract_start"), ContractEnd: r.PostFormValue("contract_end"), Assessor: r.PostFormValue("assessor"),
		LastReportOn: r.PostFormValue("last_report_on"), ConnectedSince: r.PostFormValue("connected_since"), Ranges: r.PostFormValue("ranges_shared"),
		People: map[int64]bool{}}
	in := infosys.LayersInput{Monitoring: f.Monitoring, Provider: f.Provider, ContractStart: f.ContractStart, ContractEnd: f.ContractEnd,
		Assessor: f.Assessor, LastReportOn: f.LastReportOn, ConnectedSince: f.ConnectedSince, RangesShared: infosys.SplitList(f.Ranges)}
	for _, id := range r.PostForm["person"] {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			f.People[n] = true
			in.Staff = append(in.Staff, infosys.Staff{PersonID: n})
		} else {
			in.Staff = append(in.Staff, infosys.Staff{PersonID: -1}) // refused as an unknown person
		}
	}
	for _, line := range strings.Split(f.Staff, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Staff = append(in.Staff, infosys.Staff{Name: line})
		}
	}
	return in, f
}

// layersView builds the page of the organisation (param "oid") or of the
// system (param "sid").
func (s *Server) layersView(r *http.Request) (infosysLayersView, error) {
	wh := whoFrom(r)
	v := infosysLayersView{Base: s.base(r, "infosys.layers.title")}
	svc, err := s.infosysSvc()
	if err != nil {
		return v, err
	}
	names := s.orgNamer(r)
	var own infosys.Layers
	var st []infosys.LayerStatus
	orgs := []int64{}
	if r.PathValue("sid") != "" {
		id, err := intParam(r, "sid")
		if err != nil {
			return v, err
		}
		sys, l, _, status, err := svc.SystemLayers(r.Context(), wh.Actor, id)
		if err != nil {
			return v, err
		}
		v.Sys, own, st, v.OrgID = &sys, l, status, sys.OwnerOrgID
		v.Action = fmt.Sprintf("/infosys/systems/%d/layers", sys.ID)
		v.CanEdit = infosys.Check(wh.Actor, policy.InfosysWrite, sys) == nil
		orgs = append(orgs, sys.OwnerOrgID)
		if sys.OperatorOrgID != 0 {
			orgs = append(orgs, sys.OperatorOrgID)
		}
	} else {
		id, err := intParam(r, "oid")
		if err != nil {
			return v, err
		}
		if own, st, err = svc.OrgLayers(r.Context(), wh.Actor, id); err != nil {
			return v, err
		}
		v.OrgID = id
		if v.Systems, err = svc.OrgSystemsComplete(r.Context(), wh.Actor, id); err != nil {
			return v, err
		}
		v.Action = fmt.Sprintf("/infosys/orgs/%d/layers", id)
		v.CanEdit = infosys.Check(wh.Actor, policy.InfosysWrite, infosys.System{OwnerOrgID: id}) == nil
		orgs = append(orgs, id)
	}
	v.OrgName = names.label(v.OrgID)
	for _, x := range st {
		v.Rows = append(v.Rows, layerRow{LayerStatus: x, Label: v.T("infosys.layers.layer." + x.Layer)})
	}
	v.Complete = infosys.Complete(st)
	v.Form = formOfLayers(own)
	v.Updated = own.UpdatedAt
	for _, x := range own.Staff {
		v.Staff = append(v.Staff, x.Name)
	}
	v.Monitors = v.Base.choices("infosys.layers.monitor.", infosys.MonitorKinds)
	if s.Readiness != nil && v.CanEdit {
		for _, o := range orgs {
			ps, err := s.Readiness.PeopleBrief(r.Context(), wh.Actor, o)
			if err != nil {
				continue
			}
			for _, p := range ps {
				v.People = append(v.People, option{Value: itoa(p.ID), Label: p.FullName, Title: names.label(o), Selected: v.Form.People[p.ID]})
			}
		}
	}
	return v, nil
}

func (s *Server) handleInfosysLayers(w http.ResponseWriter, r *http.Request) {
	v, err := s.layersView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysLayers, v)
}

// handleInfosysLayersSave saves the record of the organisation or system
// of the path, and shows the form again with its errors when refused.
func (s *Server) handleInfosysLayersSave(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	svc, err := s.infosysSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	in, f := layersInputOf(r)
	var to string
	if r.PathValue("sid") != "" {
		var id int64
		if id, err = intParam(r, "sid"); err == nil {
			_, err = svc.SaveSystemLayers(r.Context(), a, id, in)
			to = fmt.Sprintf("/infosys/systems/%d/layers", id)
		}
	} else {
		var id int64
		if id, err = intParam(r, "oid"); err == nil {
			_, err = svc.SaveOrgLayers(r.Context(), a, id, in)
			to = fmt.Sprintf("/infosys/orgs/%d/layers", id)
		}
	}
	if err == nil {
		s.redirect(w, r, to, "infosys.flash.saved")
		return
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.layersView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	if !v.CanEdit {
		s.renderError(w, r, err, "")
		return
	}
	v.Form = f
	for i := range v.People {
		id, _ := strconv.ParseInt(v.People[i].Value, 10, 64)
		v.People[i].Selected = f.People[id]
	}
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosysLayers, v)
}
