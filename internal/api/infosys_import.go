package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/infosys"
	"certnet/internal/policy"
)

// Information systems, second part (issue 6): the inventory import (with
// its dry run), a system's level history, attachments, holidays.

func init() {
	register([]Route{
		{"POST", "/api/v1/infosys/systems/import"},
		{"GET", "/api/v1/infosys/systems/{sid}/history"},
		{"GET", "/api/v1/infosys/systems/{sid}/attachments"},
		{"POST", "/api/v1/infosys/systems/{sid}/attachments"},
		{"GET", "/api/v1/infosys/attachments/{aid}"},
		{"GET", "/api/v1/infosys/holidays"},
		{"PUT", "/api/v1/infosys/holidays/{day}"},
		{"DELETE", "/api/v1/infosys/holidays/{day}"},
	}, func(s *Server) map[string]http.HandlerFunc {
		h := &infosysAPI{s: s, svc: s.Infosys}
		return map[string]http.HandlerFunc{
			"POST /api/v1/infosys/systems/import":            s.rawBody(s.authed(h.importSystems)),
			"GET /api/v1/infosys/systems/{sid}/history":      s.authed(h.history),
			"GET /api/v1/infosys/systems/{sid}/attachments":  s.authed(h.attachments),
			"POST /api/v1/infosys/systems/{sid}/attachments": s.rawBody(s.authed(h.attach)),
			"GET /api/v1/infosys/attachments/{aid}":          h.download,
			"GET /api/v1/infosys/holidays":                   s.authed(h.holidays),
			"PUT /api/v1/infosys/holidays/{day}":             s.authed(h.putHoliday),
			"DELETE /api/v1/infosys/holidays/{day}":          s.authed(h.deleteHoliday),
		}
	})
}

// rawReader is the request's body before the JSON size limit (uploads
// carry their own).
func rawReader(r *http.Request) io.Reader {
	if raw, ok := r.Context().Value(rawBodyKey{}).(io.ReadCloser); ok && raw != nil {
		return raw
	}
	return r.Body
}

// importSystems takes the inventory file (XLSX or CSV) as the body:
// format=xlsx|csv (guessed when absent), dry_run=1 to check only,
// skip_bad=1 to import the good rows when some are refused.
func (h *infosysAPI) importSystems(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	opt := infosys.ImportOptions{Format: q.Get("format"), DryRun: q.Get("dry_run") == "1" || q.Get("dry_run") == "true",
		SkipBad: q.Get("skip_bad") == "1" || q.Get("skip_bad") == "true"}
	if opt.Format != "" && opt.Format != "csv" && opt.Format != "xlsx" {
		return nil, 0, errs.Invalid("api: import systems").Field("format", "field.invalid_choice")
	}
	body := http.MaxBytesReader(w, io.NopCloser(rawReader(r)), infosys.MaxImportBytes+1)
	rep, err := svc.ImportSystems(r.Context(), a, body, opt)
	lng := lang(r)
	for i := range rep.Problems {
		rep.Problems[i].Message = i18n.T(lng, rep.Problems[i].Key, rep.Problems[i].Args...)
	}
	for i := range rep.Items {
		for j := range rep.Items[i].Problems {
			p := &rep.Items[i].Problems[j]
			p.Message = i18n.T(lng, p.Key, p.Args...)
		}
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid && len(rep.Items) > 0 {
			// Refused for its rows: the report says which.
			return importRefused{Error: i18n.T(lng, e.Fields["file"].Key, e.Fields["file"].Args...), Report: rep},
				http.StatusUnprocessableEntity, nil
		}
		return nil, 0, err
	}
	status := http.StatusOK
	if !opt.DryRun && rep.Created > 0 {
		status = http.StatusCreated
	}
	return rep, status, nil
}

type importRefused struct {
	Error  string               `json:"error"`
	Report infosys.SystemImport `json:"report"`
}

type historyOut struct {
	Items   []infosys.HistoryEntry `json:"items"`
	Reclass bool                   `json:"reclassification_due"`
}

func (h *infosysAPI) history(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	items, reclass, err := svc.LevelHistory(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	if items == nil {
		items = []infosys.HistoryEntry{}
	}
	return historyOut{Items: items, Reclass: reclass}, http.StatusOK, nil
}

func (h *infosysAPI) attachments(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	var did int64
	if d := r.URL.Query().Get("dossier_id"); d != "" {
		if did, err = strconv.ParseInt(d, 10, 64); err != nil {
			return nil, 0, errs.Invalid("api: attachments").Field("dossier_id", "field.invalid_choice")
		}
	}
	xs, err := svc.Attachments(r.Context(), a, id, did)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": xs}, http.StatusOK, nil
}

// attach takes the file as the raw body; name, kind, dossier_id and note
// are query parameters.
func (h *infosysAPI) attach(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, id, err := h.target(r, "sid")
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	in := infosys.AttachmentInput{Name: q.Get("name"), Kind: q.Get("kind"), Note: q.Get("note"),
		Body: http.MaxBytesReader(w, io.NopCloser(rawReader(r)), infosys.MaxAttachment+1)}
	if d := q.Get("dossier_id"); d != "" {
		if in.DossierID, err = strconv.ParseInt(d, 10, 64); err != nil {
			return nil, 0, errs.Invalid("api: attach").Field("dossier_id", "field.invalid_choice")
		}
	}
	x, err := svc.Attach(r.Context(), a, id, in)
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/infosys/attachments/%d", x.ID))
	return x, http.StatusCreated, nil
}

// download sends an attachment as bytes (never for inline display), as
// incident evidence is sent.
func (h *infosysAPI) download(w http.ResponseWriter, r *http.Request) {
	a, ok := h.s.authenticate(w, r)
	if !ok {
		return
	}
	svc, err := h.service()
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	id, err := pathID(r, "aid")
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	x, data, err := svc.OpenAttachment(r.Context(), a, id)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	if err := incident.ServeFile(w, x.Evidence(), bytes.NewReader(data)); err != nil && !errors.Is(err, incident.ErrCorrupt) {
		h.s.Log.Warn("api: attachment download cut short", "attachment", x.ID, "err", err)
	}
}

func (h *infosysAPI) holidays(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	year := 0
	if y := r.URL.Query().Get("year"); y != "" {
		if year, err = strconv.Atoi(y); err != nil {
			return nil, 0, errs.Invalid("api: holidays").Field("year", "infosys.err.date")
		}
	}
	xs, err := svc.Holidays(r.Context(), a, year)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": xs}, http.StatusOK, nil
}

type holidayBody struct {
	Name string `json:"name"`
}

func (h *infosysAPI) putHoliday(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	var in holidayBody
	if err := decode(r, &in); err != nil {
		return nil, 0, err
	}
	hd := infosys.Holiday{Day: r.PathValue("day"), Name: in.Name}
	if err := svc.SetHoliday(r.Context(), a, hd); err != nil {
		return nil, 0, err
	}
	return hd, http.StatusOK, nil
}

func (h *infosysAPI) deleteHoliday(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	svc, err := h.service()
	if err != nil {
		return nil, 0, err
	}
	if err := svc.DeleteHoliday(r.Context(), a, r.PathValue("day")); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}
