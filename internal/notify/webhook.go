package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Limits of a webhook endpoint.
const (
	MaxWebhookURLLen = 500
	MaxWebhookKinds  = 50
	MaxWebhooksOrg   = 20
)

// Webhook is an organisation's endpoint. Secret is only filled when it is
// created (shown once).
type Webhook struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	URL       string    `json:"url"`
	Kinds     []string  `json:"kinds"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Secret    string    `json:"secret,omitempty"`
	secret    string
}

// Subscribed reports whether the endpoint takes kind (all kinds when its
// list is empty).
func (h Webhook) Subscribed(kind string) bool {
	return len(h.Kinds) == 0 || slices.Contains(h.Kinds, kind)
}

const webhookCols = "id, org_id, url, kinds, secret, active, created_at, updated_at"

func scanWebhook(sc interface{ Scan(...any) error }) (Webhook, error) {
	var h Webhook
	var kinds string
	if err := sc.Scan(&h.ID, &h.OrgID, &h.URL, &kinds, &h.secret, &h.Active, &h.CreatedAt, &h.UpdatedAt); err != nil {
		return h, err
	}
	h.Kinds = decodeStrings(kinds)
	if h.Kinds == nil {
		h.Kinds = []string{}
	}
	h.CreatedAt, h.UpdatedAt = h.CreatedAt.UTC(), h.UpdatedAt.UTC()
	return h, nil
}

// WebhookInput is what an administrator sets.
type WebhookInput struct {
	URL    string   `json:"url"`
	Kinds  []string `json:"kinds"`
	Active bool     `json:"active"`
}

// WebhookResource is what the webhook actions on the organisation's
// endpoints are checked against (also by pages and handlers that show a
// button or check before reading a request body).
func WebhookResource(orgID int64) policy.Resource {
	return policy.Resource{OwnerOrg: orgID, TLP: policy.TLPAmber}
}

func validateWebhook(op string, in *WebhookInput) error {
	v := errs.Invalid(op)
	in.URL = strings.TrimSpace(in.URL)
	switch {
	case in.URL == "":
		v.Field("url", "field.required")
	case len(in.URL) > MaxWebhookURLLen:
		v.Field("url", "field.too_long", MaxWebhookURLLen)
	default:
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" ||
			!utf8.ValidString(in.URL) || strings.ContainsAny(in.URL, " \t\r\n") {
			v.Field("url", "notify.err.webhook_url")
		}
	}
	var kinds []string
	for _, k := range in.Kinds {
		k = strings.TrimSpace(k)
		if k == "" || slices.Contains(kinds, k) {
			continue
		}
		if len(k) > MaxKindLen || !KnownKind(k) {
			v.Field("kinds", "notify.err.unknown_kind", k)
			break
		}
		kinds = append(kinds, k)
	}
	if len(kinds) > MaxWebhookKinds {
		v.Field("kinds", "notify.err.too_many_kinds", MaxWebhookKinds)
	}
	slices.Sort(kinds)
	in.Kinds = kinds
	return v.OrNil()
}

// Webhooks lists the organisation's endpoints (not deleted).
func (s *Service) Webhooks(ctx context.Context, a policy.Actor, orgID int64) ([]Webhook, error) {
	const op = "notify: webhooks"
	if err := policy.Check(a, policy.NotifyWebhookRead, WebhookResource(orgID)); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+webhookCols+" FROM notify_webhooks WHERE org_id = ? AND deleted_at IS NULL ORDER BY id", orgID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		h, err := scanWebhook(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

func getWebhook(ctx context.Context, q store.Q, orgID, id int64) (Webhook, error) {
	h, err := scanWebhook(q.QueryRow(ctx, "SELECT "+webhookCols+" FROM notify_webhooks WHERE id = ? AND org_id = ? AND deleted_at IS NULL", id, orgID))
	if store.IsNoRows(err) {
		return h, errs.NotFound("notify: webhook")
	}
	if err != nil {
		return h, errs.Internal("notify: webhook", err)
	}
	return h, nil
}

// Webhook returns one endpoint of the organisation.
func (s *Service) Webhook(ctx context.Context, a policy.Actor, orgID, id int64) (Webhook, error) {
	if err := policy.Check(a, policy.NotifyWebhookRead, WebhookResource(orgID)); err != nil {
		return Webhook{}, err
	}
	return getWebhook(ctx, s.DB, orgID, id)
}

func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

func auditView(h Webhook) map[string]any {
	return map[string]any{"url": h.URL, "kinds": h.Kinds, "active": h.Active}
}

// CreateWebhook adds an endpoint; the returned Secret is shown once.
func (s *Service) CreateWebhook(ctx context.Context, a policy.Actor, orgID int64, in WebhookInput) (Webhook, error) {
	const op = "notify: create webhook"
	if err := policy.Check(a, policy.NotifyWebhookWrite, WebhookResource(orgID)); err != nil {
		return Webhook{}, err
	}
	if err := validateWebhook(op, &in); err != nil {
		return Webhook{}, err
	}
	now := s.now()
	h := Webhook{OrgID: orgID, URL: in.URL, Kinds: in.Kinds, Active: in.Active, CreatedAt: now, UpdatedAt: now, Secret: newSecret()}
	kinds, _ := json.Marshal(nonNil(in.Kinds))
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM notify_webhooks WHERE org_id = ? AND deleted_at IS NULL", orgID).Scan(&n); err != nil {
			return errs.Internal(op, err)
		}
		if n >= MaxWebhooksOrg {
			return errs.Invalid(op).Field("url", "notify.err.too_many_webhooks", MaxWebhooksOrg)
		}
		var creator any
		if a.UserID != 0 {
			creator = a.UserID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO notify_webhooks (org_id, url, kinds, secret, active, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, orgID, h.URL, string(kinds), h.Secret, h.Active, creator, now, now).Scan(&h.ID); err != nil {
			return errs.Internal(op, err)
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: "webhook.create", Entity: "webhook",
			EntityID: strconv.FormatInt(h.ID, 10), After: auditView(h)})
	})
	if err != nil {
		return Webhook{}, err
	}
	return h, nil
}

// UpdateWebhook changes an endpoint's URL, kinds and active flag; the
// secret stays.
func (s *Service) UpdateWebhook(ctx context.Context, a policy.Actor, orgID, id int64, in WebhookInput) (Webhook, error) {
	const op = "notify: update webhook"
	if err := policy.Check(a, policy.NotifyWebhookWrite, WebhookResource(orgID)); err != nil {
		return Webhook{}, err
	}
	if err := validateWebhook(op, &in); err != nil {
		return Webhook{}, err
	}
	now := s.now()
	var out Webhook
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		h, err := getWebhook(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		before := auditView(h)
		kinds, _ := json.Marshal(nonNil(in.Kinds))
		if _, err := tx.Exec(ctx, "UPDATE notify_webhooks SET url = ?, kinds = ?, active = ?, updated_at = ? WHERE id = ?",
			in.URL, string(kinds), in.Active, now, id); err != nil {
			return errs.Internal(op, err)
		}
		h.URL, h.Kinds, h.Active, h.UpdatedAt = in.URL, in.Kinds, in.Active, now
		out = h
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: "webhook.update", Entity: "webhook",
			EntityID: strconv.FormatInt(id, 10), Before: before, After: auditView(h)})
	})
	return out, err
}

// DeleteWebhook removes an endpoint; its pending deliveries are cancelled
// and its delivery log stays.
func (s *Service) DeleteWebhook(ctx context.Context, a policy.Actor, orgID, id int64) error {
	const op = "notify: delete webhook"
	if err := policy.Check(a, policy.NotifyWebhookWrite, WebhookResource(orgID)); err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		h, err := getWebhook(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE notify_webhooks SET deleted_at = ?, active = ?, updated_at = ? WHERE id = ?", now, false, now, id); err != nil {
			return errs.Internal(op, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE notify_deliveries SET status = 'cancelled', last_error = 'endpoint deleted' WHERE webhook_id = ? AND status = 'pending'", id); err != nil {
			return errs.Internal(op, err)
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: "webhook.delete", Entity: "webhook",
			EntityID: strconv.FormatInt(id, 10), Before: auditView(h)})
	})
}

// TestWebhook queues a test call to the endpoint and sends it at once. The
// result is in the returned delivery (and the endpoint's log).
func (s *Service) TestWebhook(ctx context.Context, a policy.Actor, orgID, id int64) (Delivery, error) {
	const op = "notify: test webhook"
	if err := policy.Check(a, policy.NotifyWebhookWrite, WebhookResource(orgID)); err != nil {
		return Delivery{}, err
	}
	now := s.now()
	var did int64
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		h, err := getWebhook(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO notify_deliveries (channel, webhook_id, address, next_attempt_at, created_at)
			VALUES ('webhook', ?, ?, ?, ?) RETURNING id`, id, h.URL, now, now).Scan(&did); err != nil {
			return errs.Internal(op, err)
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: "webhook.test", Entity: "webhook",
			EntityID: strconv.FormatInt(id, 10), After: map[string]any{"delivery": did}})
	})
	if err != nil {
		return Delivery{}, err
	}
	// Send it now; a failure is retried by the sender like any other.
	if ok, err := s.claimOne(ctx, did, now); err == nil && ok {
		s.send(ctx, did)
	}
	return s.delivery(ctx, did)
}

