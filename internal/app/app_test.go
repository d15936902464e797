package app_test

import (
	"context"
	"io"
	"log/slog"
	"time"

	"certnet/internal/app"
	"certnet/internal/config"
	"net/http"
	"strings"
	"testing"

	"certnet/internal/apptest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperationsEndpoints(t *testing.T) {
	e := apptest.StartSQLite(t)
	if code, body := get(t, e.URL+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, body := get(t, e.URL+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("readyz: %d %s", code, body)
	}
	get(t, e.URL+"/login")
	code, body := get(t, e.URL+"/metrics")
	if code != 200 || !strings.Contains(body, `certnet_http_requests_total{code="200",method="GET",route="GET /login"}`) {
		t.Fatalf("metrics should count requests by route: %d", code)
	}
	// A closed database is not ready.
	e.DB.Close()
	if code, _ := get(t, e.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a closed database: %d", code)
	}
}

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	e := apptest.StartSQLite(t)
	req, _ := http.NewRequest("GET", e.URL+"/login", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("request id not echoed: %q", resp.Header.Get("X-Request-Id"))
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Error("CSP missing")
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("X-Frame-Options missing")
	}
}

func TestServeStopsGracefully(t *testing.T) {
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(u string) { urls <- u }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	if code, _ := get(t, url+"healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v on stop", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}
