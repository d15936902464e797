package intel

import (
	"bytes"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"certnet/internal/errs"
)

// FuzzAnswerEvidenceCheck: an evidence upload's name, note and bytes come
// from outside; they are refused as invalid on a named field, or accepted
// only as a plain file name of an accepted type whose bytes (not empty,
// within the limit) match it. Never a panic.
func FuzzAnswerEvidenceCheck(f *testing.F) {
	for _, c := range []struct{ name, note, data string }{
		{"bao-cao.pdf", "Quét lại", "%PDF-1.7\n"},
		{"ảnh.PNG", "", "\x89PNG\r\n\x1a\nxx"},
		{"x.exe", "", "MZ"},
		{"../x.pdf", "", "%PDF-"},
		{"C:\\x.txt", "", "a"},
		{"a.txt", "\x00", "a"},
		{"a.txt", "", "\xff\xfe"},
		{"a.docx", "", "PK\x03\x04"},
		{"", "", ""},
		{"a.jpg", strings.Repeat("n", 1001), "\xff\xd8\xff"},
	} {
		f.Add(c.name, c.note, []byte(c.data))
	}
	f.Fuzz(func(t *testing.T, name, note string, data []byte) {
		name, note = strings.TrimSpace(name), strings.TrimSpace(note)
		e := checkAnswerEvidenceMeta("fuzz", name, note)
		if err := e.OrNil(); err != nil {
			if !errs.Is(err, errs.KindInvalid) || !(e.Has("name") || e.Has("file") || e.Has("note")) {
				t.Fatalf("%q %q: %v", name, note, err)
			}
			return
		}
		ext := strings.ToLower(path.Ext(name))
		typ, ok := answerEvidenceTypes[ext]
		if !ok || strings.ContainsAny(name, `/\:`) || !utf8.ValidString(name) || utf8.RuneCountInString(note) > 1000 {
			t.Fatalf("accepted %q (note %q)", name, note)
		}
		_, _, err := answerEvidenceTypes.Read("fuzz", name, bytes.NewReader(data), MaxAnswerEvidence, answerEvidenceKeys)
		if err != nil {
			if ee, ok := errs.As(err); !ok || ee.Kind != errs.KindInvalid || !ee.Has("file") {
				t.Fatalf("%q: %v", name, err)
			}
			return
		}
		if len(data) == 0 || len(data) > MaxAnswerEvidence || !typ.Valid(data) || typ.Media == "" {
			t.Fatalf("accepted %q with %d bytes", name, len(data))
		}
	})
}