// WebhookLog lists the endpoint's latest deliveries, newest first.
func (s *Service) WebhookLog(ctx context.Context, a policy.Actor, orgID, id int64, limit int) ([]Delivery, error) {
	const op = "notify: webhook log"
	if err := policy.Check(a, policy.NotifyWebhookRead, WebhookResource(orgID)); err != nil {
		return nil, err
	}
	var exists int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notify_webhooks WHERE id = ? AND org_id = ?", id, orgID).Scan(&exists); err != nil {
		return nil, errs.Internal(op, err)
	}
	if exists == 0 {
		return nil, errs.NotFound(op)
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.DB.Query(ctx, "SELECT "+deliveryCols+" FROM notify_deliveries d LEFT JOIN notifications n ON n.id = d.notification_id WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ?", id, limit)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ---------------------------------------------------------------------------
// Signing and sending

// Sign returns the X-Certnet-Signature value of a call: "sha256=" and the
// hex HMAC-SHA256 of timestamp + "." + body under the endpoint's secret.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature in constant time.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// Payload is the JSON body of a webhook call. ID is the notification's id
// (the same for every endpoint); the delivery id is in X-Certnet-Delivery.
type Payload struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	Subject   string    `json:"subject"`
	Link      string    `json:"link"`
	TLP       string    `json:"tlp"`
	Body      string    `json:"body,omitempty"`
	Exercise  bool      `json:"exercise,omitempty"`
}

