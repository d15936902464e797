package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"certnet/internal/errs"
)

// The strict decoder meets whatever a client sends: it never panics, and
// it either fills the value or answers an error of a kind the transport
// maps to 400 or 413.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"code":"HNI-RU","name":"Sở KH&CN Hà Nội","roles":["provincial_response_unit"]}`))
	f.Add([]byte(`{"code":1}`))
	f.Add([]byte(`{"nope":true}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`[`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/orgs", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		var b orgBody
		err := decode(r, &b)
		if err == nil {
			return
		}
		switch errs.KindOf(err) {
		case errs.KindInvalid, errs.KindTooLarge:
		default:
			t.Fatalf("decode(%q): unexpected error kind %v: %v", body, errs.KindOf(err), err)
		}
	})
}
