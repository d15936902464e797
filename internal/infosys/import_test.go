package infosys

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func readInventorySample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "import", "inventory.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countSystems(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM infosys_systems").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// problemsByLine flattens a report's problems as "line:column:key".
func problemsByLine(rep SystemImport) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, strconv.Itoa(p.Line)+":"+p.Column+":"+p.Key)
	}
	return out
}

func TestImportSystems(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		admin := f.actor(f.hosp, policy.RoleAdmin)
		sample := readInventorySample(t)

		// The preview: every row checked, nothing written.
		var progress []int
		rep, err := f.s.ImportSystems(ctx, admin, bytes.NewReader(sample), ImportOptions{DryRun: true,
			Progress: func(done, total int) { progress = append(progress, done*100+total) }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 6 || rep.Created != 2 || rep.Skipped != 4 || len(progress) != 6 || progress[5] != 606 {
			t.Fatalf("preview %+v progress %v", rep, progress)
		}
		got := strings.Join(problemsByLine(rep), " ")
		for _, want := range []string{"4:addresses:infosys.err.address_outside", "5:owner_code:infosys.import.err.owner",
			"6:name:infosys.import.err.duplicate", "7:national_critical:infosys.import.err.bool", "7:personal_count:infosys.err.number",
			"7:level:infosys.import.err.level"} {
			if !strings.Contains(got, want) {
				t.Errorf("preview problems %s: want %s", got, want)
			}
		}
		if rep.Items[0].Action != ImportCreate || rep.Items[0].Level != 3 || rep.Items[0].DataKind != DataPersonal {
			t.Fatalf("first row %+v", rep.Items[0])
		}
		if n := countSystems(t, db); n != 0 {
			t.Fatalf("preview wrote %d systems", n)
		}
		// Confirmed without skipping the bad rows: refused, nothing written.
		rep, err = f.s.ImportSystems(ctx, admin, bytes.NewReader(sample), ImportOptions{})
		wantField(t, err, "file")
		if n := countSystems(t, db); n != 0 || rep.Skipped != 4 {
			t.Fatalf("refused import wrote %d systems: %+v", n, rep)
		}
		// Someone outside the owner's scope: every row refused for its owner but
		// its own organisation's.
		rep, err = f.s.ImportSystems(ctx, f.actor(f.dn, policy.RoleAdmin), bytes.NewReader(sample), ImportOptions{DryRun: true})
		if err != nil || rep.Created != 1 || rep.Items[3].Action != ImportCreate || !strings.Contains(strings.Join(problemsByLine(rep), " "), "2:owner_code:infosys.import.err.owner") {
			t.Fatalf("outsider %+v %v", rep, err)
		}
		// A viewer may not import at all.
		_, err = f.s.ImportSystems(ctx, f.actor(f.hosp, policy.RoleViewer), bytes.NewReader(sample), ImportOptions{DryRun: true})
		if err == nil {
			t.Fatal("a viewer imported")
		}
		// A coordinator may import but not set an approved level.
		rep, err = f.s.ImportSystems(ctx, f.actor(f.hosp, policy.RoleCoordinator), bytes.NewReader(sample), ImportOptions{DryRun: true})
		if err != nil || !strings.Contains(strings.Join(problemsByLine(rep), " "), "2:level:infosys.import.err.level_authority") {
			t.Fatalf("coordinator %+v %v", rep, err)
		}

		// Confirmed, skipping the bad rows: one transaction.
		rep, err = f.s.ImportSystems(ctx, admin, bytes.NewReader(sample), ImportOptions{SkipBad: true})
		if err != nil || rep.Created != 2 || rep.Skipped != 4 {
			t.Fatalf("import %+v %v", rep, err)
		}
		his, err := f.s.System(ctx, admin, rep.Items[0].SystemID)
		if err != nil {
			t.Fatal(err)
		}
		if his.Level != 3 || his.PersonalCount != 50_000 || his.Users != 1200 || !his.PlanDeployed ||
			his.LevelApprovedOn.In(Local).Format(time.DateOnly) != "2025-03-15" || strings.Join(his.Domains, ",") != "his.benhvien.vn" {
			t.Fatalf("imported system %+v", his)
		}
		// Imported again with more users: updated, and the change kept
		// in the level history (it bears on the level).
		again := strings.Replace(string(sample), ",1200,", ",25000,", 1)
		rep, err = f.s.ImportSystems(ctx, admin, strings.NewReader(again), ImportOptions{SkipBad: true})
		if err != nil || rep.Updated != 2 || rep.Created != 0 {
			t.Fatalf("re-import %+v %v", rep, err)
		}
		hist, reclass, err := f.s.LevelHistory(ctx, admin, his.ID)
		if err != nil || len(hist) != 1 || hist[0].Kind != HistoryChange || strings.Join(hist[0].Fields, ",") != "users" || hist[0].Level != 3 || !reclass {
			t.Fatalf("history %+v reclass %v err %v", hist, reclass, err)
		}
		if n := countSystems(t, db); n != 2 {
			t.Fatalf("%d systems", n)
		}

		// An XLSX workbook: lines are worksheet rows.
		x := excelize.NewFile()
		for i, row := range [][]string{{"Mã chủ quản", "Tên hệ thống", "Loại dữ liệu", "Số người dùng"}, {}, {"HNM", "Hệ thống thư điện tử", "public", "300"},
			{"HNM", "", "public", ""}} {
			for j, v := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				x.SetCellStr("Sheet1", cell, v)
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		rep, err = f.s.ImportSystems(ctx, admin, bytes.NewReader(buf.Bytes()), ImportOptions{SkipBad: true})
		if err != nil || rep.Created != 1 || rep.Skipped != 1 || rep.Problems[0].Line != 4 || rep.Problems[0].Column != "name" {
			t.Fatalf("xlsx %+v %v", rep, err)
		}

		// Broken files are refused whole.
		for _, body := range []string{"", "owner_code\nHNM\n", "owner_code,name,colour\nHNM,x,red\n", "owner_code,name,name\n",
			"owner_code,name\n\"HNM,x\n", "owner_code,name\n\xff\xfe,x\n", "PK\x03\x04broken"} {
			_, err := f.s.ImportSystems(ctx, admin, strings.NewReader(body), ImportOptions{SkipBad: true})
			wantField(t, err, "file")
		}
		if n := countSystems(t, db); n != 3 {
			t.Fatalf("%d systems after broken files", n)
		}
		// The template reads back as an import with its example row.
		tpl, err := InventoryTemplate("Hướng dẫn", func(c string) string { return "help " + c }, map[string]string{"owner_code": "HNM", "name": "Hệ thống mẫu", "data_kind": "public"})
		if err != nil {
			t.Fatal(err)
		}
		rep, err = f.s.ImportSystems(ctx, admin, bytes.NewReader(tpl), ImportOptions{DryRun: true})
		if err != nil || rep.Created != 1 {
			t.Fatalf("template %+v %v", rep, err)
		}
	})
}

func FuzzParseInventory(f *testing.F) {
	f.Add(readInventorySample(f))
	f.Add([]byte("owner_code;name;level\nHNM;x;3\n"))
	f.Add([]byte("\ufeffMã chủ quản\tTên hệ thống\nHNM\tx\textra\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseInventory("", data)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || !e.Has("file") || recs != nil {
				t.Fatalf("error %v with %d records", err, len(recs))
			}
			return
		}
		if len(recs) > MaxImportRows {
			t.Fatalf("%d records", len(recs))
		}
		last := 0
		for _, r := range recs {
			if r.Line <= last {
				t.Fatalf("lines not increasing: %d after %d", r.Line, last)
			}
			last = r.Line
			for k, v := range r.Cells {
				if importColumn(k) != k || v != strings.TrimSpace(v) {
					t.Fatalf("cell %q=%q", k, v)
				}
			}
		}
	})
}

// BenchmarkImportSystems imports 5 000 rows (the limit) of a CSV inventory
// in one transaction on the engine under test.
func BenchmarkImportSystems(b *testing.B) {
	db := testkit.NewSQLite(b)
	f := newFixture(b, db)
	admin := f.actor(f.hosp, policy.RoleAdmin)
	var sb strings.Builder
	sb.WriteString("owner_code,name,data_kind,personal_count,users,addresses,domains\n")
	for i := range MaxImportRows {
		fmt.Fprintf(&sb, "HNM,Hệ thống %d,personal,%d,%d,203.0.113.%d,s%d.benhvien.vn\n", i, 1000+i, 10+i, i%250+1, i)
	}
	data := []byte(sb.String())
	b.ResetTimer()
	for range b.N {
		rep, err := f.s.ImportSystems(context.Background(), admin, bytes.NewReader(data), ImportOptions{})
		if err != nil || rep.Created+rep.Updated != MaxImportRows {
			b.Fatalf("%+v %v", rep.Skipped, err)
		}
	}
	b.ReportMetric(float64(MaxImportRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
