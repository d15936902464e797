package app

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// run runs the command line in-process and returns exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIRegistryUsersAuditBackup(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	t.Setenv("CERTNET_LANG", "en")

	code, out, errs := run(t, "migrate", "--data", data)
	if code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	code, out, errs = run(t, "org", "add", "--data", data, "--code", "VNCERT", "--name", "Trung tâm Điều phối", "--roles", "national_coordinator")
	if code != 0 {
		t.Fatalf("org add: %d %s %s", code, out, errs)
	}
	// Duplicate member code: refused with a message naming the field.
	code, _, errs = run(t, "org", "add", "--data", data, "--code", "VNCERT", "--name", "Khác", "--roles", "voluntary_member")
	if code == 0 || !strings.Contains(errs, "code") {
		t.Fatalf("duplicate code accepted: %d %s", code, errs)
	}

	csvPath := filepath.Join(dir, "orgs.csv")
	os.WriteFile(csvPath, []byte("code,name,parent_code,roles,region\nHNI-RU,Sở Khoa học và Công nghệ Hà Nội,VNCERT,provincial_response_unit,north\nISP-1,Công ty Viễn thông Sao Mai,VNCERT,isp,north\n"), 0o600)
	code, out, errs = run(t, "org", "import", "--data", data, "--kind", "orgs", csvPath)
	if code != 0 || !strings.Contains(out, "imported 2") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	bad := filepath.Join(dir, "ranges.csv")
	os.WriteFile(bad, []byte("org_code,value,note\nHNI-RU,203.0.113.0/24,portal\nISP-1,10.0.0.0/33,broken\n"), 0o600)
	code, _, errs = run(t, "org", "import", "--data", data, "--kind", "ranges", bad)
	if code == 0 || !strings.Contains(errs, "ranges.csv:3") {
		t.Fatalf("bad row must fail the import and name file:line: %d %s", code, errs)
	}
	// Nothing was imported: whois finds nobody.
	if code, _, _ = run(t, "org", "whois", "--data", data, "203.0.113.7"); code == 0 {
		t.Fatal("a failed import must import nothing")
	}
	code, out, errs = run(t, "org", "import", "--data", data, "--kind", "ranges", "--skip-bad", bad)
	if code != 0 || !strings.Contains(out, "imported 1") {
		t.Fatalf("--skip-bad: %d %s %s", code, out, errs)
	}
	code, out, errs = run(t, "org", "whois", "--data", data, "203.0.113.7")
	if code != 0 || !strings.Contains(out, "HNI-RU") || !strings.Contains(out, "VNCERT") {
		t.Fatalf("whois: %d %s %s", code, out, errs)
	}

	code, out, _ = run(t, "org", "overlaps", "--data", data)
	if code != 0 || !strings.Contains(out, "0 overlapping") {
		t.Fatalf("overlaps: %d %s", code, out)
	}

	code, out, errs = run(t, "user", "add", "--data", data, "--org", "HNI-RU", "--username", "an.nguyen", "--roles", "analyst")
	if code != 0 || !strings.Contains(out, "password: ") {
		t.Fatalf("user add: %d %s %s", code, out, errs)
	}
	code, out, _ = run(t, "user", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "an.nguyen") {
		t.Fatalf("user list: %d %s", code, out)
	}
	if code, out, errs = run(t, "user", "disable", "--data", data, "an.nguyen"); code != 0 {
		t.Fatalf("user disable: %d %s %s", code, out, errs)
	}

	code, out, _ = run(t, "audit", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %d %s", code, out)
	}

	backup := filepath.Join(dir, "b.db")
	code, out, errs = run(t, "backup", "--data", data, "--out", backup)
	if code != 0 || !strings.Contains(out, "integrity ok") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}

	// Tamper with the audit log: verify names the entry.
	db, err := sql.Open("sqlite", filepath.Join(data, "certnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ = run(t, "audit", "verify", "--data", data)
	if code == 0 || !strings.Contains(out, "BROKEN at entry 2") {
		t.Fatalf("tampering not detected: %d %s", code, out)
	}

	// Restore the backup: the chain is whole again.
	if code, _, errs = run(t, "restore", "--data", data, backup); code == 0 {
		t.Fatalf("restore over an existing database without --force must refuse: %s", errs)
	}
	code, out, errs = run(t, "restore", "--data", data, "--force", backup)
	if code != 0 {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	code, out, _ = run(t, "audit", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("after restore: %d %s", code, out)
	}
}

func TestCLIUsage(t *testing.T) {
	if code, _, _ := run(t); code != 2 {
		t.Fatal("no command must be a usage error")
	}
	if code, _, errs := run(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatal("unknown command")
	}
	code, _, errs := run(t, "serve", "--help")
	if code != 0 || !strings.Contains(errs, "CERTNET_ADDR") || !strings.Contains(errs, "--data") && !strings.Contains(errs, "-data") {
		t.Fatalf("serve --help must document flags and env: %d %s", code, errs)
	}
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "certnet ") {
		t.Fatal("version")
	}
	if code, _, errs := run(t, "serve", "--addr", "nonsense"); code == 0 || !strings.Contains(errs, "--addr") {
		t.Fatalf("bad --addr: %d %s", code, errs)
	}
}
