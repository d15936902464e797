package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
)

// An incident section is an area's part of the incident page (coordination
// orders, evidence, tasks, …). The area registers a builder from its own
// file with addIncidentSection; the builder gets the page's view (the
// incident, the signed-in actor, the language) and returns the name of a
// partial template (defined in templates/_incident_<area>.html) and its
// data, or "" to show nothing. The partial is rendered into the page
// between the observables and the timeline, in registration order.

// incSection is one rendered section.
type incSection struct {
	ID   string
	HTML template.HTML
}

type incSectionFn func(s *Server, r *http.Request, v *incView) (tpl string, data any, err error)

var incSectionFns []struct {
	id string
	fn incSectionFn
}

// addIncidentSection registers an area's section; call it from an init
// function.
func addIncidentSection(id string, fn incSectionFn) {
	incSectionFns = append(incSectionFns, struct {
		id string
		fn incSectionFn
	}{id, fn})
}

// incidentSections renders the registered sections for the page.
func (s *Server) incidentSections(r *http.Request, v *incView) ([]incSection, error) {
	p, ok := s.pages[tplIncident]
	if !ok {
		return nil, fmt.Errorf("web: no incident template")
	}
	var out []incSection
	for _, sec := range incSectionFns {
		tpl, data, err := sec.fn(s, r, v)
		if err != nil {
			return nil, fmt.Errorf("web: incident section %s: %w", sec.id, err)
		}
		if tpl == "" {
			continue
		}
		var buf bytes.Buffer
		if err := p.t.ExecuteTemplate(&buf, tpl, data); err != nil {
			return nil, fmt.Errorf("web: incident section %s: %w", sec.id, err)
		}
		out = append(out, incSection{ID: sec.id, HTML: template.HTML(buf.String())})
	}
	return out, nil
}
