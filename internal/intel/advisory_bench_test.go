package intel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// BenchmarkPublishWholeNetwork publishes an advisory to a network of 2 000
// member organisations (resolution, 2 000 recipient rows, the outbox
// message, the audit entry) and computes its rates.
func BenchmarkPublishWholeNetwork(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, testkit.NewSQLite(b))
	for i := range 2000 {
		sector := org.Sectors[i%len(org.Sectors)]
		f.create(org.Input{Code: fmt.Sprintf("M%04d", i), Name: fmt.Sprintf("Thành viên %d", i), ParentID: f.hn.ID, Sector: sector,
			Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	}
	nat := f.actor(f.national, policy.RoleCoordinator)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v, err := f.s.CreateAdvisory(ctx, nat, AdvisoryInput{Title: fmt.Sprintf("Cảnh báo %d", i), Summary: "x", Actions: "x",
			TLP: policy.TLPGreen, DeadlineAt: f.clock.Now().Add(72 * time.Hour), Targeting: Targeting{All: true}})
		if err != nil {
			b.Fatal(err)
		}
		if v, err = f.s.Publish(ctx, nat, v.ID); err != nil || len(v.RecipientOrgs) != 2003 {
			b.Fatalf("%d recipients, %v", len(v.RecipientOrgs), err)
		}
		if _, err := f.s.Rates(ctx, nat, v.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdvisoryListPage reads the first page of 50 of a member's
// advisory list among 1 000 AMBER advisories (each needs its recipients
// for the label, and the member's own recipient row).
func BenchmarkAdvisoryListPage(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, testkit.NewSQLite(b))
	nat := f.actor(f.national, policy.RoleCoordinator)
	for i := range 1000 {
		v, err := f.s.CreateAdvisory(ctx, nat, AdvisoryInput{Title: fmt.Sprintf("Cảnh báo %d", i), Summary: "x", Actions: "x",
			TLP: policy.TLPAmber, DeadlineAt: f.clock.Now().Add(72 * time.Hour), Targeting: Targeting{Orgs: []int64{f.hnm.ID, f.dn.ID}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
			b.Fatal(err)
		}
	}
	member := f.actor(f.hnm, policy.RoleReporter)
	b.ResetTimer()
	for b.Loop() {
		p, err := f.s.AdvisoriesPage(ctx, member, AdvisoryFilter{Limit: 50}, 0, 0)
		if err != nil || len(p.Rows) != 50 || p.Rows[0].Mine == nil {
			b.Fatalf("%d rows, %v", len(p.Rows), err)
		}
	}
}
