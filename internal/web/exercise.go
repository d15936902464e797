package web

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/exercise"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

const (
	tplExercises      = "exercise_list.html"
	tplExercise       = "exercise_detail.html"
	tplExerciseReport = "exercise_report.html"
)

type exercisesView struct {
	Base
	Drill     drillRow
	Exercises []exercise.Exercise
	CanRun    bool
}

type injectRow struct {
	exercise.Inject
	Target string
	Ref    string
}

type injectForm struct {
	Offset, Kind, Target, Title, Description, Type, Severity string
}

type noteForm struct{ Kind, Body, Owner, DueOn string }

type exerciseView struct {
	Base
	Exercise exercise.Exercise
	Drill    drillRow
	Injects  []injectRow
	Report   exercise.Report
	Teams    []teamRow
	Timeline []stepRow
	CanRun   bool
	Targets  []option
	Types    []option
	Sevs     []option
	Kinds    []option
	Form     injectForm
	Note     noteForm
}

type teamRow struct {
	exercise.Team
	Name  string
	Times map[string]string
}

type stepRow struct {
	exercise.Step
	Org string
	Ref string
}

func (s *Server) handleExercises(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "did")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	d, err := s.Readiness.Drill(r.Context(), a, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	xs, err := s.Exercise.List(r.Context(), a, d.ID)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := exercisesView{Base: s.base(r, "exercise.list.title"), Drill: s.drillRow(s.orgNamer(r), d), Exercises: xs,
		CanRun: policy.Allowed(a, policy.ExerciseRun, readiness.Resource(d.OrgID))}
	s.render(w, r, http.StatusOK, tplExercises, v)
}

func (s *Server) handleExerciseCreate(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "did")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	x, err := s.Exercise.Create(r.Context(), whoFrom(r).Actor, id, r.PostFormValue("title"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/exercises/%d", x.ID), "exercise.flash.created")
}

func (s *Server) exerciseView(r *http.Request, title string) (exerciseView, error) {
	id, err := intParam(r, "xid")
	if err != nil {
		return exerciseView{}, err
	}
	a := whoFrom(r).Actor
	rep, err := s.Exercise.Report(r.Context(), a, id)
	if err != nil {
		return exerciseView{}, err
	}
	v := exerciseView{Base: s.base(r, title), Exercise: rep.Exercise, Report: rep,
		CanRun: policy.Allowed(a, policy.ExerciseRun, readiness.Resource(rep.Exercise.OrgID))}
	v.Title = rep.Exercise.Title
	if d, err := s.Readiness.Drill(r.Context(), a, rep.Exercise.DrillID); err == nil {
		v.Drill = s.drillRow(s.orgNamer(r), d)
	}
	names := s.orgNamer(r)
	refs := map[int64]string{}
	for _, in := range rep.Injects {
		if in.IncidentID != 0 {
			if inc, err := s.Incidents.Get(r.Context(), a, strconv.FormatInt(in.IncidentID, 10)); err == nil {
				refs[in.IncidentID] = inc.Ref
			}
		}
		v.Injects = append(v.Injects, injectRow{Inject: in, Target: names.label(in.TargetOrgID), Ref: refs[in.IncidentID]})
	}
	for _, t := range rep.Teams {
		row := teamRow{Team: t, Name: names.label(t.OrgID), Times: map[string]string{}}
		for _, m := range exercise.Measures {
			if t.Missed[m] > 0 && t.Total[m] == 0 {
				row.Times[m] = v.T("exercise.missed")
				continue
			}
			row.Times[m] = t.Total[m].Round(time.Second).String()
			if t.Missed[m] > 0 {
				row.Times[m] += " " + v.T("exercise.missed_n", t.Missed[m])
			}
		}
		v.Teams = append(v.Teams, row)
	}
	for _, st := range rep.Timeline {
		v.Timeline = append(v.Timeline, stepRow{Step: st, Org: names.label(st.OrgID), Ref: refs[st.IncidentID]})
	}
	for _, p := range rep.Exercise.Participants {
		v.Targets = append(v.Targets, option{Value: itoa(p), Label: names.label(p)})
	}
	var types []string
	for _, t := range incident.Types {
		types = append(types, string(t))
	}
	var sevs []string
	for _, x := range incident.Severities {
		sevs = append(sevs, string(x))
	}
	v.Types, v.Sevs = v.choices("incident.type.", types), v.choices("incident.severity.", sevs)
	v.Kinds = v.choices("exercise.kind.", exercise.Kinds)
	v.Form = injectForm{Offset: "0", Kind: exercise.KindIncident, Title: v.Drill.Title, Description: v.Drill.Scenario, Type: scenarioType(v.Drill.Scenario + " " + v.Drill.Title),
		Severity: string(incident.SeverityHigh)}
	v.Note = noteForm{Kind: exercise.NoteLesson}
	return v, nil
}

// scenarioType guesses the incident type from the drill's scenario text
// (the inject form's default; the organiser may change it).
func scenarioType(text string) string {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "tống tiền") || strings.Contains(t, "ransomware"):
		return string(incident.TypeRansomware)
	case strings.Contains(t, "ddos") || strings.Contains(t, "từ chối dịch vụ"):
		return string(incident.TypeDDoS)
	case strings.Contains(t, "giao diện") || strings.Contains(t, "deface"):
		return string(incident.TypeDefacement)
	case strings.Contains(t, "lừa đảo") || strings.Contains(t, "phishing"):
		return string(incident.TypePhishing)
	}
	return string(incident.TypeMalware)
}

