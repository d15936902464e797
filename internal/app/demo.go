package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"certnet/internal/demo"
	"certnet/internal/store"
)

// seedDemo seeds the demo network once and prints its users' credentials.
func (a *App) seedDemo(ctx context.Context, w io.Writer) error {
	res, err := demo.Seed(ctx, a.DB, a.Orgs, a.Auth, a.Now())
	if err != nil {
		return err
	}
	n, err := demo.SeedIncidents(ctx, a.DB, a.Orgs, a.Auth, a.Incidents, a.Now())
	if err != nil {
		return fmt.Errorf("demo incidents: %w", err)
	}
	if n > 0 {
		fmt.Fprintf(w, "demo incidents added: %d\n", n)
	}
	if n, err := demo.SeedEvidence(ctx, a.DB, a.Auth, a.Incidents, a.Evidence, a.Public, a.Now()); err != nil {
		return fmt.Errorf("demo evidence: %w", err)
	} else if n > 0 {
		fmt.Fprintf(w, "demo evidence, tasks and public reports added: %d\n", n)
	}
	if n, err := demo.SeedReadiness(ctx, a.DB, a.Readiness, a.Now()); err != nil {
		return fmt.Errorf("demo readiness: %w", err)
	} else if n > 0 {
		fmt.Fprintf(w, "demo readiness (team, people, rota, SIM3, drills) added: %d\n", n)
	}
	if n, err := demo.SeedOrders(ctx, a.DB, a.Auth, a.Incidents, a.Now()); err != nil {
		return fmt.Errorf("demo orders: %w", err)
	} else if n > 0 {
		fmt.Fprintf(w, "demo coordination orders, responses and effort added: %d\n", n)
	}
	if n, err := demo.SeedAdvisories(ctx, a.DB, a.Auth, a.Orgs.WhoisIndex, a.Now()); err != nil {
		return fmt.Errorf("demo advisories: %w", err)
	} else if n > 0 {
		fmt.Fprintf(w, "demo advisories, acknowledgements and reports added: %d\n", n)
	}
	if n, err := demo.SeedInfosys(ctx, a.DB, a.Now()); err != nil {
		return fmt.Errorf("demo information systems: %w", err)
	} else if n > 0 {
		fmt.Fprintf(w, "demo information systems, level dossiers and scan findings added: %d\n", n)
	}
	if n, err := demo.SeedWarnings(ctx, a.DB, a.Ingest, a.Warning, a.Now()); err != nil {
		return fmt.Errorf("demo early warning: %w", err)
	} else if n > 0 {
		fmt.Fprintf(w, "demo SOC sources, their counters and early warnings added: %d\n", n)
	}
	// The demo's passwords are kept, readable by the operator only, in the
	// data folder, so that a second start can print them again. Only the demo
	// does this; real users' passwords exist nowhere but in their heads.
	credFile := filepath.Join(a.Cfg.Data, "demo-credentials.txt")
	if !res.Seeded {
		b, err := os.ReadFile(credFile)
		if err != nil {
			fmt.Fprintln(w, "demo network already seeded; reset a password with: certnet user passwd USERNAME")
			return nil
		}
		fmt.Fprintf(w, "demo network already seeded. Sign in with:\n%s", b)
		return nil
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tPASSWORD\tROLE\tORGANISATION")
	for _, c := range res.Credentials {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Username, c.Password, c.Role, c.Org)
	}
	tw.Flush()
	if a.DB.Engine == store.SQLite {
		if err := os.WriteFile(credFile, buf.Bytes(), 0o600); err != nil {
			a.Log.Warn("demo: keep credentials", "err", err)
		}
	}
	fmt.Fprintf(w, "demo network seeded: %d organisations, %d users. Sign in with:\n%s", res.Orgs, res.Users, buf.Bytes())
	return nil
}
