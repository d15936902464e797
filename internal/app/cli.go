package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"syscall"

	"certnet/internal/config"
	"certnet/internal/policy"
)

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, stdout, stderr)
	case "user":
		err = runUser(ctx, rest, stdout, stderr)
	case "org":
		err = runOrg(ctx, rest, stdout, stderr)
	case "audit":
		err = runAudit(ctx, rest, stdout, stderr)
	case "backup":
		err = runBackup(ctx, rest, stdout, stderr)
	case "import":
		err = runImport(ctx, rest, stdout, stderr)
	case "export":
		err = runExport(ctx, rest, stdout, stderr)
	case "restore":
		err = runRestore(ctx, rest, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, stdout, stderr)
	case "forward":
		err = runForward(ctx, rest, stdout, stderr)
	case "federation":
		err = runFederation(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "certnet", BuildVersion())
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "certnet: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "certnet %s: %v\n", cmd, err)
			return 2
		}
		fmt.Fprintf(stderr, "certnet %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func usage(w io.Writer) {
	fmt.Fprint(w, `certnet — the national cyber-incident response network, in one binary

Usage: certnet <command> [flags]

Commands:
  serve            run the web UI and API (--demo seeds a demo network)
  migrate          apply database migrations
  user             add, passwd, list, disable, enable users
  org              add, list, import, whois, overlaps: the network registry
  audit verify     check the hash chain of the audit log
  import stix|misp import STIX 2.1 bundles or MISP events / feed folders (--org CODE)
  import nvd|kev   load NVD CVE API 2.0 JSON or the CISA KEV catalogue into the CVE table
  export stix|misp write a STIX 2.1 bundle or a MISP feed folder of what may be shared (--tlp MAX)
  backup           write an online, consistent copy of the SQLite database
  restore          put a backup in place of the SQLite database
  forward          follow Suricata/Wazuh files at a SOC and send them to certnet (--url, --state, --input)
  federation       add, list, sync, remove: this instance's parent over TAXII 2.1
  bench incidents  generate N incidents in a fresh data folder and measure list, search and creation
  bench intel      import a generated STIX bundle of N indicators (rate, peak memory) and time TAXII pages
  bench ingest     load indicators and member ranges, drive POST /ingest/v1/events (alerts/s, ack latency, peak memory)
  version          print the version

Every command that touches the store takes --data (default ./certnet-data) or
--db postgres://…; run "certnet <command> --help" for its flags.
`)
}

// newFlags makes a flag set for a command with the store flags; it returns
// the set, the config and the function to call after Parse.
func newFlags(name string, which config.Which, stderr io.Writer) (*flag.FlagSet, *config.Config, func() error) {
	cfg := config.Default()
	fs := flag.NewFlagSet("certnet "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	finish := cfg.Flags(fs, which|config.StoreFlags)
	return fs, &cfg, finish
}

func parse(fs *flag.FlagSet, args []string, finish func() error) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return finish()
}

// cliActor is the operator at the machine's console: the command line acts
// with full rights, and says so in the audit log.
func cliActor() policy.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil {
		name = "cli:" + u.Username
	}
	return policy.SystemActor(name)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("serve", config.ServerFlags, stderr)
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	log := NewLogger(*cfg, stderr)
	a, err := Open(ctx, *cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Demo {
		if err := a.seedDemo(ctx, stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return a.Serve(ctx, func(url string) {
		fmt.Fprintf(stdout, "certnet is running at %s  (Ctrl+C to stop)\n", url)
	})
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("migrate", 0, stderr)
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	log := NewLogger(*cfg, stderr)
	a, err := Open(ctx, *cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.DB.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s (%s) is at schema version %d\n", a.DB.Where, a.DB.Engine, v)
	return nil
}
