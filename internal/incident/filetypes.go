package incident

import (
	"bytes"
	"io"
	"path"
	"slices"
	"strings"

	"certnet/internal/errs"
)

// FileType is an accepted type of document upload: the media type recorded
// for it and a check of the content's signature.
type FileType struct {
	Media string
	Valid func([]byte) bool
}

// FileTypes are the accepted types of an upload by extension (lower case,
// with the dot). Incident evidence takes any file; the documents attached
// to information systems and to advisory answers take these only.
type FileTypes map[string]FileType

// Signature is a check that the content starts with p.
func Signature(p string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(p)) }
}

// Extensions lists the accepted extensions, sorted.
func (ts FileTypes) Extensions() []string {
	out := make([]string, 0, len(ts))
	for k := range ts {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CheckName records on v what is wrong with an upload's name: under "name"
// what FileNameProblem finds, else under "file" a type not accepted
// (keys+"type", with the accepted extensions). keys is the prefix of the
// caller's messages ("infosys.attach.err.").
func (ts FileTypes) CheckName(v *errs.Error, name, keys string) {
	if k := FileNameProblem(name); k != "" {
		v.Field("name", k, MaxFileName)
	} else if _, ok := ts[strings.ToLower(path.Ext(name))]; !ok {
		v.Field("file", keys+"type", strings.Join(ts.Extensions(), " "))
	}
}

// Read reads the body of an upload whose name passed CheckName, up to max
// bytes, and checks it: not past the limit (keys+"too_large", with the
// limit in MiB), not empty (keys+"empty"), of the type its name says
// (keys+"content", with the extension).
func (ts FileTypes) Read(op, name string, body io.Reader, max int64, keys string) ([]byte, FileType, error) {
	ext := strings.ToLower(path.Ext(name))
	t := ts[ext]
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	switch {
	case err != nil || int64(len(data)) > max:
		// A read error is the request's body cut at its own limit.
		return nil, t, errs.Invalid(op).Field("file", keys+"too_large", max>>20)
	case len(data) == 0:
		return nil, t, errs.Invalid(op).Field("file", keys+"empty")
	case t.Valid == nil || !t.Valid(data):
		return nil, t, errs.Invalid(op).Field("file", keys+"content", ext)
	}
	return data, t, nil
}
