// Package config holds certnet's settings. Values come, from lowest to highest
// precedence, from defaults, an optional config file, CERTNET_* environment
// variables and command-line flags. Any setting X may instead be read from a
// file named by X_FILE (CERTNET_DB_FILE=/run/secrets/db), for secrets.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is every setting of a certnet process. It is a value passed down,
// never a global.
type Config struct {
	Data         string        // data folder (SQLite, uploads, JetStream)
	DB           string        // "" for SQLite in Data, or postgres://…
	Addr         string        // listen address
	BaseURL      string        // public URL, for links in messages
	TLSCert      string        // serve HTTPS with this certificate…
	TLSKey       string        // …and key
	TrustProxy   bool          // honour X-Forwarded-For / -Proto from a reverse proxy
	Demo         bool          // seed the demo network
	LogLevel     string        // debug, info, warn, error
	LogFormat    string        // text or json
	MaxBody      int64         // largest request body for the API and forms, bytes
	SessionTTL   time.Duration // absolute session lifetime
	IdleTimeout  time.Duration // session idle timeout
	ShutdownWait time.Duration // grace period on SIGTERM
	// E-mail notifications (internal/notify): no e-mail is sent when
	// SMTPAddr is empty.
	SMTPAddr     string // host:port of the SMTP server
	SMTPFrom     string // sender address, e.g. "certnet <certnet@vncert.vn>"
	SMTPUser     string // optional AUTH PLAIN user…
	SMTPPassword string // …and password (CERTNET_SMTP_PASSWORD_FILE)
	SMTPStartTLS string // required, optional or none
	// WebhookAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses (refused by default).
	WebhookAllowPrivate bool
	// Evidence files and the public report page (internal/incident).
	MaxEvidence      int64 // largest evidence file, bytes
	PublicPerAddress int   // public reports per client address per hour
	PublicPerHour    int   // public reports from everyone per hour
	// SOC ingest (internal/ingest, internal/bus): NATS is an external
	// JetStream server's URL (empty: embedded, storage in Data/jetstream).
	NATS                 string
	IngestWorkers        int           // pipeline workers per node
	IngestMaxBatch       int64         // largest decompressed batch, bytes
	IngestRetention      time.Duration // how long raw batches stay in the stream
	IngestStreamMaxBytes int64         // stream size limit, bytes (0: none)
	// SealingKey is the file of the key that seals the federation
	// secrets in the database (internal/secretbox); empty for secret.key
	// in Data. Every node of a cluster on one database names the same.
	SealingKey string
}

// SealingKeyFile is the key file in use.
func (c Config) SealingKeyFile() string {
	if c.SealingKey != "" {
		return c.SealingKey
	}
	return filepath.Join(c.Data, "secret.key")
}

// Default returns the defaults.
func Default() Config {
	return Config{
		Data:         "./certnet-data",
		Addr:         "127.0.0.1:8080",
		LogLevel:     "info",
		LogFormat:    "text",
		MaxBody:      1 << 20,
		SessionTTL:   12 * time.Hour,
		IdleTimeout:  2 * time.Hour,
		ShutdownWait: 15 * time.Second,
		SMTPStartTLS: "required",

		MaxEvidence:      100 << 20,
		PublicPerAddress: 5,
		PublicPerHour:    200,

		IngestWorkers:   2,
		IngestMaxBatch:  64 << 20,
		IngestRetention: 7 * 24 * time.Hour,
	}
}

// Which selects the flags a subcommand takes.
type Which int

const (
	StoreFlags  Which = 1 << iota // --data, --db, --config, logging
	ServerFlags                   // --addr, TLS, proxy, demo, limits
)

