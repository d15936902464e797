package web

import (
	"bytes"
	"net/http"
	"path"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/intel"
)

// advEvidenceLimit is the body limit of an evidence upload: the file's
// limit and room for the form's other fields.
const advEvidenceLimit = intel.MaxAnswerEvidence + 1<<20

// handleAdvisoryEvidenceAdd attaches a file to the actor's organisation's
// answer; a refused file is shown on the advisory page by its field.
func (s *Server) handleAdvisoryEvidenceAdd(w http.ResponseWriter, r *http.Request) {
	s.advisoryAction(w, r, "intel.adv.flash.evidence", func(id int64) error {
		rid, err := intParam(r, "rid")
		if err != nil {
			return errs.NotFound("web: advisory recipient")
		}
		in := intel.AnswerEvidenceInput{Note: r.PostFormValue("evidence_note")}
		if f, hdr, ferr := r.FormFile("file"); ferr == nil {
			defer f.Close()
			in.Name, in.Body = path.Base(strings.ReplaceAll(hdr.Filename, `\`, "/")), f
		}
		_, err = s.Intel.AttachAnswerEvidence(r.Context(), whoFrom(r).Actor, id, rid, in)
		// The answer form has a note of its own: the file's note is shown
		// at its field.
		if e, ok := errs.As(err); ok && e.Has("note") {
			e.Fields["evidence_note"] = e.Fields["note"]
			delete(e.Fields, "note")
		}
		return err
	})
}

// handleAdvisoryEvidenceRemove takes a file off the actor's organisation's
// answer.
func (s *Server) handleAdvisoryEvidenceRemove(w http.ResponseWriter, r *http.Request) {
	s.advisoryAction(w, r, "intel.adv.flash.evidence_removed", func(id int64) error {
		rid, err1 := intParam(r, "rid")
		fid, err2 := intParam(r, "fid")
		if err1 != nil || err2 != nil {
			return errs.NotFound("web: advisory evidence")
		}
		return s.Intel.RemoveAnswerEvidence(r.Context(), whoFrom(r).Actor, id, rid, fid)
	})
}

// handleAdvisoryEvidence downloads a file of an answer: always an
// attachment, never shown inline.
func (s *Server) handleAdvisoryEvidence(w http.ResponseWriter, r *http.Request) {
	id, err1 := intParam(r, "id")
	rid, err2 := intParam(r, "rid")
	fid, err3 := intParam(r, "fid")
	if err1 != nil || err2 != nil || err3 != nil {
		s.renderError(w, r, errs.NotFound("web: advisory evidence"), "")
		return
	}
	x, data, err := s.Intel.OpenAnswerEvidence(r.Context(), whoFrom(r).Actor, id, rid, fid)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	incident.ServeFile(w, x.Evidence(), bytes.NewReader(data))
}
