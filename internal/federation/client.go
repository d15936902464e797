package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MediaType is the TAXII 2.1 media type.
const MediaType = "application/taxii+json;version=2.1"

// maxResponse bounds what one answer of the parent may weigh.
const maxResponse = 256 << 20

// Client speaks TAXII 2.1 to one API root.
type Client struct {
	Root      string // the API root URL, ending in /
	Kind      string // AuthBearer or AuthBasic
	Username  string
	Secret    string
	HTTP      *http.Client
	Retries   int
	RetryWait time.Duration
}

// RemoteError is a TAXII error answer of the parent.
type RemoteError struct {
	Status      int
	Title       string
	Description string
}

func (e *RemoteError) Error() string {
	msg := fmt.Sprintf("TAXII %d", e.Status)
	if e.Title != "" {
		msg += " " + e.Title
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// retryable: the parent is busy or down, not refusing.
func retryable(err error) bool {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Status >= 500 || re.Status == http.StatusTooManyRequests
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// do sends one request (retrying with a doubling backoff on a network
// error, a 5xx or a 429) and returns the answer's headers and body.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (http.Header, []byte, error) {
	wait := c.RetryWait
	for attempt := 0; ; attempt++ {
		h, b, err := c.once(ctx, method, path, body)
		if err == nil || attempt >= c.Retries || !retryable(err) {
			return h, b, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

func (c *Client) once(ctx context.Context, method, path string, body []byte) (http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Root+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", MediaType)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	switch c.Kind {
	case AuthBasic:
		req.SetBasicAuth(c.Username, c.Secret)
	default:
		req.Header.Set("Authorization", "Bearer "+c.Secret)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		// The URL error names the address, never the credentials.
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxResponse {
		return nil, nil, fmt.Errorf("TAXII answer larger than %d bytes", maxResponse)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		re := &RemoteError{Status: res.StatusCode}
		var e struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		}
		if json.Unmarshal(b, &e) == nil {
			re.Title, re.Description = clip(e.Title, 200), clip(e.Description, 500)
		}
		return nil, nil, re
	}
	return res.Header, b, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Page is one page of a collection's objects.
type Page struct {
	Objects []json.RawMessage
	More    bool
	Next    string
	// AddedFirst and AddedLast are the X-TAXII-Date-Added-First/-Last
	// headers, as the server wrote them.
	AddedFirst string
	AddedLast  string
}

// ParsePage reads a TAXII envelope.
func ParsePage(b []byte) (Page, error) {
	var env struct {
		More    *bool             `json:"more"`
		Next    *string           `json:"next"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return Page{}, fmt.Errorf("TAXII envelope: %w", err)
	}
	p := Page{Objects: env.Objects}
	if env.More != nil {
		p.More = *env.More
	}
	if env.Next != nil {
		p.Next = *env.Next
	}
	if p.More && p.Next == "" {
		return Page{}, errors.New("TAXII envelope: more without next")
	}
	for i, o := range p.Objects {
		if len(o) == 0 || o[0] != '{' {
			return Page{}, fmt.Errorf("TAXII envelope: object %d is not a JSON object", i)
		}
	}
	return p, nil
}

// Objects gets one page of a collection: added after addedAfter (when
// not empty), continuing from next (when not empty).
func (c *Client) Objects(ctx context.Context, collection, addedAfter, next string, limit int) (Page, error) {
	q := url.Values{}
	if addedAfter != "" {
		q.Set("added_after", addedAfter)
	}
	if next != "" {
		q.Set("next", next)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "collections/" + url.PathEscape(collection) + "/objects/"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	h, b, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return Page{}, err
	}
	p, err := ParsePage(b)
	if err != nil {
		return Page{}, err
	}
	p.AddedFirst, p.AddedLast = h.Get("X-TAXII-Date-Added-First"), h.Get("X-TAXII-Date-Added-Last")
	if len(p.Objects) > 0 && p.AddedLast == "" {
		return Page{}, errors.New("TAXII answer without X-TAXII-Date-Added-Last")
	}
	if p.AddedLast != "" {
		if _, err := time.Parse(time.RFC3339Nano, p.AddedLast); err != nil {
			return Page{}, fmt.Errorf("X-TAXII-Date-Added-Last %q: %w", clip(p.AddedLast, 60), err)
		}
	}
	return p, nil
}

// Status is a TAXII status resource.
type Status struct {
	ID           string         `json:"id"`
	Status       string         `json:"status"`
	TotalCount   int            `json:"total_count"`
	SuccessCount int            `json:"success_count"`
	FailureCount int            `json:"failure_count"`
	PendingCount int            `json:"pending_count"`
	Failures     []StatusDetail `json:"failures"`
}

// StatusDetail is one object of a status resource.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message"`
}

// ParseStatus reads a status resource.
func ParseStatus(b []byte) (Status, error) {
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		return Status{}, fmt.Errorf("TAXII status: %w", err)
	}
	if st.ID == "" || (st.Status != "complete" && st.Status != "pending") {
		return Status{}, errors.New("TAXII status: id and status (complete or pending) are required")
	}
	if st.TotalCount < 0 || st.SuccessCount < 0 || st.FailureCount < 0 || st.PendingCount < 0 {
		return Status{}, errors.New("TAXII status: negative count")
	}
	return st, nil
}

// Add posts objects in a TAXII envelope and returns the status; a pending
// status is polled (every poll, doubling, at most wait in all) until it is
// complete.
func (c *Client) Add(ctx context.Context, collection string, objects []map[string]any, wait time.Duration) (Status, error) {
	body, err := json.Marshal(map[string]any{"objects": objects})
	if err != nil {
		return Status{}, err
	}
	_, b, err := c.do(ctx, http.MethodPost, "collections/"+url.PathEscape(collection)+"/objects/", body)
	if err != nil {
		return Status{}, err
	}
	st, err := ParseStatus(b)
	if err != nil {
		return Status{}, err
	}
	deadline := time.Now().Add(wait)
	poll := 200 * time.Millisecond
	for st.Status == "pending" {
		if time.Now().After(deadline) {
			return st, fmt.Errorf("TAXII status %s still pending after %s", st.ID, wait)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		case <-t.C:
		}
		poll = min(2*poll, 5*time.Second)
		_, b, err := c.do(ctx, http.MethodGet, "status/"+url.PathEscape(st.ID)+"/", nil)
		if err != nil {
			return st, err
		}
		if st, err = ParseStatus(b); err != nil {
			return st, err
		}
	}
	return st, nil
}

// errText is an error as the peer's page shows it: one line, bounded.
func errText(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	return clip(s, 1000)
}
