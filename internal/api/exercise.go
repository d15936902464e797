package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/exercise"
	"certnet/internal/policy"
)

// Exercises (issue 7): drills run on certnet, their injects, start and
// stop, lessons and open actions, the after-action report.

func init() {
	register([]Route{
		{"GET", "/api/v1/readiness/drills/{did}/exercises"},
		{"POST", "/api/v1/readiness/drills/{did}/exercises"},
		{"GET", "/api/v1/exercises/{xid}"},
		{"POST", "/api/v1/exercises/{xid}/injects"},
		{"POST", "/api/v1/exercises/{xid}/start"},
		{"POST", "/api/v1/exercises/{xid}/stop"},
		{"POST", "/api/v1/exercises/{xid}/notes"},
		{"GET", "/api/v1/exercises/{xid}/report"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/readiness/drills/{did}/exercises":  s.authed(s.listExercises),
			"POST /api/v1/readiness/drills/{did}/exercises": s.authed(s.createExercise),
			"GET /api/v1/exercises/{xid}":                   s.authed(s.getExercise),
			"POST /api/v1/exercises/{xid}/injects":          s.authed(s.addInject),
			"POST /api/v1/exercises/{xid}/start":            s.authed(s.startExercise),
			"POST /api/v1/exercises/{xid}/stop":             s.authed(s.stopExercise),
			"POST /api/v1/exercises/{xid}/notes":            s.authed(s.addExerciseNote),
			"GET /api/v1/exercises/{xid}/report":            s.authed(s.exerciseReport),
		}
	})
}

func (s *Server) listExercises(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "did")
	if err != nil {
		return nil, 0, err
	}
	d, err := s.Readiness.Drill(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	xs, err := s.Exercise.List(r.Context(), a, d.ID)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"items": xs}, http.StatusOK, nil
}

func (s *Server) createExercise(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "did")
	if err != nil {
		return nil, 0, err
	}
	var b struct {
		Title string `json:"title"`
	}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	x, err := s.Exercise.Create(r.Context(), a, id, b.Title)
	if err != nil {
		return nil, 0, err
	}
	return x, http.StatusCreated, nil
}

func (s *Server) getExercise(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "xid")
	if err != nil {
		return nil, 0, err
	}
	x, injs, err := s.Exercise.Get(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"exercise": x, "injects": injs}, http.StatusOK, nil
}

func (s *Server) addInject(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "xid")
	if err != nil {
		return nil, 0, err
	}
	var b struct {
		Offset      int    `json:"offset_minutes"`
		Kind        string `json:"kind"`
		TargetOrgID int64  `json:"target_org_id"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Type        string `json:"type"`
		Severity    string `json:"severity"`
	}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in, err := s.Exercise.AddInject(r.Context(), a, id, exercise.InjectInput{Offset: b.Offset, Kind: b.Kind, TargetOrgID: b.TargetOrgID,
		Title: b.Title, Description: b.Description, Type: b.Type, Severity: b.Severity})
	if err != nil {
		return nil, 0, err
	}
	return in, http.StatusCreated, nil
}

func (s *Server) startExercise(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return s.moveExercise(r, a, s.Exercise.Start)
}

func (s *Server) stopExercise(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return s.moveExercise(r, a, s.Exercise.Stop)
}

func (s *Server) moveExercise(r *http.Request, a policy.Actor, fn func(ctx context.Context, a policy.Actor, id int64) (exercise.Exercise, error)) (any, int, error) {
	id, err := pathID(r, "xid")
	if err != nil {
		return nil, 0, err
	}
	x, err := fn(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return x, http.StatusOK, nil
}

func (s *Server) addExerciseNote(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "xid")
	if err != nil {
		return nil, 0, err
	}
	var b struct {
		Kind  string `json:"kind"`
		Body  string `json:"body"`
		Owner string `json:"owner"`
		DueOn string `json:"due_on"`
	}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	var due time.Time
	if d := strings.TrimSpace(b.DueOn); d != "" {
		if due, err = time.Parse(time.DateOnly, d); err != nil {
			// Who may not read the exercise is not told about dates.
			if _, _, gerr := s.Exercise.Get(r.Context(), a, id); gerr != nil {
				return nil, 0, gerr
			}
			return nil, 0, errs.Invalid("api: exercise note").Field("due_on", "field.invalid")
		}
	}
	n, err := s.Exercise.AddNote(r.Context(), a, id, b.Kind, b.Body, b.Owner, due)
	if err != nil {
		return nil, 0, err
	}
	return n, http.StatusCreated, nil
}

func (s *Server) exerciseReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "xid")
	if err != nil {
		return nil, 0, err
	}
	rep, err := s.Exercise.Report(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusOK, nil
}
