package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"

	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func runOrg(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want a subcommand: add, list, import, whois, overlaps")
	}
	sub, rest := args[0], args[1:]
	fs, cfg, finish := newFlags("org "+sub, 0, stderr)
	var (
		code, name, nameEN, parent, roles, province, sector, region, q, kind, format string
		skipBad, dryRun                                                              bool
	)
	switch sub {
	case "add":
		fs.StringVar(&code, "code", "", "member code (required, unique)")
		fs.StringVar(&name, "name", "", "name in Vietnamese (required)")
		fs.StringVar(&nameEN, "name-en", "", "name in English")
		fs.StringVar(&parent, "parent", "", "member code of the parent organisation")
		fs.StringVar(&roles, "roles", "", "comma-separated network roles, e.g. provincial_response_unit")
		fs.StringVar(&province, "province", "", "province code")
		fs.StringVar(&region, "region", "", "north, central or south")
		fs.StringVar(&sector, "sector", "", "critical sector (sector CERTs)")
	case "list":
		fs.StringVar(&q, "q", "", "search name or code (diacritics ignored)")
		fs.StringVar(&roles, "role", "", "only this network role")
		fs.StringVar(&province, "province", "", "only this province code")
	case "import":
		fs.StringVar(&kind, "kind", "", "what the file holds: orgs, contacts or ranges (required)")
		fs.StringVar(&format, "format", "", "csv or xlsx (default: from the file name)")
		fs.BoolVar(&skipBad, "skip-bad", false, "import the good rows even when some rows are bad")
		fs.BoolVar(&dryRun, "dry-run", false, "check the file, import nothing")
	case "whois", "overlaps":
	default:
		return usagef("unknown subcommand %q: want add, list, import, whois, overlaps", sub)
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
	lang := cliLang()

	switch sub {
	case "add":
		in := org.Input{Code: code, Name: name, NameEN: nameEN, ProvinceCode: province, Region: region,
			Sector: org.Sector(sector), Active: true, TLP: policy.TLPGreen}
		for _, r := range strings.Split(roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				in.Roles = append(in.Roles, org.Role(r))
			}
		}
		if parent != "" {
			p, err := a.Orgs.GetByCode(ctx, actor, parent)
			if err != nil {
				return fmt.Errorf("parent %q: %w", parent, describe(err))
			}
			in.ParentID = p.ID
		}
		o, err := a.Orgs.Create(ctx, actor, in)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "organisation %s %q added (id %d)\n", o.Code, o.Name, o.ID)
	case "list":
		f := org.ListFilter{Q: q, Role: org.Role(roles), ProvinceCode: province, Limit: 100000, Sort: "code"}
		orgs, total, err := a.Orgs.List(ctx, actor, f)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tNAME\tROLES\tPROVINCE\tPARENT")
		for _, o := range orgs {
			rs := make([]string, len(o.Roles))
			for i, r := range o.Roles {
				rs[i] = string(r)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Code, o.Name, strings.Join(rs, ","), o.ProvinceName, o.ParentName)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d organisations\n", total)
	case "import":
		if fs.NArg() != 1 || kind == "" {
			return usagef("usage: certnet org import --kind orgs|contacts|ranges [--skip-bad] [--dry-run] FILE")
		}
		path := fs.Arg(0)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if format == "" {
			switch strings.ToLower(filepath.Ext(path)) {
			case ".xlsx":
				format = "xlsx"
			case ".csv", ".txt":
				format = "csv"
			}
		}
		var bar *progressbar.ProgressBar
		opt := org.ImportOptions{Kind: kind, Format: format, SkipBad: skipBad, DryRun: dryRun}
		if stderrIsTerminal() {
			opt.Progress = func(done, total int) {
				if bar == nil {
					bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
						progressbar.OptionSetDescription("import "+filepath.Base(path)), progressbar.OptionShowCount(),
						progressbar.OptionClearOnFinish())
				}
				bar.Set(done)
			}
		}
		rep, err := a.Orgs.Import(ctx, actor, f, opt)
		if bar != nil {
			bar.Finish()
		}
		for _, e := range rep.Errors {
			field := ""
			if e.Field != "" {
				field = e.Field + ": "
			}
			fmt.Fprintf(stderr, "%s:%d: %s%s\n", path, e.Row, field, i18n.T(lang, e.Msg.Key, e.Msg.Args...))
		}
		if err != nil {
			return describe(err)
		}
		verb := "imported"
		if dryRun {
			verb = "would import"
		}
		fmt.Fprintf(stdout, "%s: %d rows, %s %d, skipped %d, %d errors\n", path, rep.Rows, verb, rep.Imported, rep.Skipped, len(rep.Errors))
		if len(rep.Errors) > 0 && !skipBad {
			return fmt.Errorf("nothing imported: fix the rows above or use --skip-bad")
		}
	case "whois":
		if fs.NArg() != 1 {
			return usagef("usage: certnet org whois ADDRESS|CIDR|ASN|DOMAIN")
		}
		res, err := a.Orgs.Whois(ctx, actor, fs.Arg(0))
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "%s %s\n  matched %s\n  owner   %s  %s\n", res.Kind, res.Query, res.Matched, res.Org.Code, res.Org.Name)
		for _, p := range res.Chain {
			fmt.Fprintf(stdout, "  parent  %s  %s\n", p.Code, p.Name)
		}
	case "overlaps":
		ov, err := a.Orgs.Overlaps(ctx, actor)
		if err != nil {
			return describe(err)
		}
		for _, o := range ov {
			fmt.Fprintf(stdout, "%s (%s) contains %s (%s)\n", o.A.CIDR, o.AName, o.B.CIDR, o.BName)
		}
		fmt.Fprintf(stdout, "%d overlapping ranges between organisations\n", len(ov))
		if len(ov) > 0 {
			return fmt.Errorf("the constituency has overlapping ranges")
		}
	}
	return nil
}
