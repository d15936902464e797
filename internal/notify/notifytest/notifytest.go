// Package notifytest gives tests a real SMTP server that collects the mail
// certnet sends, and a webhook receiver that checks signatures.
package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"certnet/internal/notify"
)

// Mail is one message the SMTP server received.
type Mail struct {
	From      string // envelope sender
	To        []string
	Subject   string // decoded (RFC 2047)
	Body      string // decoded text
	MessageID string
	Header    mail.Header
	Raw       []byte
}

// SMTPServer is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 that keeps what it receives.
type SMTPServer struct {
	Addr string
	srv  *smtp.Server

	mu    sync.Mutex
	mails []Mail
	// Fail, when set, answers every RCPT with a temporary failure.
	fail bool
	// user and password, when set, are required (AUTH PLAIN).
	user, password string
	// clientTLS trusts the server's certificate (StartSMTPTLS).
	clientTLS *tls.Config
	// Authed records the user of each authenticated session.
	authed []string
}

// StartSMTP starts the server; it stops when the test ends.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	s := &SMTPServer{}
	s.serve(t, func() smtp.Session { return &session{s: s} }, func(srv *smtp.Server) { srv.AllowInsecureAuth = true })
	return s
}

// serve starts the server with sessions from newSession on 127.0.0.1;
// setup adds to the common settings.
func (s *SMTPServer) serve(t testing.TB, newSession func() smtp.Session, setup func(*smtp.Server)) {
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return newSession(), nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.ErrorLog = nopLog{}
	setup(s.srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
}

type nopLog struct{}

func (nopLog) Printf(string, ...any) {}
func (nopLog) Println(...any)        {}

// StartSMTPTLS starts a server that offers STARTTLS with a self-signed
// certificate for 127.0.0.1 and requires AUTH PLAIN with user and password.
func StartSMTPTLS(t testing.TB, user, password string) *SMTPServer {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &SMTPServer{user: user, password: password}
	s.clientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	s.serve(t, func() smtp.Session { return &authSession{session{s: s}} }, func(srv *smtp.Server) {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	return s
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true,
		BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Authed lists the users that authenticated, one per session.
func (s *SMTPServer) Authed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authed...)
}

// Mailer returns a client for this server: STARTTLS required and AUTH for a
// server of StartSMTPTLS, none for a plain one.
func (s *SMTPServer) Mailer() *notify.SMTP {
	if s.clientTLS != nil {
		return &notify.SMTP{Addr: s.Addr, StartTLS: notify.StartTLSRequired, TLS: s.clientTLS, User: s.user, Password: s.password,
			Timeout: 10 * time.Second}
	}
	return &notify.SMTP{Addr: s.Addr, StartTLS: notify.StartTLSNone, Timeout: 10 * time.Second}
}

// SetFail makes the server refuse (450) every recipient, or stop refusing.
func (s *SMTPServer) SetFail(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

// Mails returns what arrived so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait waits until n messages arrived (or timeout) and returns them.
func (s *SMTPServer) Wait(n int, timeout time.Duration) ([]Mail, error) {
	deadline := time.Now().Add(timeout)
	for {
		m := s.Mails()
		if len(m) >= n {
			return m, nil
		}
		if time.Now().After(deadline) {
			return m, fmt.Errorf("notifytest: %d of %d messages after %s", len(m), n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type session struct {
	s      *SMTPServer
	from   string
	to     []string
	authed bool
}

// authSession requires AUTH PLAIN before MAIL.
type authSession struct{ session }

func (x *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *authSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.user || password != x.s.password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		x.s.mu.Lock()
		x.s.authed = append(x.s.authed, username)
		x.s.mu.Unlock()
		return nil
	}), nil
}

func (x *authSession) Mail(from string, o *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	return x.session.Mail(from, o)
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	fail := x.s.fail
	x.s.mu.Unlock()
	if fail {
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy, try later"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{From: x.from, To: append([]string(nil), x.to...), Raw: raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = msg.Header
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		m.MessageID = msg.Header.Get("Message-ID")
		var body io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(msg.Body)
		}
		b, _ := io.ReadAll(body)
		m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, m)
	x.s.mu.Unlock()
	return nil
}

// ---------------------------------------------------------------------------

// Call is one webhook call the receiver took.
type Call struct {
	Delivery  string
	Event     string
	Timestamp string
	Signature string
	Valid     bool // the signature verified under the receiver's secret
	Body      []byte
	Payload   notify.Payload
	Status    int // what the receiver answered
}

// Receiver is an HTTP endpoint for webhooks that verifies signatures.
type Receiver struct {
	URL string
	srv *httptest.Server

	mu     sync.Mutex
	secret string
	calls  []Call
	// answers: the status of each next call (then 204).
	answers []int
}

// StartReceiver starts a receiver; set its secret with SetSecret once the
// endpoint is created.
func StartReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL + "/hook"
	t.Cleanup(r.srv.Close)
	return r
}

// SetSecret sets the secret signatures are checked with.
func (r *Receiver) SetSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

// Answer queues statuses for the next calls (e.g. 500 then 500).
func (r *Receiver) Answer(statuses ...int) {
	r.mu.Lock()
	r.answers = append(r.answers, statuses...)
	r.mu.Unlock()
}

// Calls returns the calls so far.
func (r *Receiver) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	c := Call{Delivery: req.Header.Get("X-Certnet-Delivery"), Event: req.Header.Get("X-Certnet-Event"),
		Timestamp: req.Header.Get("X-Certnet-Timestamp"), Signature: req.Header.Get("X-Certnet-Signature"), Body: body}
	json.Unmarshal(body, &c.Payload)
	r.mu.Lock()
	c.Valid = r.secret != "" && notify.Verify(r.secret, c.Timestamp, body, c.Signature)
	c.Status = http.StatusNoContent
	if len(r.answers) > 0 {
		c.Status, r.answers = r.answers[0], r.answers[1:]
	}
	if !c.Valid && c.Status < 300 {
		c.Status = http.StatusUnauthorized
	}
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	w.WriteHeader(c.Status)
}
