package infosys

import (
	"context"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Finding returns one finding of a system the actor may see.
func (s *Service) Finding(ctx context.Context, a policy.Actor, id int64) (Finding, error) {
	const op = "infosys: finding"
	f, err := scanFinding(s.DB.QueryRow(ctx, "SELECT "+findingCols+" FROM infosys_findings WHERE id = ?", id))
	if store.IsNoRows(err) {
		return Finding{}, errs.NotFound(op)
	}
	if err != nil {
		return Finding{}, errs.Internal(op, err)
	}
	sys, err := getSystem(ctx, s.DB, f.SystemID)
	if err != nil {
		return Finding{}, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return Finding{}, err
	}
	return f, nil
}
