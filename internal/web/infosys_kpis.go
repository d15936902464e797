package web

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"

	"certnet/internal/errs"
	"certnet/internal/infosys"
)

const tplInfosysKPIs = "infosys_kpis.html"

type infosysKPIsView struct {
	Base
	By     string
	Bys    []string
	Days   int
	KPIs   []infosys.KPI
	IOC    []infosys.IOC1014
	Trend  []infosys.Point
	Chart  template.HTML
	Target int
}

// kpiDays are the trend windows offered.
var kpiDays = []int{30, 90, 365}

func (s *Server) kpisView(r *http.Request) (infosysKPIsView, error) {
	wh := whoFrom(r)
	v := infosysKPIsView{Base: s.base(r, "infosys.kpis.title"), By: r.URL.Query().Get("by"), Bys: infosys.Groupings, Days: infosys.TrendDays}
	svc, err := s.infosysSvc()
	if err != nil {
		return v, err
	}
	if v.By == "" {
		v.By = infosys.ByProvince
	}
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return v, errs.Invalid("web: kpis").Field("days", "infosys.err.days", 3660)
		}
		v.Days = n
	}
	ctx := r.Context()
	if v.KPIs, err = svc.KPIs(ctx, wh.Actor, v.By); err != nil {
		return v, err
	}
	if v.IOC, err = svc.IOCTargets(ctx, wh.Actor, v.By); err != nil {
		return v, err
	}
	if v.Trend, err = svc.Trend(ctx, wh.Actor, v.Days); err != nil {
		return v, err
	}
	if v.By == infosys.ByOrg {
		names := s.orgNamer(r)
		for i := range v.KPIs {
			if id, err := strconv.ParseInt(v.KPIs[i].Key, 10, 64); err == nil {
				v.KPIs[i].Key = names.label(id)
			}
		}
		for i := range v.IOC {
			if id, err := strconv.ParseInt(v.IOC[i].Key, 10, 64); err == nil {
				v.IOC[i].Key = names.label(id)
			}
		}
	}
	v.Target = infosys.Target(s.Now().In(infosys.Local).Year())
	if len(v.Trend) > 0 {
		labels := make([]string, len(v.Trend))
		class, plan, onTime, layers, target := make([]int, len(v.Trend)), make([]int, len(v.Trend)), make([]int, len(v.Trend)),
			make([]int, len(v.Trend)), make([]int, len(v.Trend))
		for i, p := range v.Trend {
			labels[i] = p.Day
			class[i], plan[i], onTime[i], layers[i], target[i] = p.ClassPct, p.HighPlanPct, p.OnTimePct, p.LayersPct, p.Target
		}
		v.Chart = lineChart(v.T("infosys.kpis.trend"), labels, []Series{
			{Name: v.T("infosys.kpi.classified"), Values: class},
			{Name: v.T("infosys.kpi.high_plan"), Values: plan},
			{Name: v.T("infosys.kpi.on_time"), Values: onTime},
			{Name: v.T("infosys.kpi.layers"), Values: layers},
			{Name: v.T("infosys.kpi.target"), Values: target, Dashed: true},
		})
	}
	return v, nil
}

func (s *Server) handleInfosysKPIs(w http.ResponseWriter, r *http.Request) {
	v, err := s.kpisView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysKPIs, v)
}

// handleInfosysKPIExport exports the KPI table (table=kpi, the default) or
// the QĐ 1014 IOC table (table=ioc) of the grouping as CSV or XLSX.
func (s *Server) handleInfosysKPIExport(w http.ResponseWriter, r *http.Request) {
	format, table := r.URL.Query().Get("format"), r.URL.Query().Get("table")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		s.renderError(w, r, errs.Invalid("web: kpi export").Field("format", "field.invalid_choice"), "")
		return
	}
	switch table {
	case "", "kpi":
		s.exportTable(w, r, format, "certnet-infosys-kpi", "infosys.kpis.title", s.kpiTableRows)
	case "ioc":
		s.exportTable(w, r, format, "certnet-infosys-qd1014", "infosys.qd1014.title", s.iocTableRows)
	default:
		s.renderError(w, r, errs.Invalid("web: kpi export").Field("table", "field.invalid_choice"), "")
	}
}

// kpiTableRows is the KPI table with every column, for the exports.
func (s *Server) kpiTableRows(r *http.Request) ([][]string, error) {
	v, err := s.kpisView(r)
	if err != nil {
		return nil, err
	}
	n := strconv.Itoa
	rows := [][]string{{v.T("infosys.kpi.group"), v.T("infosys.kpi.systems"), v.T("infosys.kpi.classified"), "%",
		v.T("infosys.kpi.high_plan"), "%", v.T("infosys.kpi.on_time"), "%", v.T("infosys.kpi.layers"), "%",
		v.T("infosys.kpi.open_critical"), v.T("infosys.kpi.open_high"), v.T("infosys.kpi.target"), v.T("infosys.kpi.meets")}}
	for _, k := range v.KPIs {
		meets := v.T("infosys.kpi.below")
		if k.MeetsTarget {
			meets = v.T("infosys.kpi.met")
		}
		rows = append(rows, []string{k.Key, n(k.Systems), n(k.Classified), n(k.ClassPct), n(k.HighPlan) + "/" + n(k.High), n(k.HighPlanPct),
			n(k.OnTime), n(k.OnTimePct), n(k.Layers), n(k.LayersPct), n(k.OpenCritical), n(k.OpenHigh), n(k.Target), meets})
	}
	return rows, nil
}

// iocTableRows is the QĐ 1014 table, for the exports.
func (s *Server) iocTableRows(r *http.Request) ([][]string, error) {
	v, err := s.kpisView(r)
	if err != nil {
		return nil, err
	}
	n := strconv.Itoa
	head := []string{v.T("infosys.kpi.group"), v.T("infosys.qd1014.iocs")}
	for _, k := range iocCols {
		head = append(head, v.T("infosys.qd1014."+k), "%")
	}
	rows := [][]string{head}
	for _, x := range v.IOC {
		row := []string{x.Key, n(x.IOCs)}
		for _, c := range iocCells(x) {
			row = append(row, n(c[0])+"/"+n(c[1]), n(c[2]))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// iocCols are the QĐ 1014 columns in their order.
var iocCols = []string{"classified", "staffed", "monitored", "assessed", "connected", "plan", "operators_trained", "security_trained"}

// iocCells are count, of how many, and percent for each of iocCols.
func iocCells(x infosys.IOC1014) [][3]int {
	return [][3]int{{x.Classified, x.IOCs, x.ClassifiedPct}, {x.Staffed, x.IOCs, x.StaffedPct}, {x.Monitored, x.IOCs, x.MonitoredPct},
		{x.Assessed, x.IOCs, x.AssessedPct}, {x.Connected, x.IOCs, x.ConnectedPct}, {x.Plan, x.IOCs, x.PlanPct},
		{x.OperatorsTrained, x.Operators, x.OperatorsPct}, {x.SecurityTrained, x.Security, x.SecurityPct}}
}

// IOCCols and IOCCells serve the template.
func (v infosysKPIsView) IOCCols() []string { return iocCols }

// IOCCells returns the cells of a row of the QĐ 1014 table.
func (v infosysKPIsView) IOCCells(x infosys.IOC1014) [][3]int { return iocCells(x) }

// DaysChoices are the trend windows offered.
func (v infosysKPIsView) DaysChoices() []int { return slices.Clone(kpiDays) }
