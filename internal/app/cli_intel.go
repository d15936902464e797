package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"

	"certnet/internal/intel"
	"certnet/internal/policy"
)

// runImport: certnet import stix|misp --org CODE FILE… (a MISP feed is a
// folder holding manifest.json).
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "nvd" || args[0] == "kev") {
		return runImportCVE(ctx, args[0], args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "systems" {
		return runImportSystems(ctx, args[1:], stdout, stderr) // cli_infosys.go
	}
	if len(args) == 0 || (args[0] != "stix" && args[0] != "misp") {
		return usagef("usage: certnet import stix|misp --org CODE [--tlp LABEL] FILE… | certnet import nvd|kev FILE… | certnet import systems [--dry-run] [--skip-bad] FILE")
	}
	format, rest := args[0], args[1:]
	fs, cfg, finish := newFlags("import "+format, 0, stderr)
	var orgCode, tlp string
	fs.StringVar(&orgCode, "org", "", "member code of the organisation that will hold what is imported (required)")
	fs.StringVar(&tlp, "tlp", "AMBER", "label of objects that carry none")
	if err := parse(fs, rest, finish); err != nil {
		return err
	}
	if orgCode == "" || fs.NArg() == 0 {
		return usagef("usage: certnet import %s --org CODE [--tlp LABEL] FILE…", format)
	}
	def, err := policy.ParseTLP(tlp)
	if err != nil {
		return usagef("--tlp: %v", err)
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	defer batchGC()()
	actor := cliActor()
	o, err := a.Orgs.GetByCode(ctx, actor, orgCode)
	if err != nil {
		return fmt.Errorf("--org %q: %w", orgCode, describe(err))
	}
	actor.OrgID = o.ID
	svc := a.Intel
	failed := 0
	for _, path := range fs.Args() {
		opt := intel.ImportOptions{Name: filepath.Base(path), DefaultTLP: def}
		var done func()
		opt.Progress, done = spinner("import " + filepath.Base(path))
		var res intel.ImportResult
		st, err := os.Stat(path)
		switch {
		case err != nil:
		case format == "misp" && st.IsDir():
			res, err = svc.ImportMISPFeed(ctx, actor, os.DirFS(path), opt)
		default:
			var f *os.File
			if f, err = os.Open(path); err == nil {
				if format == "stix" {
					res, err = svc.ImportSTIX(ctx, actor, f, opt)
				} else {
					res, err = svc.ImportMISP(ctx, actor, f, opt)
				}
				f.Close()
			}
		}
		done()
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "%s: %v\n", path, describe(err))
			continue
		}
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "%s: object %d %s %s: %s\n", path, e.Index, e.Type, e.ID, e.Error)
		}
		fmt.Fprintf(stdout, "%s: %d objects, %d kept, %d refused; %d indicators, %d other objects, %d sightings (import %d)\n",
			path, res.Total, res.Accepted, res.Rejected, res.Indicators, res.Objects, res.Sightings, res.ID)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files not imported", failed, fs.NArg())
	}
	return nil
}

// runExport: certnet export stix [--tlp MAX] [--since RFC3339] [--out FILE]
// and certnet export misp --out DIR [--tlp MAX].
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "misp" {
		return runExportMISP(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "stix" {
		return usagef("usage: certnet export stix [--tlp MAX] [--since TIME] [--out FILE] | certnet export misp --out DIR [--tlp MAX]")
	}
	fs, cfg, finish := newFlags("export stix", 0, stderr)
	var tlp, since, out string
	fs.StringVar(&tlp, "tlp", "AMBER", "the most restrictive label to export (RED never leaves)")
	fs.StringVar(&since, "since", "", "only what changed since this time (RFC 3339)")
	fs.StringVar(&out, "out", "", "write to this file instead of standard output")
	if err := parse(fs, args[1:], finish); err != nil {
		return err
	}
	maxTLP, err := policy.ParseTLP(tlp)
	if err != nil {
		return usagef("--tlp: %v", err)
	}
	opt := intel.ExportOptions{MaxTLP: maxTLP}
	if since != "" {
		if opt.Since, err = time.Parse(time.RFC3339, since); err != nil {
			return usagef("--since: %v", err)
		}
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	w := stdout
	var file *os.File
	if out != "" {
		if file, err = os.Create(out); err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	var done func()
	opt.Progress, done = spinner("export stix")
	n, err := a.Intel.ExportSTIX(ctx, cliActor(), w, opt)
	done()
	if err != nil {
		return describe(err)
	}
	if file != nil {
		// A file that did not close may not hold the whole bundle.
		if err := file.Close(); err != nil {
			return err
		}
	}
	if out != "" {
		fmt.Fprintf(stderr, "%s: %d objects\n", out, n)
	}
	return nil
}

// batchGC tunes the collector for a batch job with a small live heap, as
// an import is: collect a quarter as often (the collector's pauses of the
// writer were a fifth of a large import), but never let the heap pass 256
// MiB (SQLite's page cache of the import, 256 MiB, lives outside it: the
// process stays under 1 GiB). It returns the function that restores the
// settings.
func batchGC() func() {
	gc := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(256 << 20)
	return func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) }
}

// spinner shows a running count on a terminal's standard error while an
// import or export runs (set is nil and done does nothing elsewhere).
func spinner(desc string) (set func(n int), done func()) {
	if !stderrIsTerminal() {
		return nil, func() {}
	}
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	return func(n int) { bar.Set(n) }, func() { bar.Finish() }
}

func runExportMISP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("export misp", 0, stderr)
	var tlp, out string
	fs.StringVar(&tlp, "tlp", "GREEN", "the most restrictive label to export (RED never leaves)")
	fs.StringVar(&out, "out", "", "the feed folder to write (manifest.json, hashes.csv, one event per organisation); required")
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	if out == "" {
		return usagef("usage: certnet export misp --out DIR [--tlp MAX]")
	}
	maxTLP, err := policy.ParseTLP(tlp)
	if err != nil {
		return usagef("--tlp: %v", err)
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	actor := cliActor()
	name := func(id int64) string {
		if n, err := a.Orgs.Name(ctx, id); err == nil {
			return n
		}
		return fmt.Sprintf("org %d", id)
	}
	n, err := a.Intel.ExportMISPFeed(ctx, actor, out, maxTLP, name)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "%s: %d attributes\n", out, n)
	return nil
}

// runImportCVE: certnet import nvd FILE… (NVD CVE API 2.0 JSON) and certnet
// import kev FILE… (the CISA KEV catalogue) into the CVE table advisories
// read their CVSS scores and KEV flags from.
func runImportCVE(ctx context.Context, format string, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("import "+format, 0, stderr)
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("usage: certnet import %s FILE…", format)
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	actor := cliActor()
	failed := 0
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			continue
		}
		set, done := spinner("import " + format + " " + filepath.Base(path))
		var res intel.CVEImportResult
		if format == "nvd" {
			res, err = a.Intel.ImportNVD(ctx, actor, f, set)
		} else {
			res, err = a.Intel.ImportKEV(ctx, actor, f, set)
		}
		done()
		f.Close()
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "%s: %v\n", path, describe(err))
			continue
		}
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "%s: record %d %s: %s\n", path, e.Index, e.ID, e.Error)
		}
		fmt.Fprintf(stdout, "%s: %d CVE records, %d kept, %d refused\n", path, res.Total, res.Accepted, res.Rejected)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files not imported", failed, fs.NArg())
	}
	return nil
}
