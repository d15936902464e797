package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"certnet/internal/forward"
)

// inputFlags collects repeated --input values.
type inputFlags []forward.Input

func (f *inputFlags) String() string {
	var s []string
	for _, in := range *f {
		s = append(s, in.Format+":"+in.Path)
	}
	return strings.Join(s, ",")
}

func (f *inputFlags) Set(v string) error {
	in, err := forward.ParseInput(v)
	if err != nil {
		return err
	}
	*f = append(*f, in)
	return nil
}

// runForward: certnet forward --url URL --token-file F --state DIR --input FORMAT:PATH…
func runForward(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certnet forward", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		inputs                         inputFlags
		url, tokenFile, state          string
		maxBuffer, batchBytes          string
		logLevel, logFormat            string
		batch                          int
		flush, poll, statusEvery, tout time.Duration
		fromEnd                        bool
	)
	fs.StringVar(&url, "url", "", "certnet's address, e.g. https://certnet.example.vn/ (required)")
	fs.StringVar(&tokenFile, "token-file", "", "file holding this SOC's source token (or env CERTNET_FORWARD_TOKEN)")
	fs.StringVar(&state, "state", "", "folder for positions, the spool of unsent batches and rejected batches (required)")
	fs.Var(&inputs, "input", "FORMAT:PATH of a file to follow (suricata, wazuh, generic, stix); repeat for several")
	fs.IntVar(&batch, "batch", 5000, "lines per batch")
	fs.StringVar(&batchBytes, "batch-bytes", "16MB", "uncompressed bytes per batch")
	fs.DurationVar(&flush, "flush", 2*time.Second, "the longest a line waits for its batch to fill")
	fs.StringVar(&maxBuffer, "max-buffer", "1GB", "spool size past which the inputs stop being read (nothing is dropped)")
	fs.DurationVar(&poll, "poll", 250*time.Millisecond, "how often a quiet file is looked at")
	fs.DurationVar(&statusEvery, "status", time.Minute, "period of the status line")
	fs.DurationVar(&tout, "timeout", 60*time.Second, "time allowed for one request")
	fs.BoolVar(&fromEnd, "from-end", false, "a file never seen before is followed from its end (default: from its start)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (inputs are given with --input FORMAT:PATH)", fs.Arg(0))
	}
	if url == "" || state == "" || len(inputs) == 0 {
		return usagef("usage: certnet forward --url URL --token-file FILE --state DIR --input FORMAT:PATH [--input …] [--batch N] [--flush 2s] [--max-buffer 1GB]")
	}
	token := strings.TrimSpace(os.Getenv("CERTNET_FORWARD_TOKEN"))
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return usagef("no token: give --token-file FILE (or CERTNET_FORWARD_TOKEN)")
	}
	mb, err := forward.ParseSize(maxBuffer)
	if err != nil {
		return usagef("--max-buffer: %v", err)
	}
	bb, err := forward.ParseSize(batchBytes)
	if err != nil {
		return usagef("--batch-bytes: %v", err)
	}
	if batch <= 0 || batch > 100_000 {
		return usagef("--batch must be between 1 and 100000 (the server takes at most 100000 events a batch)")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	log := slog.New(slog.NewTextHandler(stderr, opts))
	if logFormat == "json" {
		log = slog.New(slog.NewJSONHandler(stderr, opts))
	}
	fw, err := forward.New(forward.Config{
		URL: url, Token: token, State: state, Inputs: inputs,
		BatchLines: batch, BatchBytes: bb, Flush: flush, MaxBuffer: mb, Poll: poll, StatusEvery: statusEvery,
		FromEnd: fromEnd, UserAgent: "certnet-forward/" + BuildVersion(), Log: log,
		Client: &http.Client{Timeout: tout},
	})
	if err != nil {
		return err
	}
	if err := fw.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
