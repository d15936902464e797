package web

import (
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// maxUpload bounds the body of an import upload.
const maxUpload = 20 << 20

// importKinds are the kinds of file the registry imports, in display order.
var importKinds = []string{org.ImportOrgs, org.ImportContacts, org.ImportRanges}

// importColumn is one column of an import file with what it holds.
type importColumn struct {
	Name string
	Help string
}

// importSpec is the layout of one kind of import file.
type importSpec struct {
	Kind    string
	Label   string
	Columns []importColumn
	Open    bool
}

// importValues are the codes a column accepts, with their meaning.
type importValues struct {
	Column string
	Values []option
}

// importProblem is one line of the error report.
type importProblem struct {
	Row     int
	Field   string
	Message string
}

type importView struct {
	Base
	Kinds    []option
	SkipBad  bool
	DryRun   bool
	Specs    []importSpec
	Codes    []importValues
	Done     bool
	Report   org.ImportReport
	Summary  string
	Status   string // status-ok, status-warn, status-bad
	Problems []importProblem
	FileName string
}

// limitUpload bounds the body of an upload route and reads it before s.page
// does (its CSRF check parses the multipart form), answering 413 itself
// when the body is too large. Bodies of visitors who are not signed in are
// left unread: s.page sends them to the login page.
func (s *Server) limitUpload(n int64, next http.Handler) http.Handler {
	return s.identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !whoFrom(r).LoggedIn {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := r.ContentLength > n
		if !tooLarge {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			err := r.ParseMultipartForm(4 << 20)
			if r.MultipartForm != nil {
				defer r.MultipartForm.RemoveAll()
			}
			var mbe *http.MaxBytesError
			tooLarge = errors.As(err, &mbe)
		}
		if tooLarge {
			s.renderError(w, r, errs.TooLarge("web: upload"), "")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func (s *Server) newImportView(r *http.Request, kind string) importView {
	v := importView{Base: s.base(r, "import.title")}
	if !slices.Contains(importKinds, kind) {
		kind = org.ImportOrgs
	}
	for _, k := range importKinds {
		v.Kinds = append(v.Kinds, option{Value: k, Label: v.T("import.kind." + k), Selected: k == kind})
		spec := importSpec{Kind: k, Label: v.T("import.kind." + k), Open: k == kind}
		for _, c := range org.ImportColumns(k) {
			spec.Columns = append(spec.Columns, importColumn{Name: c, Help: v.T("import.col." + k + "." + c)})
		}
		v.Specs = append(v.Specs, spec)
	}
	roles := importValues{Column: "roles"}
	for _, ro := range org.Roles {
		roles.Values = append(roles.Values, option{Value: string(ro), Label: v.T(ro.LabelKey())})
	}
	sectors := importValues{Column: "sector"}
	for _, se := range org.Sectors {
		sectors.Values = append(sectors.Values, option{Value: string(se), Label: v.T(se.LabelKey())})
	}
	regions := importValues{Column: "region"}
	for _, re := range org.Regions {
		regions.Values = append(regions.Values, option{Value: re, Label: v.T(org.RegionLabelKey(re))})
	}
	kinds := importValues{Column: "kind"}
	for _, k := range org.ContactKinds {
		kinds.Values = append(kinds.Values, option{Value: k, Label: v.T("org.contact_kind." + k)})
	}
	provinces := importValues{Column: "province_code", Values: s.provinceOptions(r, "")}
	clusters := importValues{Column: "cluster_code"}
	if cl, err := s.Orgs.Clusters(r.Context()); err == nil {
		for _, c := range cl {
			clusters.Values = append(clusters.Values, option{Value: c.Code, Label: c.Name})
		}
	}
	v.Codes = []importValues{roles, sectors, regions, provinces, clusters, kinds}
	return v
}

func (s *Server) mayImport(w http.ResponseWriter, r *http.Request) bool {
	wh := whoFrom(r)
	if err := policy.Check(wh.Actor, policy.OrgImport, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPGreen}); err != nil {
		s.renderError(w, r, err, "")
		return false
	}
	return true
}

func (s *Server) handleImportForm(w http.ResponseWriter, r *http.Request) {
	if !s.mayImport(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, tplImport, s.newImportView(r, r.URL.Query().Get("kind")))
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if !s.mayImport(w, r) {
		return
	}
	kind := r.PostFormValue("kind")
	v := s.newImportView(r, kind)
	opt := org.ImportOptions{Kind: kind, SkipBad: r.PostFormValue("skip_bad") != "", DryRun: r.PostFormValue("dry_run") != ""}
	v.SkipBad, v.DryRun = opt.SkipBad, opt.DryRun
	file, hdr, err := r.FormFile("file")
	if err != nil {
		v.formErrors(errs.Invalid("web: import").Field("file", "import.err.no_file"))
		s.render(w, r, http.StatusBadRequest, tplImport, v)
		return
	}
	defer file.Close()
	v.FileName = hdr.Filename
	switch strings.ToLower(path.Ext(hdr.Filename)) {
	case ".xlsx":
		opt.Format = "xlsx"
	case ".csv", ".txt":
		opt.Format = "csv"
	}
	rep, err := s.Orgs.Import(r.Context(), whoFrom(r).Actor, file, opt)
	v.Report = rep
	for _, e := range rep.Errors {
		v.Problems = append(v.Problems, importProblem{Row: e.Row, Field: e.Field, Message: v.T(e.Msg.Key, e.Msg.Args...)})
	}
	switch {
	case err == nil:
		v.Done = true
		v.Summary, v.Status = importSummary(v.Base, opt, rep)
		s.render(w, r, http.StatusOK, tplImport, v)
	case errs.Is(err, errs.KindInvalid), errs.Is(err, errs.KindTooLarge):
		v.formErrors(err)
		s.render(w, r, statusOf[errs.KindOf(err)], tplImport, v)
	default:
		s.renderError(w, r, err, "")
	}
}

// importSummary says in one sentence what the import did.
func importSummary(b Base, opt org.ImportOptions, rep org.ImportReport) (string, string) {
	rows, ok, bad := b.Num(rep.Rows), b.Num(rep.Imported), b.Num(rep.Skipped)
	switch {
	case opt.DryRun && rep.Skipped == 0:
		return b.T("import.sum.dry_ok", rows), "status-ok"
	case opt.DryRun:
		return b.T("import.sum.dry_bad", rows, bad), "status-warn"
	case rep.Skipped > 0 && !opt.SkipBad:
		return b.T("import.sum.none", bad, rows), "status-bad"
	case rep.Skipped > 0:
		return b.T("import.sum.partial", ok, bad), "status-warn"
	}
	return b.T("import.sum.ok", ok), "status-ok"
}
