package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/ingest/decode"
	"certnet/internal/obs"
)

// Handler returns the ingest endpoint, POST /ingest/v1/events, for the
// application to mount beside /api/.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ingest/v1/events", s.handleEvents)
	mux.HandleFunc("/ingest/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "not_found", "error.not_found")
	})
	return mux
}

// Stable error codes of the endpoint, for machines; the message beside
// each is for people, in their language.
const (
	CodeToken       = "unauthenticated"
	CodeKey         = "idempotency_key"
	CodeFormat      = "unsupported_format"
	CodeEncoding    = "unsupported_encoding"
	CodeTooLarge    = "too_large"
	CodeQuota       = "quota_exceeded"
	CodeBody        = "bad_body"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
)

// ErrorBody is the JSON error answer.
type ErrorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id,omitempty"`
	} `json:"error"`
}

func lang(r *http.Request) i18n.Lang {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	return i18n.Parse(first)
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, status int, code, key string, args ...any) {
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = i18n.T(lang(r), key, args...)
	body.Error.RequestID = obs.RequestID(r.Context())
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

var gzPool sync.Pool

// errTooLarge is a body over the batch limit, compressed or not.
var errTooLarge = errors.New("ingest: body too large")

// readBody reads the (decompressed) body into buf, never more than max
// bytes: a larger body, or a gzip stream that inflates past max, is
// errTooLarge before it is held in memory.
func readBody(r *http.Request, buf []byte, max int64) ([]byte, error) {
	var src io.Reader = r.Body
	if enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc == "gzip" || enc == "x-gzip" {
		zr, _ := gzPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r.Body)
		} else {
			err = zr.Reset(r.Body)
		}
		if err != nil {
			return buf, errBadGzip
		}
		defer gzPool.Put(zr)
		src = zr
	}
	b := bytes.NewBuffer(buf[:0])
	n, err := b.ReadFrom(io.LimitReader(src, max+1))
	if n > max {
		return b.Bytes(), errTooLarge
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return b.Bytes(), errTooLarge
		}
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return b.Bytes(), errBadGzip
		}
		return b.Bytes(), err
	}
	return b.Bytes(), nil
}

var errBadGzip = errors.New("ingest: bad gzip body")

// formatOf reads the format from X-Certnet-Format, then the Content-Type;
// ok is false for a format named but unknown. "" means detect.
func formatOf(r *http.Request) (decode.Format, string, bool) {
	if h := r.Header.Get("X-Certnet-Format"); h != "" {
		f, ok := decode.ParseFormat(h)
		return f, h, ok
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", "", true
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", ct, false
	}
	if p := params["format"]; p != "" {
		f, ok := decode.ParseFormat(p)
		return f, p, ok
	}
	switch mt {
	case "application/stix+json":
		return decode.STIX, "", true
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/json", "application/jsonlines",
		"text/plain", "application/octet-stream":
		return "", "", true
	}
	return "", mt, false
}

