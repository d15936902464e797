package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	finish := c.Flags(fs, StoreFlags|ServerFlags)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	// apply with a fake environment
	var file string
	if f := fs.Lookup("config"); f != nil {
		file = f.Value.String()
	}
	_ = finish
	err := c.apply(fs, file, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return c, err
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "certnet.conf")
	secret := filepath.Join(dir, "db.secret")
	os.WriteFile(secret, []byte("postgres://u:p@h/db\n"), 0o600)
	os.WriteFile(cfgFile, []byte("# comment\naddr = 127.0.0.1:9000\nlog_level = \"warn\"\ndb_file = "+secret+"\n"), 0o600)

	c, err := parse(t, []string{"--config", cfgFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.LogLevel != "warn" || c.DB != "postgres://u:p@h/db" {
		t.Fatalf("file values not applied: %+v", c)
	}
	c, err = parse(t, []string{"--config", cfgFile}, map[string]string{"CERTNET_ADDR": "127.0.0.1:9100"})
	if err != nil || c.Addr != "127.0.0.1:9100" {
		t.Fatalf("env must beat file: %v %s", err, c.Addr)
	}
	c, err = parse(t, []string{"--config", cfgFile, "--addr", "127.0.0.1:9200"}, map[string]string{"CERTNET_ADDR": "127.0.0.1:9100"})
	if err != nil || c.Addr != "127.0.0.1:9200" {
		t.Fatalf("flag must beat env: %v %s", err, c.Addr)
	}
}

func TestBadValues(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--addr", "nonsense"}, nil, "--addr"},
		{[]string{"--db", "mysql://x"}, nil, "--db"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{nil, map[string]string{"CERTNET_MAX_BODY": "12"}, "--max-body"},
		{nil, map[string]string{"CERTNET_DB_FILE": "/nonexistent/secret"}, "CERTNET_DB_FILE"},
		{[]string{"--tls-cert", "a.pem"}, nil, "go together"},
	}
	for _, c := range cases {
		_, err := parse(t, c.args, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want error mentioning %q", c.args, c.env, err, c.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	if _, err := Parse("x", []byte("novalue\n")); err == nil {
		t.Fatal("line without = accepted")
	}
	if _, err := Parse("x", []byte("a=1\na=2\n")); err == nil {
		t.Fatal("duplicate accepted")
	}
	m, err := Parse("x", []byte("\n# c\nA = \"b c\"\n"))
	if err != nil || m["a"] != "b c" {
		t.Fatalf("%v %v", m, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("addr = 127.0.0.1:8080\n# x\n"))
	f.Add([]byte("a=\"\"\n=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse("fuzz", b)
		if err == nil {
			for k := range m {
				if k == "" {
					t.Fatal("empty key accepted")
				}
			}
		}
	})
}
