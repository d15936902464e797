// Package errs defines the one error type certnet services return. Each error
// has a Kind that transports map to an HTTP status, a JSON error body and an
// HTML page; messages are i18n keys so the user reads them in their language.
package errs

import (
	"errors"
	"fmt"
	"sort"
)

// Kind classifies an error for the transports.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthenticated
	KindTooLarge
	KindTooMany
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindForbidden:
		return "forbidden"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindTooLarge:
		return "too_large"
	case KindTooMany:
		return "too_many_requests"
	}
	return "internal"
}

// Msg is an i18n message key with its arguments.
type Msg struct {
	Key  string
	Args []any
}

// Error is certnet's error. Op names where it happened; Message and Fields
// carry i18n keys; Err is the wrapped cause (never shown to users).
type Error struct {
	Kind    Kind
	Op      string
	Message Msg
	Fields  map[string]Msg
	Err     error
}

func (e *Error) Error() string {
	s := e.Op
	if s != "" {
		s += ": "
	}
	s += e.Kind.String()
	if e.Message.Key != "" {
		s += ": " + e.Message.Key
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s += fmt.Sprintf(" [%s: %s]", k, e.Fields[k].Key)
		}
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf reports the kind of err; errors that are not *Error are internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

func newE(k Kind, op, key string, args ...any) *Error {
	return &Error{Kind: k, Op: op, Message: Msg{Key: key, Args: args}}
}

// NotFound: the thing does not exist, or the caller may not know it exists.
func NotFound(op string) *Error { return newE(KindNotFound, op, "error.not_found") }

// Forbidden: the caller is known but may not do this.
func Forbidden(op string) *Error { return newE(KindForbidden, op, "error.forbidden") }

// Unauthenticated: no valid credentials.
func Unauthenticated(op, key string, args ...any) *Error {
	if key == "" {
		key = "error.unauthenticated"
	}
	return newE(KindUnauthenticated, op, key, args...)
}

// Conflict: the change clashes with existing data.
func Conflict(op, key string, args ...any) *Error { return newE(KindConflict, op, key, args...) }

// TooMany: throttled.
func TooMany(op, key string, args ...any) *Error { return newE(KindTooMany, op, key, args...) }

// TooLarge: the input is over a size limit.
func TooLarge(op string) *Error { return newE(KindTooLarge, op, "error.too_large") }

// Internal wraps an unexpected error.
func Internal(op string, err error) *Error {
	return &Error{Kind: KindInternal, Op: op, Message: Msg{Key: "error.internal"}, Err: err}
}

// Invalid starts an empty validation error; add fields with Field and return
// it with OrNil.
func Invalid(op string) *Error {
	return &Error{Kind: KindInvalid, Op: op, Message: Msg{Key: "error.invalid"}, Fields: map[string]Msg{}}
}

// Field records a problem with one input field.
func (e *Error) Field(name, key string, args ...any) *Error {
	if e.Fields == nil {
		e.Fields = map[string]Msg{}
	}
	if _, dup := e.Fields[name]; !dup {
		e.Fields[name] = Msg{Key: key, Args: args}
	}
	return e
}

// Has reports whether a field already has an error.
func (e *Error) Has(name string) bool { _, ok := e.Fields[name]; return ok }

// OrNil returns nil when no field has an error, so callers can write
// `return v.OrNil()`.
func (e *Error) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Wrap annotates err with op, keeping its kind.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Ensure returns err as a certnet error: nil stays nil, a certnet error
// passes unchanged, anything else (a driver error, an I/O error) becomes
// Internal under op.
func Ensure(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := As(err); ok {
		return err
	}
	return Internal(op, err)
}
