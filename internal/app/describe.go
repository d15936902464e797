package app

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/i18n"
)

// cliLang is the console's language: CERTNET_LANG, else LANG, else Vietnamese.
func cliLang() i18n.Lang {
	if l := os.Getenv("CERTNET_LANG"); l != "" {
		return i18n.Parse(l)
	}
	if l := os.Getenv("LANG"); strings.HasPrefix(l, "en") {
		return i18n.EN
	}
	return i18n.VI
}

// describe turns a service error into a readable message for the console,
// with each field's problem.
func describe(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.KindInternal {
		return err
	}
	msg := i18n.T(cliLang(), e.Message.Key, e.Message.Args...)
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for f := range e.Fields {
			names = append(names, f)
		}
		sort.Strings(names)
		var parts []string
		for _, f := range names {
			m := e.Fields[f]
			parts = append(parts, fmt.Sprintf("%s: %s", f, i18n.T(cliLang(), m.Key, m.Args...)))
		}
		msg += "\n  " + strings.Join(parts, "\n  ")
	}
	return fmt.Errorf("%s", msg)
}