func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tok := ""
	if scheme, v, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(v)
	}
	if tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="certnet-ingest"`)
		s.fail(w, r, http.StatusUnauthorized, CodeToken, "ingest.err.no_token")
		return
	}
	src, err := s.Authenticate(ctx, tok)
	if err != nil {
		if errs.Is(err, errs.KindUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="certnet-ingest", error="invalid_token"`)
			e, _ := errs.As(err)
			s.fail(w, r, http.StatusUnauthorized, CodeToken, e.Message.Key)
			return
		}
		s.internal(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if !ValidKey(key) {
		s.fail(w, r, http.StatusBadRequest, CodeKey, "ingest.err.key")
		return
	}
	if prev, ok, err := s.Replay(ctx, src.ID, key); err != nil {
		s.internal(w, r, err)
		return
	} else if ok {
		s.answer(w, r, prev, true)
		return
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity", "gzip", "x-gzip":
	default:
		s.fail(w, r, http.StatusUnsupportedMediaType, CodeEncoding, "ingest.err.encoding", enc)
		return
	}
	f, named, ok := formatOf(r)
	if !ok {
		s.fail(w, r, http.StatusUnsupportedMediaType, CodeFormat, "ingest.err.format", named)
		return
	}
	max := s.MaxBatch
	if r.ContentLength > max {
		s.fail(w, r, http.StatusRequestEntityTooLarge, CodeTooLarge, "ingest.err.too_large", max)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	body, err := readBody(r, *bp, max)
	if cap(body) <= 256<<20 {
		*bp = body[:0]
	}
	switch {
	case errors.Is(err, errTooLarge):
		s.fail(w, r, http.StatusRequestEntityTooLarge, CodeTooLarge, "ingest.err.too_large", max)
		return
	case errors.Is(err, errBadGzip):
		s.fail(w, r, http.StatusBadRequest, CodeBody, "ingest.err.gzip")
		return
	case err != nil:
		s.fail(w, r, http.StatusBadRequest, CodeBody, "ingest.err.read")
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.fail(w, r, http.StatusBadRequest, CodeBody, "ingest.err.empty")
		return
	}
	if f == "" {
		if f = decode.Detect(body); f == "" {
			s.fail(w, r, http.StatusUnsupportedMediaType, CodeFormat, "ingest.err.detect")
			return
		}
	}
	ep := eventPool.Get().(*[]decode.Event)
	defer eventPool.Put(ep)
	evs, lineErrs, err := decode.Decode(f, body, (*ep)[:0])
	*ep = evs[:0]
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, CodeBody, "ingest.err.unusable", string(f))
		return
	}
	if len(evs) > s.MaxEvents {
		s.fail(w, r, http.StatusRequestEntityTooLarge, CodeTooLarge, "ingest.err.too_many", s.MaxEvents)
		return
	}
	ans, replayed, err := s.Accept(ctx, Batch{Source: src, Key: key, Format: f, Events: evs, Errors: lineErrs, Bytes: len(body)})
	if err != nil {
		var qe *QuotaError
		switch {
		case errors.As(err, &qe):
			w.Header().Set("Retry-After", strconv.Itoa(int(qe.Retry/time.Second)+1))
			s.fail(w, r, http.StatusTooManyRequests, CodeQuota, "ingest.err.quota_used", src.Quota)
		case errors.Is(err, ErrUnavailable):
			w.Header().Set("Retry-After", "30")
			s.fail(w, r, http.StatusServiceUnavailable, CodeUnavailable, "ingest.err.unavailable")
		case errs.Is(err, errs.KindTooLarge):
			e, _ := errs.As(err)
			key := "ingest.err.too_large"
			args := []any{max}
			if e != nil && e.Message.Key != "error.too_large" {
				key, args = e.Message.Key, e.Message.Args
			}
			s.fail(w, r, http.StatusRequestEntityTooLarge, CodeTooLarge, key, args...)
		default:
			s.internal(w, r, err)
		}
		return
	}
	s.answer(w, r, ans, replayed)
}

var eventPool = sync.Pool{New: func() any { e := make([]decode.Event, 0, 1024); return &e }}

// answer writes a batch's answer, the per-line messages in the caller's
// language (the codes stay as they are).
func (s *Service) answer(w http.ResponseWriter, r *http.Request, ans Answer, replayed bool) {
	l := lang(r)
	out := ans
	out.Errors = make([]decode.LineError, len(ans.Errors))
	for i, e := range ans.Errors {
		out.Errors[i] = e
		if k := "ingest.line." + e.Code; i18n.Has(l, k) {
			out.Errors[i].Message = i18n.T(l, k, e.Message)
		}
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Service) internal(w http.ResponseWriter, r *http.Request, err error) {
	rid := obs.RequestID(r.Context())
	s.Log.Error("ingest: internal error", "err", err, "request_id", rid)
	s.fail(w, r, http.StatusInternalServerError, CodeInternal, "error.internal", rid)
}
