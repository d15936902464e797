package federation_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestTwoProcesses federates two certnet processes on loopback, as they
// run in the field: the binary is built once, the national instance and a
// province's instance are set up with the command line (organisations,
// users, an import, the peer), tokens are made through the national web
// UI, and both serve. At its start the province's job pushes and pulls:
// its AMBER indicator reaches the national instance, its RED and
// AMBER+STRICT ones do not; the advisory the national coordinator
// published for the province reaches the province's members.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("two processes: skipped in -short")
	}
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	dir := t.TempDir()
	bin := filepath.Join(dir, "certnet")
	build := exec.Command("go", "build", "-o", bin, "certnet/cmd/certnet")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	step("built")
	nat, prov := filepath.Join(dir, "national"), filepath.Join(dir, "province")
	pw := filepath.Join(dir, "pw")
	password := "Federation-" + uuid.NewString()[:18]
	write(t, pw, password)
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("certnet %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// The national instance: the coordinator, the province as a member,
	// the province's sync account and a coordinator.
	cli("org", "add", "--data", nat, "--code", "VNCERT", "--name", "Trung tâm Điều phối quốc gia", "--roles", "national_coordinator")
	cli("org", "add", "--data", nat, "--code", "HN", "--name", "Sở Hà Nội", "--parent", "VNCERT", "--roles", "provincial_response_unit")
	cli("user", "add", "--data", nat, "--org", "HN", "--username", "hn-sync", "--roles", "analyst", "--password-file", pw)
	cli("user", "add", "--data", nat, "--org", "VNCERT", "--username", "nat-coord", "--roles", "coordinator", "--password-file", pw)
	step("national set up")
	natURL := serve(t, bin, nat)
	syncToken := webToken(t, natURL, "hn-sync", password)
	coordToken := webToken(t, natURL, "nat-coord", password)

	step("tokens made")
	// The national coordinator warns the province.
	var orgs struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"items"`
	}
	apiJSON(t, natURL, coordToken, "GET", "api/v1/orgs?q=HN", nil, &orgs)
	var hnID int64
	for _, o := range orgs.Items {
		if o.Code == "HN" {
			hnID = o.ID
		}
	}
	if hnID == 0 {
		t.Fatalf("HN not found on the national instance: %+v", orgs)
	}
	title := "Cảnh báo liên thông " + uuid.NewString()[:8]
	var adv struct {
		ID int64 `json:"id"`
	}
	apiJSON(t, natURL, coordToken, "POST", "api/v1/advisories", map[string]any{"title": title, "summary": "Chiến dịch mã độc nhắm vào bệnh viện",
		"actions": "Cập nhật bản vá và rà soát máy chủ", "severity": "high", "tlp": "GREEN",
		"deadline_at": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339), "targeting": map[string]any{"orgs": []int64{hnID}}}, &adv)
	apiJSON(t, natURL, coordToken, "POST", fmt.Sprintf("api/v1/advisories/%d/publish", adv.ID), nil, nil)

	// The province: the parent's stand-in, itself, a member; three
	// indicators of its own and the peer.
	cli("org", "add", "--data", prov, "--code", "VNCERT", "--name", "Trung tâm Điều phối quốc gia", "--roles", "national_coordinator")
	cli("org", "add", "--data", prov, "--code", "HN", "--name", "Sở Hà Nội", "--parent", "VNCERT", "--roles", "provincial_response_unit")
	cli("org", "add", "--data", prov, "--code", "HNM", "--name", "Bệnh viện Hà Nội", "--parent", "HN", "--roles", "system_owner")
	cli("user", "add", "--data", prov, "--org", "HNM", "--username", "hnm-user", "--roles", "reporter", "--password-file", pw)
	now := time.Now().UTC()
	values := map[string]string{"AMBER": "198.51.100.71", "RED": "198.51.100.72", "AMBER+STRICT": "198.51.100.73"}
	var objs []map[string]any
	for label, v := range values {
		objs = append(objs, ind(v, label, now))
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objs})
	write(t, filepath.Join(dir, "bundle.json"), string(bundle))
	cli("import", "stix", "--data", prov, "--org", "HN", filepath.Join(dir, "bundle.json"))
	write(t, filepath.Join(dir, "token"), syncToken)
	out := cli("federation", "add", "--data", prov, "--org", "HN", "--parent-org", "VNCERT", "--name", "VNCERT",
		"--url", natURL+"taxii2/api/", "--secret-file", filepath.Join(dir, "token"), "--interval", "1m")
	if strings.Contains(out, syncToken) {
		t.Fatalf("the CLI printed the secret: %s", out)
	}
	step("province set up")
	provURL := serve(t, bin, prov)

	// The province's job syncs at start; wait for the AMBER indicator.
	seen := func() string {
		var page struct {
			Objects []map[string]any `json:"objects"`
		}
		taxiiGet(t, natURL, coordToken, "taxii2/api/collections/amber/objects/", &page)
		var b strings.Builder
		for _, o := range page.Objects {
			fmt.Fprintln(&b, o["pattern"])
		}
		return b.String()
	}
	deadline := time.Now().Add(40 * time.Second)
	for !strings.Contains(seen(), values["AMBER"]) {
		if time.Now().After(deadline) {
			t.Fatalf("the AMBER indicator did not reach the national instance:\n%s", cli("federation", "list", "--data", prov))
		}
		time.Sleep(300 * time.Millisecond)
	}
	step("AMBER indicator seen on the national instance")
	got := seen()
	for _, label := range []string{"RED", "AMBER+STRICT"} {
		if strings.Contains(got, values[label]) {
			t.Errorf("the %s indicator left the province", label)
		}
	}
	// Nothing RED or AMBER+STRICT is anywhere on the national instance
	// (the coordinator's scope is the whole network).
	var list struct {
		Items []struct {
			Value string `json:"value"`
		} `json:"items"`
	}
	apiJSON(t, natURL, coordToken, "GET", "api/v1/intel/indicators?limit=500", nil, &list)
	for _, i := range list.Items {
		if i.Value == values["RED"] || i.Value == values["AMBER+STRICT"] {
			t.Errorf("%s is on the national instance", i.Value)
		}
	}

	// The advisory reached the province's member.
	member := newWebClient(t, provURL)
	member.login(t, "hnm-user", password)
	deadline = time.Now().Add(20 * time.Second)
	for {
		body := member.get(t, "advisories")
		if strings.Contains(body, title) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the national advisory did not reach the province's member:\n%s", cli("federation", "list", "--data", prov))
		}
		time.Sleep(300 * time.Millisecond)
	}
	step("advisory seen by the province's member")
	if l := cli("federation", "list", "--data", prov); strings.Contains(l, syncToken) || !strings.Contains(l, "VNCERT") {
		t.Fatalf("federation list: %s", l)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serve starts "certnet serve" on a free loopback port and returns its
// URL (ending in /); the process is stopped at the end of the test.
func serve(t *testing.T, bin, data string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--data", data, "--addr", "127.0.0.1:0")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(data + ".log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		logs.Close()
		if t.Failed() {
			b, _ := os.ReadFile(data + ".log")
			t.Logf("log of %s:\n%s", filepath.Base(data), b)
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`running at (http://\S+/)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("certnet serve --data %s did not start", data)
	}
	return ""
}