func (s *Service) httpClient() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	s.httpOnce.Do(func() {
		allow := s.AllowPrivateWebhooks
		d := &net.Dialer{Timeout: WebhookTimeout, Control: func(network, address string, _ syscall.RawConn) error {
			if allow {
				return nil
			}
			return publicAddress(address)
		}}
		s.client = &http.Client{Timeout: WebhookTimeout,
			// No proxy from the environment: it would hide the address
			// actually reached. No redirects: a 3xx is a failure.
			Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: WebhookTimeout,
				ResponseHeaderTimeout: WebhookTimeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	})
	return s.client
}

// errPrivate: a webhook may not reach certnet's own machine or network
// unless the operator allows it (--webhook-allow-private).
var errPrivate = errors.New("webhook address is loopback, private or link-local; not allowed (--webhook-allow-private)")

// publicAddress checks the address a webhook call is about to connect to,
// after name resolution, so that a name resolving to an inside address is
// refused as well.
func publicAddress(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || cgnat.Contains(ip) {
		return errPrivate
	}
	return nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// postWebhook makes one call; status is the HTTP status (0 without an
// answer).
func (s *Service) postWebhook(ctx context.Context, deliveryID int64, kind, url, secret string, body []byte) (status int, err error) {
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "certnet-webhook/1")
	req.Header.Set("X-Certnet-Event", kind)
	req.Header.Set("X-Certnet-Delivery", strconv.FormatInt(deliveryID, 10))
	req.Header.Set("X-Certnet-Timestamp", ts)
	req.Header.Set("X-Certnet-Signature", Sign(secret, ts, body))
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func loadSecret(ctx context.Context, q store.Q, id int64) (secret string, live bool, err error) {
	var active bool
	var deleted sql.NullTime
	err = q.QueryRow(ctx, "SELECT secret, active, deleted_at FROM notify_webhooks WHERE id = ?", id).Scan(&secret, &active, &deleted)
	return secret, active && !deleted.Valid, err
}
