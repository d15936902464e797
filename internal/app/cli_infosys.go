package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"

	"certnet/internal/i18n"
	"certnet/internal/infosys"
)

// runImportSystems: certnet import systems [--dry-run] [--skip-bad]
// FILE — an inventory of information systems (XLSX or CSV,
// docs/infosys-import.md), with a progress bar on a terminal and each
// refused row on standard error with its line and column.
func runImportSystems(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: certnet import systems [--dry-run] [--skip-bad] FILE"
	fs, cfg, finish := newFlags("import systems", 0, stderr)
	var dryRun, skipBad bool
	var format string
	fs.BoolVar(&dryRun, "dry-run", false, "check every row, write nothing")
	fs.BoolVar(&skipBad, "skip-bad", false, "import the good rows when some are refused")
	fs.StringVar(&format, "format", "", "xlsx or csv (default: from the content)")
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef(usage)
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	var bar *progressbar.ProgressBar
	opt := infosys.ImportOptions{Format: format, DryRun: dryRun, SkipBad: skipBad}
	if opt.Format == "" && strings.EqualFold(filepath.Ext(path), ".csv") {
		opt.Format = "csv"
	}
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
	rep, err := a.Infosys.ImportSystems(ctx, cliActor(), f, opt)
	if bar != nil {
		bar.Finish()
	}
	lg := cliLang() // CERTNET_LANG or LANG
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "%s:%d: %s: %s\n", path, p.Line, p.Column, i18n.T(lg, p.Key, p.Args...))
	}
	if err != nil && len(rep.Items) == 0 {
		return fmt.Errorf("%s: %w", path, describe(err))
	}
	verb := "imported"
	if dryRun {
		verb = "would import"
	}
	fmt.Fprintf(stdout, "%s: %d rows, %s %d new and %d updated, %d refused\n", path, rep.Rows, verb, rep.Created, rep.Updated, rep.Skipped)
	if err != nil {
		return fmt.Errorf("nothing imported: fix the rows above or use --skip-bad")
	}
	return nil
}
