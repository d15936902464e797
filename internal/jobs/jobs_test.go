package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"certnet/internal/jobs"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestLeaseOneHolderAtATime(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC))
		a := jobs.New(db, clock.Now, nil)
		b := jobs.New(db, clock.Now, nil)
		var runsA, runsB int
		a.Every("sweep", time.Minute, func(ctx context.Context) error {
			runsA++
			// While a holds the lease, b may not run.
			ran, err := b.RunNow(ctx, "sweep")
			if err != nil || ran {
				t.Errorf("b ran during a's lease: ran=%v err=%v", ran, err)
			}
			return nil
		})
		b.Every("sweep", time.Minute, func(ctx context.Context) error { runsB++; return nil })
		if ran, err := a.RunNow(ctx, "sweep"); !ran || err != nil {
			t.Fatalf("a: ran=%v err=%v", ran, err)
		}
		// Released after the run: b may take it now.
		if ran, err := b.RunNow(ctx, "sweep"); !ran || err != nil {
			t.Fatalf("b after a: ran=%v err=%v", ran, err)
		}
		if runsA != 1 || runsB != 1 {
			t.Fatalf("runs a=%d b=%d", runsA, runsB)
		}
		// A failing run is recorded.
		c := jobs.New(db, clock.Now, nil)
		c.Every("broken", time.Minute, func(ctx context.Context) error { return errors.New("disk full") })
		if _, err := c.RunNow(ctx, "broken"); err == nil {
			t.Fatal("want the job's error")
		}
		c.Every("panics", time.Minute, func(ctx context.Context) error { panic("boom") })
		if _, err := c.RunNow(ctx, "panics"); err == nil {
			t.Fatal("want the panic as an error")
		}
		st, err := c.Statuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range st {
			got[s.Name] = s.LastError
			// Every job ran; only the one that did not fail has a last
			// success.
			if s.LastRun.IsZero() || s.LastOK.IsZero() != (s.Name != "sweep") {
				t.Errorf("%s: last run %v, last ok %v", s.Name, s.LastRun, s.LastOK)
			}
		}
		if got["broken"] != "disk full" || got["sweep"] != "" || got["panics"] == "" {
			t.Fatalf("statuses %+v", st)
		}
		if _, err := c.RunNow(ctx, "nope"); err == nil {
			t.Fatal("unknown job ran")
		}
	})
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC))
		dead := jobs.New(db, clock.Now, nil)
		other := jobs.New(db, clock.Now, nil)
		other.Every("sweep", time.Minute, func(ctx context.Context) error { return nil })
		// A node died holding the lease.
		dead.Every("sweep", time.Minute, func(ctx context.Context) error {
			if ran, _ := other.RunNow(ctx, "sweep"); ran {
				t.Error("took a live lease")
			}
			clock.Advance(3 * time.Minute) // the lease (2 minutes) expires
			if ran, err := other.RunNow(ctx, "sweep"); !ran || err != nil {
				t.Errorf("expired lease not taken: ran=%v err=%v", ran, err)
			}
			return nil
		})
		if _, err := dead.RunNow(ctx, "sweep"); err != nil {
			t.Fatal(err)
		}
	})
}
