package federation

import (
	"context"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/policy"
)

// State is a peer with what its page shows: how far behind it is.
type State struct {
	Peer
	// LastAdded is the latest date added pulled (over the collections);
	// Lag is now minus it (zero before any pull).
	LastAdded time.Time     `json:"last_added,omitzero"`
	Lag       time.Duration `json:"-"`
	LagSecs   int64         `json:"lag_seconds"`
	// PendingPush counts the objects changed since the last push that
	// will go up.
	PendingPush int `json:"pending_push"`
}

// State returns a peer's state.
func (s *Service) State(ctx context.Context, a policy.Actor, id int64) (State, error) {
	p, err := s.Get(ctx, a, id)
	if err != nil {
		return State{}, err
	}
	return s.state(ctx, p)
}

// States returns the state of every peer the actor may see.
func (s *Service) States(ctx context.Context, a policy.Actor) ([]State, error) {
	peers, err := s.List(ctx, a)
	if err != nil {
		return nil, err
	}
	out := make([]State, 0, len(peers))
	for _, p := range peers {
		st, err := s.state(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Service) state(ctx context.Context, p Peer) (State, error) {
	const op = "federation: state"
	st := State{Peer: p}
	for _, c := range p.PullCollections {
		cur, err := s.cursor(ctx, p.ID, "pull:"+c)
		if err != nil {
			return State{}, errs.Internal(op, err)
		}
		if cur.At.After(st.LastAdded) {
			st.LastAdded = cur.At
		}
	}
	if !st.LastAdded.IsZero() {
		st.Lag = max(0, s.now().Sub(st.LastAdded)).Truncate(time.Second)
		st.LagSecs = int64(st.Lag / time.Second)
	}
	if p.PushCollection != "" {
		for _, kind := range []string{intel.OutboundIndicators, intel.OutboundObjects} {
			cur, err := s.cursor(ctx, p.ID, "push:"+kind)
			if err != nil {
				return State{}, errs.Internal(op, err)
			}
			q, err := s.pushQuery(ctx, p, kind)
			if err != nil {
				return State{}, err
			}
			q.After, q.AfterID = cur.At, cur.LastID
			n, err := s.Intel.OutboundPending(ctx, q)
			if err != nil {
				return State{}, err
			}
			st.PendingPush += n
		}
	}
	return st, nil
}
