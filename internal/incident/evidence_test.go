package incident

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func countRows(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestEvidence(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		files := NewEvidenceStore(t.TempDir(), 1<<20)
		es := NewEvidences(f.s, files)
		member := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(member)

		content := []byte("GET /wp-login.php from 198.51.100.7\n")
		sum := sha256.Sum256(content)
		ev, err := es.Add(ctx, member, inc.Ref, EvidenceInput{Name: "198.51.100.7_capture.pcap", MediaType: "text/plain",
			Body: bytes.NewReader(content), Address: "203.0.113.5"})
		if err != nil {
			t.Fatal(err)
		}
		if ev.SHA256 != hex.EncodeToString(sum[:]) || ev.Size != int64(len(content)) || ev.TLP != inc.TLP {
			t.Fatalf("stored %+v", ev)
		}
		// The file is at its content address.
		if b, err := os.ReadFile(files.Path(ev.SHA256)); err != nil || !bytes.Equal(b, content) {
			t.Fatalf("stored bytes: %v", err)
		}
		// Same content again: de-duplicated on disk, a second row.
		if _, err := es.Add(ctx, member, inc.Ref, EvidenceInput{Name: "copy.log", Body: bytes.NewReader(content)}); err != nil {
			t.Fatal(err)
		}
		if n := len(storedFiles(t, files.Dir)); n != 1 {
			t.Fatalf("%d files stored, want 1", n)
		}
		// Observables from the name, event on the timeline.
		obs, _ := f.s.Observables(ctx, member, inc.Ref)
		found := false
		for _, o := range obs {
			if o.Kind == ObsIPv4 && o.Value == "198.51.100.7" && o.Source == SourceFileName {
				found = true
			}
		}
		if !found {
			t.Fatalf("observable of the name missing: %+v", obs)
		}
		evs, _ := loadEvents(ctx, db, inc.ID)
		if evs[len(evs)-1].Kind != EventEvidenceAdded {
			t.Fatalf("last event %s", evs[len(evs)-1].Kind)
		}

		// View and download, verified.
		got, log, err := es.Get(ctx, member, ev.ID, "203.0.113.5")
		if err != nil || got.ID != ev.ID {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].Action != CustodyAdd || log[1].Action != CustodyView || log[0].Address != "203.0.113.5" {
			t.Fatalf("custody %+v", log)
		}
		_, rc, err := es.Open(ctx, member, ev.ID, "203.0.113.5")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, content) {
			t.Fatalf("download: %v", err)
		}
		log, _ = es.Custody(ctx, member, ev.ID)
		if len(log) != 3 || log[2].Action != CustodyDownload || log[2].UserID != member.UserID {
			t.Fatalf("custody %+v", log)
		}

		// Someone of another organisation: not found, and no custody line.
		other := f.actor(f.dnm, policy.RoleAdmin)
		for _, err := range []error{
			func() error { _, _, err := es.Get(ctx, other, ev.ID, ""); return err }(),
			func() error { _, _, err := es.Open(ctx, other, ev.ID, ""); return err }(),
			func() error {
				_, err := es.Add(ctx, other, inc.Ref, EvidenceInput{Name: "x.txt", Body: strings.NewReader("x")})
				return err
			}(),
		} {
			if !errs.Is(err, errs.KindNotFound) {
				t.Fatalf("other org: %v", err)
			}
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM evidence_custody WHERE evidence_id = ?", ev.ID); n != 3 {
			t.Fatalf("%d custody rows", n)
		}

		// A corrupted file is detected while it is read.
		if err := os.WriteFile(files.Path(ev.SHA256), []byte("tampered"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, rc, err = es.Open(ctx, member, ev.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(rc); err != ErrCorrupt {
			t.Fatalf("corrupt read: %v", err)
		}
		rc.Close()
		f.verifyAudit()
	})
}

func TestEvidenceRefused(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		files := NewEvidenceStore(t.TempDir(), DefaultMaxEvidence)
		es := NewEvidences(f.s, files)
		member := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(member)
		events := f.timelineLen(inc.ID)

		// 200 MB of zeros, never written to the repository: refused, nothing kept.
		_, err := es.Add(ctx, member, inc.Ref, EvidenceInput{Name: "dump.bin", Body: io.LimitReader(zeros{}, 200<<20)})
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || !e.Has("file") {
			t.Fatalf("200 MB: %v", err)
		}
		for _, name := range []string{"../x", "a/b", `C:\x`, "\x00", "", "  ", "x\ny", "a\u202Eexe.txt", strings.Repeat("a", 256), ".."} {
			_, err := es.Add(ctx, member, inc.Ref, EvidenceInput{Name: name, Body: strings.NewReader("data")})
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || !e.Has("name") {
				t.Fatalf("name %q: %v", name, err)
			}
		}
		// Looser label than the incident's.
		if _, err := es.Add(ctx, member, inc.Ref, EvidenceInput{Name: "a.txt", TLP: policy.TLPClear, Body: strings.NewReader("x")}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("looser TLP: %v", err)
		}
		// A viewer may not add.
		if _, err := es.Add(ctx, f.actor(f.hnm, policy.RoleViewer), inc.Ref, EvidenceInput{Name: "a.txt", Body: strings.NewReader("x")}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer: %v", err)
		}
		if n := len(storedFiles(t, files.Dir)); n != 0 {
			t.Fatalf("%d files left behind", n)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM evidence"); n != 0 {
			t.Fatalf("%d rows", n)
		}
		if f.timelineLen(inc.ID) != events {
			t.Fatal("timeline changed")
		}
	})
}