// Flags registers the settings on fs and returns a function that, after
// fs.Parse, applies the config file and environment to every flag that was
// not given on the command line, then validates.
func (c *Config) Flags(fs *flag.FlagSet, which Which) func() error {
	var file string
	fs.StringVar(&file, "config", "", "optional config file of `key = value` lines using the flag names (env CERTNET_CONFIG)")
	fs.StringVar(&c.Data, "data", c.Data, "data folder holding the SQLite database and other state (env CERTNET_DATA)")
	fs.StringVar(&c.DB, "db", c.DB, "database: empty for SQLite in the data folder, or postgres://user:pass@host/db (env CERTNET_DB; CERTNET_DB_FILE reads it from a file)")
	fs.StringVar(&c.SealingKey, "sealing-key", c.SealingKey, "file of the key that seals federation secrets in the database, made on first start; default secret.key in the data folder; the same file on every node of one database (env CERTNET_SEALING_KEY)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error (env CERTNET_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (env CERTNET_LOG_FORMAT)")
	if which&ServerFlags != 0 {
		fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (env CERTNET_ADDR)")
		fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL of this instance, used in links (env CERTNET_BASE_URL)")
		fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file; serve HTTPS (env CERTNET_TLS_CERT)")
		fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS key file (env CERTNET_TLS_KEY; CERTNET_TLS_KEY_FILE)")
		fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "trust X-Forwarded-For and X-Forwarded-Proto from a reverse proxy (env CERTNET_TRUST_PROXY)")
		fs.BoolVar(&c.Demo, "demo", c.Demo, "seed the demo network once and print its users' credentials (env CERTNET_DEMO)")
		fs.Int64Var(&c.MaxBody, "max-body", c.MaxBody, "largest accepted request body in bytes (env CERTNET_MAX_BODY)")
		fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "absolute lifetime of a login session (env CERTNET_SESSION_TTL)")
		fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "a session ends after this long without use (env CERTNET_IDLE_TIMEOUT)")
		fs.DurationVar(&c.ShutdownWait, "shutdown-wait", c.ShutdownWait, "grace period for open requests on SIGTERM (env CERTNET_SHUTDOWN_WAIT)")
		fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP server host:port for e-mail notifications; empty sends no e-mail (env CERTNET_SMTP_ADDR)")
		fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender address of e-mail notifications (env CERTNET_SMTP_FROM)")
		fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "optional SMTP user (env CERTNET_SMTP_USER; CERTNET_SMTP_USER_FILE)")
		fs.StringVar(&c.SMTPPassword, "smtp-password", c.SMTPPassword, "SMTP password (env CERTNET_SMTP_PASSWORD; CERTNET_SMTP_PASSWORD_FILE)")
		fs.Int64Var(&c.MaxEvidence, "max-evidence", c.MaxEvidence, "largest evidence file in bytes (env CERTNET_MAX_EVIDENCE)")
		fs.IntVar(&c.PublicPerAddress, "public-reports-per-address", c.PublicPerAddress, "public reports accepted per client address per hour (env CERTNET_PUBLIC_REPORTS_PER_ADDRESS)")
		fs.IntVar(&c.PublicPerHour, "public-reports-per-hour", c.PublicPerHour, "public reports accepted from everyone per hour (env CERTNET_PUBLIC_REPORTS_PER_HOUR)")
		fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", c.WebhookAllowPrivate, "let organisations' webhooks reach loopback, private and link-local addresses (env CERTNET_WEBHOOK_ALLOW_PRIVATE)")
		fs.StringVar(&c.NATS, "nats", c.NATS, "external NATS JetStream server for SOC event batches, nats://host:4222 (comma separated for a cluster); empty runs one in-process with storage in the data folder (env CERTNET_NATS)")
		fs.IntVar(&c.IngestWorkers, "ingest-workers", c.IngestWorkers, "ingest pipeline workers on this node (env CERTNET_INGEST_WORKERS)")
		fs.Int64Var(&c.IngestMaxBatch, "ingest-max-batch", c.IngestMaxBatch, "largest SOC event batch in bytes once decompressed (env CERTNET_INGEST_MAX_BATCH)")
		fs.DurationVar(&c.IngestRetention, "ingest-retention", c.IngestRetention, "how long raw event batches are kept in the stream; sightings stay (env CERTNET_INGEST_RETENTION)")
		fs.Int64Var(&c.IngestStreamMaxBytes, "ingest-stream-max-bytes", c.IngestStreamMaxBytes, "size limit of the event stream in bytes, 0 for none; when full, batches are refused with 503 (env CERTNET_INGEST_STREAM_MAX_BYTES)")
		fs.StringVar(&c.SMTPStartTLS, "smtp-starttls", c.SMTPStartTLS, "STARTTLS to the SMTP server: required, optional or none (env CERTNET_SMTP_STARTTLS)")
	}
	return func() error {
		return c.apply(fs, file, os.LookupEnv)
	}
}

