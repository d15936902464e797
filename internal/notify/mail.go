package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"certnet/internal/i18n"
	"certnet/internal/policy"
)

// Mailer sends one message to one recipient.
type Mailer interface {
	Send(ctx context.Context, from, to string, msg []byte) error
}

// STARTTLS modes of the SMTP client.
const (
	StartTLSRequired = "required"
	StartTLSOptional = "optional"
	StartTLSNone     = "none"
)

// SMTP is a Mailer talking to one SMTP server (net/smtp).
type SMTP struct {
	Addr     string // host:port
	User     string // optional AUTH PLAIN
	Password string
	StartTLS string // required (default), optional or none
	// TLS is the client config of STARTTLS (ServerName from Addr when nil).
	TLS     *tls.Config
	Timeout time.Duration // whole conversation, 30 s by default
}

// Send implements Mailer.
func (m *SMTP) Send(ctx context.Context, from, to string, msg []byte) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtp: address %q: %w", m.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp: HELO: %w", err)
	}
	mode := m.StartTLS
	if mode == "" {
		mode = StartTLSRequired
	}
	if mode != StartTLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			cfg := m.TLS
			if cfg == nil {
				cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
			}
			if err := c.StartTLS(cfg); err != nil {
				return fmt.Errorf("smtp: STARTTLS: %w", err)
			}
		} else if mode == StartTLSRequired {
			return errors.New("smtp: the server does not offer STARTTLS, which is required (--smtp-starttls)")
		}
	}
	if m.User != "" {
		if err := c.Auth(smtp.PlainAuth("", m.User, m.Password, host)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	return c.Quit()
}

// MessageID is the Message-ID of a delivery: stable, so that the one resend
// a crash can cause is recognisable as the same message.
func MessageID(deliveryID int64, host string) string {
	return "<certnet.delivery." + strconv.FormatInt(deliveryID, 10) + "@" + host + ">"
}

// Subject is the e-mail subject of a notification in lang:
// "[certnet][TLP:AMBER] …", marked when it is an exercise.
func Subject(lang i18n.Lang, tlp policy.TLP, exercise bool, subject string) string {
	s := "[certnet][" + tlp.Label() + "] "
	if exercise {
		s += "[" + i18n.T(lang, "notify.exercise") + "] "
	}
	return s + subject
}

// mailMessage renders one e-mail: UTF-8 headers encoded per RFC 2047, a
// text/plain UTF-8 body in quoted-printable.
func (s *Service) mailMessage(deliveryID int64, to string, lang i18n.Lang, n stored) []byte {
	subject := Subject(lang, n.TLP, n.Exercise, Render(lang, n.Subject))
	var body strings.Builder
	body.WriteString(Render(lang, n.Subject) + "\n\n")
	if n.Exercise {
		body.WriteString(i18n.T(lang, "notify.mail.exercise") + "\n\n")
	}
	if bodyAllowed(n.TLP) {
		if n.Body.Key != "" {
			body.WriteString(Render(lang, n.Body) + "\n\n")
		}
	} else {
		body.WriteString(i18n.T(lang, "notify.mail.withheld", n.TLP.Label()) + "\n\n")
	}
	body.WriteString(i18n.T(lang, "notify.mail.open") + "\n" + s.link(n.Link) + "\n\n-- \n")
	body.WriteString(i18n.T(lang, "notify.mail.footer") + "\n" + s.link("/profile/notifications") + "\n")

	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	from := s.From
	if a, err := mail.ParseAddress(from); err == nil {
		from = (&mail.Address{Name: a.Name, Address: a.Address}).String()
	}
	hdr("From", from)
	hdr("To", (&mail.Address{Address: to}).String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", s.now().Format(time.RFC1123Z))
	hdr("Message-ID", MessageID(deliveryID, s.Host))
	hdr("X-Certnet-Delivery", strconv.FormatInt(deliveryID, 10))
	hdr("X-Certnet-Event", n.Kind)
	hdr("Auto-Submitted", "auto-generated")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

func (s *Service) sendEmail(ctx context.Context, id, nid, uid int64, address string) error {
	if s.Mailer == nil {
		return errors.New("no SMTP server configured")
	}
	var email, locale string
	var disabled bool
	if err := s.DB.QueryRow(ctx, "SELECT email, locale, disabled FROM users WHERE id = ?", uid).Scan(&email, &locale, &disabled); err != nil {
		return err
	}
	if disabled || email == "" {
		return fmt.Errorf("%w: user disabled or without e-mail", errGone)
	}
	n, err := s.loadNotification(ctx, nid)
	if err != nil {
		return err
	}
	// The address on file now: a person who changed it reads it there.
	msg := s.mailMessage(id, email, i18n.Parse(locale), n)
	return s.Mailer.Send(ctx, s.envelopeFrom(), email, msg)
}

func (s *Service) envelopeFrom() string {
	if a, err := mail.ParseAddress(s.From); err == nil {
		return a.Address
	}
	return s.From
}
