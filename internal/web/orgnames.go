package web

import (
	"context"
	"net/http"

	"certnet/internal/policy"
)

// orgNames names organisations as the actor may see them ("" when hidden).
type orgNames struct {
	s     *Server
	ctx   context.Context
	a     policy.Actor
	cache map[int64]string
}

func (s *Server) orgNamer(r *http.Request) *orgNames {
	return &orgNames{s: s, ctx: r.Context(), a: whoFrom(r).Actor, cache: map[int64]string{}}
}

func (n *orgNames) name(id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.cache[id]; ok {
		return v
	}
	o, err := n.s.Orgs.Get(n.ctx, n.a, id)
	name := ""
	if err == nil {
		name = o.Name
	}
	n.cache[id] = name
	return name
}

// label is the name, or "#id" for an organisation the actor may not read
// (lists of users and audit entries still need to tell rows apart).
func (n *orgNames) label(id int64) string {
	if name := n.name(id); name != "" || id == 0 {
		return name
	}
	return "#" + itoa(id)
}