func envName(flagName string) string {
	return "CERTNET_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c *Config) apply(fs *flag.FlagSet, file string, env func(string) (string, bool)) error {
	if file == "" {
		file, _ = env("CERTNET_CONFIG")
	}
	fromFile := map[string]string{}
	if file != "" {
		var err error
		if fromFile, err = ReadFile(file); err != nil {
			return err
		}
		for k := range fromFile {
			name := strings.TrimSuffix(k, "_file")
			if fs.Lookup(name) == nil && fs.Lookup(strings.ReplaceAll(name, "_", "-")) == nil {
				return fmt.Errorf("config: %s: unknown setting %q", file, k)
			}
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "config" {
			return
		}
		val, ok, err := lookup(f.Name, env, fromFile)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if ok {
			if err := fs.Set(f.Name, val); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: %w", f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.Validate()
}

// lookup finds a value for flag name: env X, env X_FILE, file x, file x_file.
func lookup(name string, env func(string) (string, bool), file map[string]string) (string, bool, error) {
	e := envName(name)
	if v, ok := env(e); ok {
		return v, true, nil
	}
	if p, ok := env(e + "_FILE"); ok {
		return readSecret(e+"_FILE", p)
	}
	keys := []string{name, strings.ReplaceAll(name, "-", "_")}
	for _, k := range keys {
		if v, ok := file[k]; ok {
			return v, true, nil
		}
		if p, ok := file[k+"_file"]; ok {
			return readSecret(k+"_file", p)
		}
	}
	return "", false, nil
}

func readSecret(what, path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("config: %s: %w", what, err)
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}

// ReadFile parses a config file: `key = value` lines, # comments, blank
// lines; values may be double-quoted.
func ReadFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse parses config file content.
func Parse(name string, b []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config: %s:%d: want `key = value`", name, n)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if k == "" {
			return nil, fmt.Errorf("config: %s:%d: empty key", name, n)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("config: %s:%d: %s set twice", name, n, k)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	return out, nil
}

// Validate checks the settings.
func (c *Config) Validate() error {
	var errs []error
	if c.DB == "" && c.Data == "" {
		errs = append(errs, errors.New("config: --data must not be empty when --db is not set"))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") && !strings.HasPrefix(c.DB, "sqlite:") {
		errs = append(errs, errors.New("config: --db must be a postgres:// URL (or sqlite:PATH)"))
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("config: --addr %q: %w", c.Addr, err))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("config: --tls-cert and --tls-key go together"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("config: --log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("config: --log-format %q: want text or json", c.LogFormat))
	}
	if c.MaxBody < 1024 {
		errs = append(errs, errors.New("config: --max-body must be at least 1024 bytes"))
	}
	if c.MaxEvidence < 1024 {
		errs = append(errs, errors.New("config: --max-evidence must be at least 1024 bytes"))
	}
	if c.PublicPerAddress < 1 || c.PublicPerHour < c.PublicPerAddress {
		errs = append(errs, errors.New("config: --public-reports-per-address must be at least 1 and at most --public-reports-per-hour"))
	}
	switch c.SMTPStartTLS {
	case "", "required", "optional", "none":
	default:
		errs = append(errs, fmt.Errorf("config: --smtp-starttls %q: want required, optional or none", c.SMTPStartTLS))
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("config: --smtp-addr %q: %w", c.SMTPAddr, err))
		}
		if a, err := mail.ParseAddress(c.SMTPFrom); err != nil || a.Address == "" {
			errs = append(errs, fmt.Errorf("config: --smtp-from %q: want an e-mail address when --smtp-addr is set", c.SMTPFrom))
		}
	}
	if (c.SMTPUser == "") != (c.SMTPPassword == "") {
		errs = append(errs, errors.New("config: --smtp-user and --smtp-password go together"))
	}
	if c.NATS != "" && !strings.HasPrefix(c.NATS, "nats://") && !strings.HasPrefix(c.NATS, "tls://") {
		errs = append(errs, errors.New("config: --nats must be a nats:// or tls:// URL"))
	}
	if c.IngestWorkers < 0 || c.IngestWorkers > 256 {
		errs = append(errs, errors.New("config: --ingest-workers must be between 0 and 256"))
	}
	if c.IngestMaxBatch < 1024 || c.IngestMaxBatch > 1<<30 {
		errs = append(errs, errors.New("config: --ingest-max-batch must be between 1024 bytes and 1 GiB"))
	}
	if c.IngestRetention < time.Hour {
		errs = append(errs, errors.New("config: --ingest-retention must be at least 1h"))
	}
	if c.IngestStreamMaxBytes < 0 {
		errs = append(errs, errors.New("config: --ingest-stream-max-bytes must not be negative"))
	}
	if c.SessionTTL < time.Minute || c.IdleTimeout < time.Minute {
		errs = append(errs, errors.New("config: --session-ttl and --idle-timeout must be at least 1m"))
	}
	return errors.Join(errs...)
}
