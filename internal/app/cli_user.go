package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"text/tabwriter"

	"certnet/internal/auth"
	"certnet/internal/policy"
)

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want a subcommand: add, passwd, list, disable, enable")
	}
	sub, rest := args[0], args[1:]
	fs, cfg, finish := newFlags("user "+sub, 0, stderr)
	var (
		orgCode, username, display, email, roles, pwFile, locale string
	)
	switch sub {
	case "add":
		fs.StringVar(&orgCode, "org", "", "member code of the user's organisation (required)")
		fs.StringVar(&username, "username", "", "login name (required)")
		fs.StringVar(&display, "name", "", "display name")
		fs.StringVar(&email, "email", "", "e-mail address")
		fs.StringVar(&roles, "roles", "viewer", "comma-separated roles: admin, coordinator, analyst, reporter, viewer, auditor")
		fs.StringVar(&locale, "locale", "vi", "interface language: vi or en")
		fs.StringVar(&pwFile, "password-file", "", "read the password from this file (default: generate one and print it)")
	case "passwd":
		fs.StringVar(&pwFile, "password-file", "", "read the new password from this file (default: generate one and print it)")
	case "list":
		fs.StringVar(&orgCode, "org", "", "only users of this organisation (member code)")
	case "disable", "enable":
	default:
		return usagef("unknown subcommand %q: want add, passwd, list, disable, enable", sub)
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
	switch sub {
	case "add":
		if orgCode == "" || username == "" {
			return usagef("--org and --username are required")
		}
		o, err := a.Orgs.GetByCode(ctx, actor, orgCode)
		if err != nil {
			return fmt.Errorf("organisation %q: %w", orgCode, err)
		}
		pw, generated, err := password(pwFile)
		if err != nil {
			return err
		}
		var rs []policy.Role
		for _, r := range strings.Split(roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				rs = append(rs, policy.Role(r))
			}
		}
		u, err := a.Auth.CreateUser(ctx, actor, auth.UserInput{OrgID: o.ID, Username: username, DisplayName: display,
			Email: email, Locale: locale, Roles: rs, Password: pw})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "user %s (id %d) added to %s with roles %s\n", u.Username, u.ID, o.Name, joinRoles(u.Roles))
		if generated {
			fmt.Fprintf(stdout, "password: %s\n(shown once; the user should change it after signing in)\n", pw)
		}
	case "passwd":
		if fs.NArg() != 1 {
			return usagef("usage: certnet user passwd USERNAME [--password-file FILE]")
		}
		u, err := a.Auth.GetByUsername(ctx, actor, fs.Arg(0))
		if err != nil {
			return describe(err)
		}
		pw, generated, err := password(pwFile)
		if err != nil {
			return err
		}
		if err := a.Auth.SetPassword(ctx, actor, u.ID, "", pw); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions were signed out\n", u.Username)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
	case "list":
		f := auth.UserFilter{IncludeDisabled: true, Limit: 100000}
		if orgCode != "" {
			o, err := a.Orgs.GetByCode(ctx, actor, orgCode)
			if err != nil {
				return fmt.Errorf("organisation %q: %w", orgCode, err)
			}
			f.OrgID = o.ID
		}
		users, total, err := a.Auth.ListUsers(ctx, actor, f)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tORG\tROLES\t2FA\tSTATE")
		for _, u := range users {
			name, _ := a.Orgs.Name(ctx, u.OrgID)
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\t%s\n", u.ID, u.Username, u.DisplayName, name, joinRoles(u.Roles), u.TOTPEnabled, state)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d users\n", total)
	case "disable", "enable":
		if fs.NArg() != 1 {
			return usagef("usage: certnet user %s USERNAME", sub)
		}
		u, err := a.Auth.GetByUsername(ctx, actor, fs.Arg(0))
		if err != nil {
			return describe(err)
		}
		if err := a.Auth.SetDisabled(ctx, actor, u.ID, sub == "disable"); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "user %s %sd\n", u.Username, sub)
	}
	return nil
}

func joinRoles(rs []policy.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// password reads a password file, or generates a strong password.
func password(file string) (pw string, generated bool, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, err
		}
		return strings.TrimRight(string(b), "\r\n"), false, nil
	}
	return GeneratePassword(20), true, nil
}

// GeneratePassword returns n random characters from an alphabet without
// look-alikes.
func GeneratePassword(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_"
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}
