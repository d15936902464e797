package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/infosys"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// Information systems, second part (issue 6): the inventory import with
// its preview, the edit page with the level history, attachments, the
// holidays page, and a clear message when a finding's state change is
// refused.

const (
	tplInfosysImport   = "infosys_import.html"
	tplInfosysEdit     = "infosys_edit.html"
	tplInfosysHolidays = "infosys_holidays.html"
)

// infosysAttachLimit is the body limit of an attachment upload.
const infosysAttachLimit = infosys.MaxAttachment + 1<<20

// infosysImportLimit is the body limit of an import (the file, or its
// preview's copy sent back base64-encoded, and the form's other fields).
const infosysImportLimit = infosys.MaxImportBytes*4/3 + 1<<20

// ---- The system page's extra sections ----

// infosysExtra is what the system page shows besides the system: its
// files, its level history, and a refused finding change.
type infosysExtra struct {
	Attachments  []infosys.Attachment
	AttachKinds  []option
	DossierOpts  []option
	AttachExts   string
	AttachMaxMB  int
	History      []historyRow
	Reclass      bool
	FindingErrID int64
	FindingErr   string
}

type historyRow struct {
	infosys.HistoryEntry
	Fields string
}

// infosysExtras fills the system page's extra sections.
func (s *Server) infosysExtras(r *http.Request, v *infosysSystemView) error {
	svc, err := s.infosysSvc()
	if err != nil {
		return err
	}
	a := whoFrom(r).Actor
	x := &v.infosysExtra
	if x.Attachments, err = svc.Attachments(r.Context(), a, v.Sys.ID, 0); err != nil {
		return err
	}
	hist, reclass, err := svc.LevelHistory(r.Context(), a, v.Sys.ID)
	if err != nil {
		return err
	}
	x.Reclass = reclass
	for _, h := range hist {
		var names []string
		for _, f := range h.Fields {
			names = append(names, v.T("infosys.hist.field."+f))
		}
		x.History = append(x.History, historyRow{HistoryEntry: h, Fields: strings.Join(names, ", ")})
	}
	x.AttachKinds = v.Base.choices("infosys.attach.kind.", infosys.AttachKinds)
	x.DossierOpts = []option{{Value: "", Label: "—"}}
	for _, d := range v.Dossiers {
		x.DossierOpts = append(x.DossierOpts, option{Value: strconv.FormatInt(d.ID, 10), Label: v.T("infosys.dossier.line", d.ProposedLevel) +
			" — " + v.T("infosys.status."+d.Status)})
	}
	x.AttachExts = strings.Join(infosys.AttachExtensions(), ",")
	x.AttachMaxMB = infosys.MaxAttachment >> 20
	return nil
}