// TestEvidenceFileBeforeRow: when the row's transaction fails the file is
// already durable (an orphan at worst), never a row without its file.
func TestEvidenceFileBeforeRow(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		files := NewEvidenceStore(t.TempDir(), 1<<20)
		es := NewEvidences(f.s, files)
		member := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(member)
		// Make the insert fail after the file is stored: a name the store
		// accepts but the table refuses cannot be made, so drop the custody
		// table's ability to take rows by deleting the incident mid-way.
		content := []byte("crash window")
		body := &hookReader{r: bytes.NewReader(content), atEOF: func() {
			if _, err := db.Exec(ctx, "DELETE FROM incident_observables WHERE incident_id = ?", inc.ID); err != nil {
				t.Error(err)
			}
			if _, err := db.Exec(ctx, "DELETE FROM incident_events WHERE incident_id = ?", inc.ID); err != nil {
				t.Error(err)
			}
			if _, err := db.Exec(ctx, "DELETE FROM incident_reports WHERE incident_id = ?", inc.ID); err != nil {
				t.Error(err)
			}
			if _, err := db.Exec(ctx, "DELETE FROM incidents WHERE id = ?", inc.ID); err != nil {
				t.Error(err)
			}
		}}
		if _, err := es.Add(ctx, member, inc.Ref, EvidenceInput{Name: "a.log", Body: body}); err == nil {
			t.Fatal("added to a vanished incident")
		}
		sum := sha256.Sum256(content)
		if _, err := os.Stat(files.Path(hex.EncodeToString(sum[:]))); err != nil {
			t.Fatalf("file not durable before the row: %v", err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM evidence"); n != 0 {
			t.Fatalf("%d rows", n)
		}

		// The sweep removes the orphan once it is older than the grace
		// period, and keeps files rows refer to.
		inc2 := f.mustCreate(member)
		kept, err := es.Add(ctx, member, inc2.Ref, EvidenceInput{Name: "kept.log", Body: strings.NewReader("kept")})
		if err != nil {
			t.Fatal(err)
		}
		orphan := files.Path(hex.EncodeToString(sum[:]))
		if n, err := es.Sweep(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("sweep of fresh files: %d, %v", n, err)
		}
		old := f.clock.Now().Add(-2 * time.Hour)
		for _, p := range []string{orphan, files.Path(kept.SHA256)} {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		// An unfinished upload goes too; a file that is not the store's stays.
		upload, other := filepath.Join(files.Dir, ".upload-123"), filepath.Join(files.Dir, "README")
		for _, p := range []string{upload, other} {
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := es.Sweep(ctx, time.Hour); err != nil || n != 2 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		if _, err := os.Stat(orphan); !os.IsNotExist(err) {
			t.Fatal("orphan kept")
		}
		if _, err := os.Stat(upload); !os.IsNotExist(err) {
			t.Fatal("unfinished upload kept")
		}
		if _, err := os.Stat(other); err != nil {
			t.Fatal("a file not the store's removed")
		}
		if _, err := os.Stat(files.Path(kept.SHA256)); err != nil {
			t.Fatal("referenced file removed")
		}
	})
}

type hookReader struct {
	r     io.Reader
	atEOF func()
	done  bool
}

func (h *hookReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if err == io.EOF && !h.done {
		h.done = true
		h.atEOF()
	}
	return n, err
}

func FuzzFileNameProblem(f *testing.F) {
	for _, s := range []string{"report.pdf", "../x", "a/b", `C:\x`, "\x00", "nhật ký.log", "a\u202Etxt.exe", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if FileNameProblem(name) != "" {
			return
		}
		if strings.ContainsAny(name, `/\`) || filepath.Base(name) != name || len(name) > MaxFileName || name == ".." {
			t.Fatalf("accepted %q", name)
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted control in %q", name)
			}
		}
	})
}

// BenchmarkEvidenceAdd measures an upload of 8 MB: streamed, hashed,
// synced, renamed into the store and recorded (row, custody, timeline,
// audit) on SQLite. Each iteration's content differs (no de-duplication).
func BenchmarkEvidenceAdd(b *testing.B) {
	db := testkit.NewSQLite(b)
	f := newFixture(b, db)
	es := NewEvidences(f.s, NewEvidenceStore(b.TempDir(), DefaultMaxEvidence))
	member := f.actor(f.hnm, policy.RoleReporter)
	inc := f.mustCreate(member)
	const size = 8 << 20
	data := bytes.Repeat([]byte("certnet evidence "), size/17+1)[:size]
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		data[0], data[1] = byte(i), byte(i>>8)
		if _, err := es.Add(context.Background(), member, inc.Ref, EvidenceInput{Name: "dump.bin", Body: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}
