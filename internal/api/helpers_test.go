package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"certnet/internal/api"
	"certnet/internal/apptest"
	"certnet/internal/audit"
)

// reply is one HTTP answer, read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// errDetail decodes the JSON error body.
func (r reply) errDetail(t testing.TB) api.ErrorDetail {
	t.Helper()
	var b api.ErrorBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, r.Body)
	}
	return b.Error
}

// into decodes the JSON body into v.
func (r reply) into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not the JSON expected (%T): %v\n%s", v, err, r.Body)
	}
}

// call sends one request to the running certnet. A token is sent as a
// Bearer credential; header adds or overrides headers (an empty value
// removes one).
func call(t testing.TB, e *apptest.Env, method, path, token, body string, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := e.Srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{Status: res.StatusCode, Header: res.Header, Body: b}
}

// scenario is one API request and what must come back, in the style of
// PocketBase's tests.ApiScenario.
type scenario struct {
	name       string
	method     string
	path       string
	token      string
	body       string
	header     map[string]string
	wantStatus int
	// wantCode is the error code of an error answer ("" to skip).
	wantCode string
	// wantFields are keys that error.fields must hold.
	wantFields []string
	// wantBody are substrings of the body; notBody must not appear.
	wantBody []string
	notBody  []string
	// unchanged is read before and after the request: the two must be
	// equal (a refused write changes nothing).
	unchanged func(t *testing.T) any
	check     func(t *testing.T, r reply)
}

func runScenarios(t *testing.T, e *apptest.Env, ss []scenario) {
	t.Helper()
	for _, s := range ss {
		t.Run(s.name, func(t *testing.T) {
			var before any
			if s.unchanged != nil {
				before = s.unchanged(t)
			}
			r := call(t, e, s.method, s.path, s.token, s.body, s.header)
			if r.Status != s.wantStatus {
				t.Fatalf("%s %s: status %d, want %d\n%s", s.method, s.path, r.Status, s.wantStatus, r.Body)
			}
			if r.Status >= 400 {
				checkErrorShape(t, r)
				d := r.errDetail(t)
				if s.wantCode != "" && d.Code != s.wantCode {
					t.Errorf("error code %q, want %q", d.Code, s.wantCode)
				}
				for _, f := range s.wantFields {
					if _, ok := d.Fields[f]; !ok {
						t.Errorf("error.fields has no %q: %v", f, d.Fields)
					}
				}
			} else if len(s.wantFields) > 0 || s.wantCode != "" {
				t.Errorf("scenario expects an error body but the status is %d", r.Status)
			}
			for _, w := range s.wantBody {
				if !strings.Contains(string(r.Body), w) {
					t.Errorf("body lacks %q:\n%s", w, r.Body)
				}
			}
			for _, w := range s.notBody {
				if strings.Contains(string(r.Body), w) {
					t.Errorf("body holds %q:\n%s", w, r.Body)
				}
			}
			if s.unchanged != nil {
				if after := s.unchanged(t); !reflect.DeepEqual(before, after) {
					t.Errorf("refused request changed the store: before %v, after %v", before, after)
				}
			}
			if s.check != nil {
				s.check(t, r)
			}
		})
	}
}

// checkErrorShape checks what every error answer must be: JSON of the
// documented shape, with a code, a message and the request id also sent as
// the X-Request-Id header.
func checkErrorShape(t testing.TB, r reply) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatalf("error body is not {\"error\":{…}}: %v\n%s", err, r.Body)
	}
	for k := range raw["error"] {
		switch k {
		case "code", "message", "fields", "request_id":
		default:
			t.Errorf("error body has an undocumented key %q", k)
		}
	}
	d := r.errDetail(t)
	if d.Code == "" || d.Message == "" {
		t.Errorf("error without code or message: %s", r.Body)
	}
	if d.RequestID == "" || d.RequestID != r.Header.Get("X-Request-Id") {
		t.Errorf("error request_id %q, X-Request-Id %q", d.RequestID, r.Header.Get("X-Request-Id"))
	}
}

// count returns the number of rows of a table (a constant of the test).
func count(e *apptest.Env, table string) func(t *testing.T) any {
	return func(t *testing.T) any {
		t.Helper()
		var n int
		if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
}

// counts reads several tables at once.
func counts(e *apptest.Env, tables ...string) func(t *testing.T) any {
	return func(t *testing.T) any {
		t.Helper()
		out := map[string]any{}
		for _, tb := range tables {
			out[tb] = count(e, tb)(t)
		}
		return out
	}
}

// auditClean fails the test when the audit chain does not verify.
func auditClean(t testing.TB, e *apptest.Env) {
	t.Helper()
	res, err := audit.Verify(context.Background(), e.DB, nil)
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	if res.Break != nil {
		t.Fatalf("audit chain broken at %d: %s", res.Break.Seq, res.Break.Reason)
	}
	if res.Checked == 0 {
		t.Errorf("audit log is empty after the writes")
	}
}