// handleInfosysAttach uploads a file to a system (and one of its dossiers).
func (s *Server) handleInfosysAttach(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	svc, sid, err := s.infosysTarget(r, "sid")
	if err == nil {
		in := infosys.AttachmentInput{Kind: r.PostFormValue("kind"), Note: r.PostFormValue("note")}
		if d := strings.TrimSpace(r.PostFormValue("dossier_id")); d != "" {
			if in.DossierID, err = strconv.ParseInt(d, 10, 64); err != nil {
				err = errs.Invalid("web: attach").Field("dossier_id", "field.invalid_choice")
			}
		}
		if err == nil {
			if f, hdr, ferr := r.FormFile("file"); ferr == nil {
				defer f.Close()
				in.Name, in.Body = path.Base(strings.ReplaceAll(hdr.Filename, `\`, "/")), f
			}
			_, err = svc.Attach(r.Context(), a, sid, in)
		}
	}
	if err == nil {
		s.redirect(w, r, fmt.Sprintf("/infosys/systems/%d#attachments", sid), "infosys.flash.attached")
		return
	}
	s.systemFormAgain(w, r, err, true, nil)
}

// handleInfosysAttachment downloads a file: always an attachment, never
// shown inline.
func (s *Server) handleInfosysAttachment(w http.ResponseWriter, r *http.Request) {
	svc, id, err := s.infosysTarget(r, "aid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	x, data, err := svc.OpenAttachment(r.Context(), whoFrom(r).Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	incident.ServeFile(w, x.Evidence(), bytes.NewReader(data))
}

// refusedFinding shows the system page again with why a finding's state
// change was refused, next to the finding (the states named in the
// reader's language).
func (s *Server) refusedFinding(w http.ResponseWriter, r *http.Request, fid int64, err error) {
	svc, serr := s.infosysSvc()
	if serr != nil {
		s.renderError(w, r, serr, "")
		return
	}
	f, ferr := svc.Finding(r.Context(), whoFrom(r).Actor, fid)
	if ferr != nil {
		s.renderError(w, r, ferr, "")
		return
	}
	r.SetPathValue("sid", strconv.FormatInt(f.SystemID, 10))
	v, verr := s.infosysSystemView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	var why []string
	if e, ok := errs.As(err); ok {
		for _, field := range []string{"status", "note"} {
			m, ok := e.Fields[field]
			if !ok {
				continue
			}
			args := m.Args
			if m.Key == "infosys.err.finding_transition" {
				args = nil
				for _, st := range m.Args {
					args = append(args, v.T(fmt.Sprintf("infosys.finding.status.%v", st)))
				}
			}
			msg := v.T(m.Key, args...)
			if field == "note" && m.Key == "infosys.err.required" {
				msg = v.T("infosys.finding.note_required")
			}
			why = append(why, msg)
		}
	}
	if len(why) == 0 {
		v.formErrors(err)
		why = append(why, v.FormError)
	}
	v.FindingErrID = fid
	v.FindingErr = v.T("infosys.finding.refused", f.Name, strings.Join(why, " "))
	v.FormError = v.FindingErr
	s.render(w, r, formStatus(err), tplInfosysSystem, v)
}

// ---- The edit page ----

type infosysEditView struct {
	Base
	Sys      infosys.System
	Form     systemForm
	Sectors  []option
	IOCs     []option
	Data     []option
	Reclass  bool
	Imported bool
}

func (s *Server) infosysEditView(r *http.Request) (infosysEditView, error) {
	v := infosysEditView{Base: s.base(r, "infosys.edit.title")}
	svc, id, err := s.infosysTarget(r, "sid")
	if err != nil {
		return v, err
	}
	a := whoFrom(r).Actor
	if v.Sys, err = svc.System(r.Context(), a, id); err != nil {
		return v, err
	}
	if err := infosys.Check(a, policy.InfosysWrite, v.Sys); err != nil {
		return v, err
	}
	_, v.Reclass, err = svc.LevelHistory(r.Context(), a, id)
	if err != nil {
		return v, err
	}
	x := v.Sys
	v.Form = systemForm{OwnerOrgID: itoa(x.OwnerOrgID), Name: x.Name, Purpose: x.Purpose, Sector: x.Sector, IOC: x.IOC,
		DataKind: x.DataKind, PersonalCount: strconv.FormatInt(x.PersonalCount, 10), PSL: strconv.Itoa(x.PublicServiceLevel),
		Users: strconv.FormatInt(x.Users, 10), Addresses: strings.Join(x.Addresses, "\n"), Domains: strings.Join(x.Domains, "\n"),
		Providers: x.Providers, Components: x.Components, NationalCritical: x.NationalCritical, PlanDeployed: x.PlanDeployed}
	if x.OperatorOrgID != 0 {
		v.Form.OperatorOrgID = itoa(x.OperatorOrgID)
	}
	v.Sectors = []option{{Value: "", Label: "—"}}
	for _, sct := range org.Sectors {
		v.Sectors = append(v.Sectors, option{Value: string(sct), Label: v.T(sct.LabelKey())})
	}
	for _, k := range infosys.IOCs {
		key := k
		if key == infosys.IOCNone {
			key = "none"
		}
		v.IOCs = append(v.IOCs, option{Value: k, Label: v.T("infosys.ioc." + key)})
	}
	v.Data = v.Base.choices("infosys.data.", infosys.DataKinds)
	return v, nil
}

func (s *Server) handleInfosysEdit(w http.ResponseWriter, r *http.Request) {
	v, err := s.infosysEditView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysEdit, v)
}

// handleInfosysUpdate saves the edit page; a change of what decides the
// level of a classified system is kept in its history and the page says a
// new classification is due.
func (s *Server) handleInfosysUpdate(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	svc, sid, err := s.infosysTarget(r, "sid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	bad := errs.Invalid("web: infosys edit")
	in, f := systemInput(r, bad)
	err = bad.OrNil()
	if err == nil {
		var before, after infosys.System
		if before, err = svc.System(r.Context(), a, sid); err == nil {
			if after, err = svc.UpdateSystem(r.Context(), a, sid, in); err == nil {
				flash := "infosys.flash.saved"
				if before.Level > 0 && !infosys.SameLevelFacts(before, after) {
					flash = "infosys.flash.reclass"
				}
				s.redirect(w, r, fmt.Sprintf("/infosys/systems/%d", sid), flash)
				return
			}
		}
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.infosysEditView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Form = f
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosysEdit, v)
}

// ---- The inventory import ----

type importColDoc struct {
	Name     string
	Required bool
	Help     string
}

type importPreviewRow struct {
	Line     int
	Owner    string
	Name     string
	Level    int
	DataKind string
	Action   string
	Status   string // status-ok, status-bad
	Problems []string
}

type infosysImportView struct {
	Base
	Columns  []importColDoc
	Sectors  string
	MaxRows  int
	MaxMB    int
	FileName string
	Format   string
	Data     string // the previewed file, base64, sent back to confirm
	Report   *infosys.SystemImport
	Rows     []importPreviewRow
	Done     bool
	Summary  string
	Status   string
}

func (s *Server) mayImportSystems(w http.ResponseWriter, r *http.Request) bool {
	wh := whoFrom(r)
	if err := policy.Check(wh.Actor, policy.InfosysWrite, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPAmber}); err != nil {
		s.renderError(w, r, err, "")
		return false
	}
	return true
}

func (s *Server) newInfosysImportView(r *http.Request) infosysImportView {
	v := infosysImportView{Base: s.base(r, "infosys.import.title"), MaxRows: infosys.MaxImportRows, MaxMB: infosys.MaxImportBytes >> 20}
	for _, c := range infosys.ImportColumns {
		v.Columns = append(v.Columns, importColDoc{Name: c.Name, Required: c.Required, Help: v.T("infosys.import.col." + c.Name)})
	}
	var sectors []string
	for _, sct := range org.Sectors {
		sectors = append(sectors, string(sct))
	}
	v.Sectors = strings.Join(sectors, ", ")
	return v
}

func (s *Server) handleInfosysImportForm(w http.ResponseWriter, r *http.Request) {
	if !s.mayImportSystems(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysImport, s.newInfosysImportView(r))
}

// handleInfosysImportTemplate sends the XLSX template: the columns with an
// example row, and a sheet explaining each column.
func (s *Server) handleInfosysImportTemplate(w http.ResponseWriter, r *http.Request) {
	if !s.mayImportSystems(w, r) {
		return
	}
	b := s.base(r, "infosys.import.title")
	example := map[string]string{"owner_code": "HNM-BV", "name": b.T("infosys.import.example.name"), "purpose": b.T("infosys.import.example.purpose"),
		"sector": "health", "data_kind": infosys.DataPersonal, "personal_count": "50000", "public_service_level": "2", "users": "1200",
		"addresses": "203.0.113.10", "domains": "his.example.vn", "plan_deployed": "1", "level": "3", "level_approved_on": "15/03/2025"}
	data, err := infosys.InventoryTemplate(b.T("infosys.import.template.sheet"), func(c string) string { return b.T("infosys.import.col." + c) }, example)
	if err != nil {
		s.renderError(w, r, errs.Internal("web: import template", err), "")
		return
	}
	s.sendFile(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "certnet-he-thong-mau.xlsx", data)
}

// handleInfosysImportPreview reads the uploaded file and shows what the
// import would do, row by row, with each refused row's problems; nothing
// is written. The file goes back in the page to be confirmed.
func (s *Server) handleInfosysImportPreview(w http.ResponseWriter, r *http.Request) {
	if !s.mayImportSystems(w, r) {
		return
	}
	v := s.newInfosysImportView(r)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		v.formErrors(errs.Invalid("web: import").Field("file", "infosys.import.err.no_file"))
		s.render(w, r, http.StatusBadRequest, tplInfosysImport, v)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, infosys.MaxImportBytes+1))
	if err != nil {
		s.renderError(w, r, errs.Internal("web: import", err), "")
		return
	}
	v.FileName = path.Base(strings.ReplaceAll(hdr.Filename, `\`, "/"))
	v.Format = importFormat(v.FileName)
	s.runInfosysImport(w, r, &v, data, infosys.ImportOptions{Format: v.Format, DryRun: true})
}

// handleInfosysImportConfirm imports the previewed file: the good rows, in
// one transaction.
func (s *Server) handleInfosysImportConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.mayImportSystems(w, r) {
		return
	}
	v := s.newInfosysImportView(r)
	v.FileName, v.Format = r.PostFormValue("file_name"), r.PostFormValue("format")
	if v.Format != "xlsx" && v.Format != "csv" {
		v.Format = ""
	}
	data, err := base64.StdEncoding.DecodeString(r.PostFormValue("data"))
	if err != nil || len(data) == 0 {
		v.formErrors(errs.Invalid("web: import").Field("file", "infosys.import.err.no_file"))
		s.render(w, r, http.StatusBadRequest, tplInfosysImport, v)
		return
	}
	s.runInfosysImport(w, r, &v, data, infosys.ImportOptions{Format: v.Format, SkipBad: true})
}

func importFormat(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".xlsx":
		return "xlsx"
	case ".csv", ".txt":
		return "csv"
	}
	return ""
}

func (s *Server) runInfosysImport(w http.ResponseWriter, r *http.Request, v *infosysImportView, data []byte, opt infosys.ImportOptions) {
	svc, err := s.infosysSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	rep, err := svc.ImportSystems(r.Context(), whoFrom(r).Actor, bytes.NewReader(data), opt)
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplInfosysImport, v)
		return
	}
	v.Report = &rep
	for _, it := range rep.Items {
		row := importPreviewRow{Line: it.Line, Owner: it.OwnerCode, Name: it.Name, Level: it.Level, Action: v.T("infosys.import.action." + it.Action),
			Status: "status-ok"}
		if it.DataKind != "" {
			row.DataKind = v.T("infosys.data." + it.DataKind)
		}
		for _, p := range it.Problems {
			col := p.Column // a letter for a column without a header
			for _, c := range infosys.ImportColumns {
				if c.Name == p.Column {
					col = v.T("infosys.import.colname." + c.Name)
				}
			}
			row.Problems = append(row.Problems, v.T("infosys.import.problem", col, v.T(p.Key, p.Args...)))
			row.Status = "status-bad"
		}
		v.Rows = append(v.Rows, row)
	}
	good := rep.Created + rep.Updated
	switch {
	case opt.DryRun && rep.Skipped == 0:
		v.Summary, v.Status = v.T("infosys.import.sum.preview_ok", rep.Rows, rep.Created, rep.Updated), "status-ok"
	case opt.DryRun:
		v.Summary, v.Status = v.T("infosys.import.sum.preview_bad", rep.Rows, good, rep.Skipped), "status-warn"
	default:
		v.Done = true
		v.Summary, v.Status = v.T("infosys.import.sum.done", rep.Created, rep.Updated, rep.Skipped), "status-ok"
	}
	if opt.DryRun && good > 0 {
		v.Data = base64.StdEncoding.EncodeToString(data)
	}
	s.render(w, r, http.StatusOK, tplInfosysImport, v)
}

// ---- Holidays ----

type infosysHolidaysView struct {
	Base
	Year     int
	Years    []int
	Holidays []infosys.Holiday
	CanEdit  bool
	Day      string
	Name     string
}

func (s *Server) infosysHolidaysView(r *http.Request) (infosysHolidaysView, error) {
	v := infosysHolidaysView{Base: s.base(r, "infosys.holidays.title")}
	svc, err := s.infosysSvc()
	if err != nil {
		return v, err
	}
	v.Year = s.Now().In(infosys.Local).Year()
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 2000 && y <= 2100 {
		v.Year = y
	}
	for y := v.Year - 1; y <= v.Year+1; y++ {
		v.Years = append(v.Years, y)
	}
	a := whoFrom(r).Actor
	if v.Holidays, err = svc.Holidays(r.Context(), a, v.Year); err != nil {
		return v, err
	}
	v.CanEdit = infosys.MayEditHolidays(a)
	return v, nil
}

func (s *Server) handleInfosysHolidays(w http.ResponseWriter, r *http.Request) {
	v, err := s.infosysHolidaysView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplInfosysHolidays, v)
}

func (s *Server) handleInfosysHolidayAdd(w http.ResponseWriter, r *http.Request) {
	svc, err := s.infosysSvc()
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	h := infosys.Holiday{Day: strings.TrimSpace(r.PostFormValue("day")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	err = svc.SetHoliday(r.Context(), whoFrom(r).Actor, h)
	if err == nil {
		year := h.Day
		if len(year) >= 4 {
			year = year[:4]
		}
		s.redirect(w, r, "/infosys/holidays?year="+year, "infosys.flash.saved")
		return
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.infosysHolidaysView(r)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.Day, v.Name = h.Day, h.Name
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplInfosysHolidays, v)
}

func (s *Server) handleInfosysHolidayDelete(w http.ResponseWriter, r *http.Request) {
	svc, err := s.infosysSvc()
	if err == nil {
		err = svc.DeleteHoliday(r.Context(), whoFrom(r).Actor, r.PathValue("day"))
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	year := r.PathValue("day")
	if _, perr := time.Parse(time.DateOnly, year); perr == nil {
		year = year[:4]
	}
	s.redirect(w, r, "/infosys/holidays?year="+year, "infosys.flash.saved")
}