func (s *Server) handleExercise(w http.ResponseWriter, r *http.Request) {
	v, err := s.exerciseView(r, "exercise.title")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplExercise, v)
}

func (s *Server) handleExerciseReport(w http.ResponseWriter, r *http.Request) {
	v, err := s.exerciseView(r, "exercise.report.title")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplExerciseReport, v)
}

// exerciseForm runs do; a refusal a form can show re-renders the page with
// it, anything else is an error page.
func (s *Server) exerciseForm(w http.ResponseWriter, r *http.Request, flash string, do func(id int64) error, keep func(v *exerciseView)) {
	id, err := intParam(r, "xid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if err = do(id); err == nil {
		s.redirect(w, r, fmt.Sprintf("/exercises/%d", id), flash)
		return
	}
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.exerciseView(r, "exercise.title")
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	if keep != nil {
		keep(&v)
	}
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplExercise, v)
}

func (s *Server) handleExerciseInject(w http.ResponseWriter, r *http.Request) {
	f := injectForm{Offset: r.PostFormValue("offset_minutes"), Kind: cmp.Or(r.PostFormValue("kind"), exercise.KindIncident),
		Target: r.PostFormValue("target_org_id"), Title: r.PostFormValue("title"),
		Description: r.PostFormValue("description"), Type: r.PostFormValue("type"), Severity: r.PostFormValue("severity")}
	s.exerciseForm(w, r, "exercise.flash.inject", func(id int64) error {
		bad := errs.Invalid("web: inject")
		off, err := strconv.Atoi(strings.TrimSpace(f.Offset))
		if err != nil {
			bad.Field("offset_minutes", "field.invalid")
		}
		target, err := strconv.ParseInt(strings.TrimSpace(f.Target), 10, 64)
		if err != nil {
			bad.Field("target_org_id", "field.invalid")
		}
		if err := bad.OrNil(); err != nil {
			// Who may not run the exercise is refused as such first.
			if _, _, gerr := s.Exercise.Get(r.Context(), whoFrom(r).Actor, id); gerr != nil {
				return gerr
			}
			return err
		}
		_, err = s.Exercise.AddInject(r.Context(), whoFrom(r).Actor, id, exercise.InjectInput{Offset: off, Kind: f.Kind,
			TargetOrgID: target, Title: f.Title, Description: f.Description, Type: f.Type, Severity: f.Severity})
		return err
	}, func(v *exerciseView) { v.Form = f })
}

func (s *Server) handleExerciseStart(w http.ResponseWriter, r *http.Request) {
	s.exerciseForm(w, r, "exercise.flash.started", func(id int64) error {
		_, err := s.Exercise.Start(r.Context(), whoFrom(r).Actor, id)
		return err
	}, nil)
}

func (s *Server) handleExerciseStop(w http.ResponseWriter, r *http.Request) {
	s.exerciseForm(w, r, "exercise.flash.stopped", func(id int64) error {
		_, err := s.Exercise.Stop(r.Context(), whoFrom(r).Actor, id)
		return err
	}, nil)
}

func (s *Server) handleExerciseNote(w http.ResponseWriter, r *http.Request) {
	f := noteForm{Kind: r.PostFormValue("kind"), Body: r.PostFormValue("body"), Owner: r.PostFormValue("owner"), DueOn: r.PostFormValue("due_on")}
	s.exerciseForm(w, r, "exercise.flash.note", func(id int64) error {
		var due time.Time
		if strings.TrimSpace(f.DueOn) != "" {
			d, err := time.Parse(time.DateOnly, strings.TrimSpace(f.DueOn))
			if err != nil {
				if _, _, gerr := s.Exercise.Get(r.Context(), whoFrom(r).Actor, id); gerr != nil {
					return gerr
				}
				return errs.Invalid("web: note").Field("due_on", "field.invalid")
			}
			due = d
		}
		_, err := s.Exercise.AddNote(r.Context(), whoFrom(r).Actor, id, f.Kind, f.Body, f.Owner, due)
		return err
	}, func(v *exerciseView) { v.Note = f })
}

// StepText names a timeline step: its catalogue entry, or the event's kind.
func (v exerciseView) StepText(kind string) string {
	if i18n.Has(v.Lang, "exercise.step."+kind) {
		return v.T("exercise.step." + kind)
	}
	return kind
}