// webClient is a browser: cookies, the last CSRF token.
type webClient struct {
	base string
	hc   *http.Client
	csrf string
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (c *webClient) read(t *testing.T, res *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	if res.StatusCode >= 400 {
		t.Fatalf("%s %s: %d\n%.2000s", res.Request.Method, res.Request.URL, res.StatusCode, b)
	}
	return string(b)
}

func (c *webClient) get(t *testing.T, path string) string {
	t.Helper()
	res, err := c.hc.Get(c.base + path)
	return c.read(t, res, err)
}

func (c *webClient) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	form.Set("_csrf", c.csrf)
	res, err := c.hc.PostForm(c.base+path, form)
	return c.read(t, res, err)
}

func (c *webClient) login(t *testing.T, user, password string) {
	t.Helper()
	c.get(t, "login")
	c.post(t, "login", url.Values{"username": {user}, "password": {password}, "next": {"/"}})
}

var tokenRe = regexp.MustCompile(`value="(cn_[^"]+)"`)

// webToken signs in on the web UI and makes an API token (read and
// write) on the profile page, as a person would.
func webToken(t *testing.T, base, user, password string) string {
	t.Helper()
	c := newWebClient(t, base)
	c.login(t, user, password)
	c.get(t, "profile/tokens")
	body := c.post(t, "profile/tokens", url.Values{"name": {"federation"}, "scopes": {"read", "write"}, "days": {"30"}})
	m := tokenRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token on the answer:\n%.2000s", body)
	}
	return m[1]
}

func apiJSON(t *testing.T, base, token, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}

func taxiiGet(t *testing.T, base, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("TAXII %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}
