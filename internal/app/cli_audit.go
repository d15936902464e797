package app

import (
	"context"
	"fmt"
	"io"

	"certnet/internal/audit"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usagef("usage: certnet audit verify [--data DIR | --db URL]")
	}
	fs, cfg, finish := newFlags("audit verify", 0, stderr)
	if err := parse(fs, args[1:], finish); err != nil {
		return err
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := audit.Verify(ctx, a.DB, nil)
	if err != nil {
		return err
	}
	if res.Break != nil {
		fmt.Fprintf(stdout, "audit log BROKEN at entry %d: %s (%d entries before it are intact)\n", res.Break.Seq, res.Break.Reason, res.Checked)
		return fmt.Errorf("audit chain broken at entry %d", res.Break.Seq)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, last %d\n", res.Checked, res.LastSeq)
	return nil
}
