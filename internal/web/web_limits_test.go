package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A form body past the configured limit is refused with 413 and changes
// nothing.
func TestFormBodyLimit(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)
	before := n.count(t)
	p := b.post("/orgs", url.Values{"code": {"BIG-1"}, "name": {"Quá lớn"}, "address": {strings.Repeat("x", 2<<20)}})
	if p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MB form: status %d, want 413", p.Status)
	}
	if n.count(t) != before {
		t.Fatal("an oversize form changed the registry")
	}
	// The login form too.
	b2 := newOrgBrowser(t, n.e)
	b2.get("/login")
	p = b2.post("/login", url.Values{"username": {"quantri"}, "password": {strings.Repeat("p", 2<<20)}})
	if p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MB login form: status %d, want 413", p.Status)
	}
}
