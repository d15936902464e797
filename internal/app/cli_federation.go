package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"certnet/internal/federation"
)

// runFederation: certnet federation add|list|sync|remove — this
// instance's parent over TAXII 2.1.
func runFederation(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want a subcommand: add, list, sync, remove")
	}
	sub, rest := args[0], args[1:]
	fs, cfg, finish := newFlags("federation "+sub, 0, stderr)
	var (
		orgCode, parentCode, name, root, push, pull, kind, username, secretFile string
		interval                                                                time.Duration
		disabled, all                                                           bool
	)
	switch sub {
	case "add":
		fs.StringVar(&orgCode, "org", "", "member code of the local organisation whose objects go up (required)")
		fs.StringVar(&parentCode, "parent-org", "", "member code of the local organisation that stands for the parent (required)")
		fs.StringVar(&name, "name", "", "name of the peer (required)")
		fs.StringVar(&root, "url", "", "the parent's TAXII API root, e.g. https://vncert.example/taxii2/api/ (required)")
		fs.StringVar(&push, "push", federation.DefaultPushCollection, "collection (id or alias) to push to; empty pushes nothing")
		fs.StringVar(&pull, "pull", strings.Join(federation.DefaultPullCollections, ","), "collections to pull from, comma-separated; empty pulls nothing")
		fs.StringVar(&kind, "auth", federation.AuthBearer, "bearer (a certnet API token of the parent) or basic")
		fs.StringVar(&username, "username", "", "user name on the parent (basic)")
		fs.StringVar(&secretFile, "secret-file", "", "file holding the token or password (or env CERTNET_FEDERATION_SECRET)")
		fs.DurationVar(&interval, "interval", 15*time.Minute, "how often to sync")
		fs.BoolVar(&disabled, "disabled", false, "add the peer without syncing it on schedule")
	case "list":
	case "sync":
		fs.BoolVar(&all, "all", false, "sync every peer")
	case "remove":
	default:
		return usagef("unknown subcommand %q: want add, list, sync, remove", sub)
	}
	if err := parse(fs, rest, finish); err != nil {
		return err
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	actor := cliActor()
	svc := a.Federation
	switch sub {
	case "add":
		if orgCode == "" || parentCode == "" || name == "" || root == "" {
			return usagef("--org, --parent-org, --name and --url are required")
		}
		o, err := a.Orgs.GetByCode(ctx, actor, orgCode)
		if err != nil {
			return fmt.Errorf("organisation %q: %w", orgCode, err)
		}
		po, err := a.Orgs.GetByCode(ctx, actor, parentCode)
		if err != nil {
			return fmt.Errorf("organisation %q: %w", parentCode, err)
		}
		secret := strings.TrimSpace(os.Getenv("CERTNET_FEDERATION_SECRET"))
		if secretFile != "" {
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return fmt.Errorf("--secret-file: %w", err)
			}
			secret = strings.TrimSpace(string(b))
		}
		if secret == "" {
			return usagef("the secret is required: --secret-file FILE or CERTNET_FEDERATION_SECRET")
		}
		p, err := svc.Create(ctx, actor, federation.PeerInput{OrgID: o.ID, ParentOrgID: po.ID, Name: name, APIRoot: root,
			PushCollection: push, PullCollections: []string{pull}, AuthKind: kind, Username: username, Secret: secret,
			Interval: interval, Enabled: !disabled})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "peer %s (id %d) added: %s, push %q, pull %s, every %s, secret %s\n", p.Name, p.ID, p.APIRoot,
			p.PushCollection, strings.Join(p.PullCollections, ","), p.Interval, p.Masked)
	case "list":
		states, err := svc.States(ctx, actor)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tURL\tENABLED\tLAST SUCCESS\tLAG\tPENDING PUSH\tPUSHED\tPULLED\tADVISORIES\tLAST ERROR")
		for _, s := range states {
			lag := "-"
			if !s.LastAdded.IsZero() {
				lag = s.Lag.String()
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", s.ID, s.Name, s.APIRoot, s.Enabled, when(s.LastSuccessAt), lag,
				s.PendingPush, s.Pushed, s.Pulled, s.Advisories, clipText(s.LastError, 80))
		}
		tw.Flush()
	case "sync":
		var ids []int64
		switch {
		case all:
			peers, err := svc.List(ctx, actor)
			if err != nil {
				return describe(err)
			}
			for _, p := range peers {
				ids = append(ids, p.ID)
			}
		case fs.NArg() == 1:
			id, err := peerID(ctx, svc, fs.Arg(0))
			if err != nil {
				return err
			}
			ids = append(ids, id)
		default:
			return usagef("usage: certnet federation sync ID|NAME | --all")
		}
		failed := 0
		for _, id := range ids {
			rep, err := svc.SyncNow(ctx, actor, id)
			if err != nil {
				failed++
				fmt.Fprintf(stderr, "peer %d: %v\n", id, describe(err))
				continue
			}
			fmt.Fprintf(stdout, "peer %d: pushed %d (refused %d), pulled %d (rejected %d, own %d skipped), advisories %d, pages %d\n",
				id, rep.Pushed, rep.Refused, rep.Pulled, rep.Rejected, rep.Skipped, rep.Advisories, rep.Pages)
			for _, p := range rep.Problems {
				fmt.Fprintf(stdout, "  %s\n", p)
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d peers failed", failed, len(ids))
		}
	case "remove":
		if fs.NArg() != 1 {
			return usagef("usage: certnet federation remove ID|NAME")
		}
		id, err := peerID(ctx, svc, fs.Arg(0))
		if err != nil {
			return err
		}
		if err := svc.Delete(ctx, actor, id); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "peer %d removed\n", id)
	}
	return nil
}

// peerID reads a peer's id or name.
func peerID(ctx context.Context, svc *federation.Service, arg string) (int64, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		return id, nil
	}
	peers, err := svc.List(ctx, cliActor())
	if err != nil {
		return 0, describe(err)
	}
	for _, p := range peers {
		if p.Name == arg {
			return p.ID, nil
		}
	}
	return 0, fmt.Errorf("no peer named %q", arg)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
