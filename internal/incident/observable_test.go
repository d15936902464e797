package incident

import (
	"certnet/internal/testkit"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"certnet/internal/i18n"
)

func TestExtractObservables(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string // kind:value
	}{
		{"ipv4 in prose", "Máy chủ 203.0.113.10 bị tấn công.", []string{"ipv4:203.0.113.10"}},
		{"ipv4 with port", "kết nối tới 198.51.100.7:443,", []string{"ipv4:198.51.100.7"}},
		{"ipv6", "nguồn 2001:db8::1 và [2001:db8::2]", []string{"ipv6:2001:db8::1", "ipv6:2001:db8::2"}},
		{"domain", "tên miền evil-site.com.vn.", []string{"domain:evil-site.com.vn"}},
		{"domain upper case", "EXAMPLE.ORG", []string{"domain:example.org"}},
		{"url and its host", "xem http://phish.example.com/login?u=1 ngay", []string{"url:http://phish.example.com/login?u=1", "domain:phish.example.com"}},
		{"url with ip host", "tải từ https://192.0.2.5/a.exe", []string{"url:https://192.0.2.5/a.exe", "ipv4:192.0.2.5"}},
		{"defanged", "hxxp://bad[.]example[.]net/x và 203[.]0[.]113[.]9", []string{"url:http://bad.example.net/x", "domain:bad.example.net", "ipv4:203.0.113.9"}},
		{"email", "thư từ Attacker@Mail.Example.com gửi", []string{"email:attacker@mail.example.com"}},
		{"md5", "mẫu d41d8cd98f00b204e9800998ecf8427e", []string{"md5:d41d8cd98f00b204e9800998ecf8427e"}},
		{"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", []string{"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
		{"sha256 upper", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", []string{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		{"deduplicated", "1.1.1.1 và 1.1.1.1, example.com example.com", []string{"ipv4:1.1.1.1", "domain:example.com"}},
		{"subdomain under file-ext tld", "evil.example.sh", []string{"domain:evil.example.sh"}},
		{"file-ext tld inside url", "https://setup.sh/x", []string{"url:https://setup.sh/x", "domain:setup.sh"}},

		{"version numbers", "phiên bản 1.2.3 và v2.4.10, bản 10.0.19045", nil},
		{"five groups", "1.2.3.4.5", nil},
		{"octet out of range", "256.1.1.1", nil},
		{"file names", "đính kèm report.pdf, nhatky.log, setup.exe, data.zip, notes.md và script.py", nil},
		{"vietnamese abbreviations", "TP.HCM, v.v. và Q.1, P.Bến Nghé, Tp.Hà Nội", nil},
		{"vietnamese prose", "Sự cố nghiêm trọng: hệ thống bị gián đoạn lúc 10:30:00 ngày 26/11/2026.", nil},
		{"time is not ipv6", "10:30:00", nil},
		{"unspecified ipv6", "::", nil},
		{"numbers are not hashes", "12345678901234567890123456789012", nil},
		{"words are not hashes", "deadbeefdeadbeefdeadbeefdeadbeef", nil},
		{"unknown tld", "server.local và host.internal", nil},
		{"non-http scheme", "javascript://example.com", nil},
		{"email with bad domain", "a@b", nil},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, o := range ExtractObservables(tc.text) {
				got = append(got, string(o.Kind)+":"+o.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ExtractObservables(%q)\n got %v\nwant %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestNormalizeObservable(t *testing.T) {
	cases := []struct {
		kind     ObservableKind
		in, want string
		ok       bool
	}{
		{ObsIPv4, " 203.0.113.1 ", "203.0.113.1", true},
		{ObsIPv6, "2001:DB8:0::1", "2001:db8::1", true},
		{ObsDomain, "Setup.SH.", "setup.sh", true},
		{ObsDomain, "report.pdf", "", false},
		{ObsURL, "hxxps://a.example.com/p", "https://a.example.com/p", true},
		{ObsEmail, "A@Example.com", "a@example.com", true},
		{ObsMD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", true},
		{ObsSHA1, "d41d8cd98f00b204e9800998ecf8427e", "", false},
		{ObsIPv4, "203.0.113.1 203.0.113.2", "", false},
	}
	for _, tc := range cases {
		got, ok := NormalizeObservable(tc.kind, tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeObservable(%s, %q) = %q, %v; want %q, %v", tc.kind, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzExtractObservables(f *testing.F) {
	f.Add("Máy chủ 203.0.113.10 và http://evil.example.com/x, hash d41d8cd98f00b204e9800998ecf8427e")
	f.Fuzz(func(t *testing.T, s string) {
		obs := ExtractObservables(s)
		seen := map[string]bool{}
		for _, o := range obs {
			k := string(o.Kind) + ":" + o.Value
			if seen[k] {
				t.Fatalf("duplicate %s", k)
			}
			seen[k] = true
			if o.Value == "" || strings.ContainsAny(o.Value, " \t\n") {
				t.Fatalf("bad value %q", o.Value)
			}
			// Every value found is itself recognised as what it is.
			if got, ok := NormalizeObservable(o.Kind, o.Value); !ok || got != o.Value {
				t.Fatalf("%s %q does not normalise to itself: %q %v", o.Kind, o.Value, got, ok)
			}
		}
		if len(obs) > maxExtracted {
			t.Fatalf("%d observables", len(obs))
		}
	})
}

// Every RSIT class/type the mapping uses exists in the MISP taxonomy.
func TestRSITMappingExists(t *testing.T) {
	b, err := os.ReadFile(testkit.SharedData(t, "misp/taxonomies/rsit/machinetag.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tax struct {
		Namespace  string `json:"namespace"`
		Predicates []struct {
			Value string `json:"value"`
		} `json:"predicates"`
		Values []struct {
			Predicate string `json:"predicate"`
			Entry     []struct {
				Value string `json:"value"`
			} `json:"entry"`
		} `json:"values"`
	}
	if err := json.Unmarshal(b, &tax); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, v := range tax.Values {
		for _, e := range v.Entry {
			known[v.Predicate+"/"+e.Value] = true
		}
	}
	if tax.Namespace != "rsit" || len(known) == 0 {
		t.Fatalf("unexpected taxonomy %q with %d values", tax.Namespace, len(known))
	}
	for _, typ := range Types {
		r := typ.RSIT()
		if r.Class == "" || !known[r.Class+"/"+r.Type] {
			t.Errorf("type %s maps to %s/%s, not in RSIT", typ, r.Class, r.Type)
		}
	}
}

// Every message key the package uses exists in both languages, and so do
// the labels of every type, severity, class, status, report kind and clock.
func TestMessagesExist(t *testing.T) {
	keys := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`"((?:incident\.err|field)\.[a-z_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	if len(keys) < 20 {
		t.Fatalf("found only %d keys", len(keys))
	}
	for _, ty := range Types {
		keys[ty.LabelKey()] = true
	}
	for _, s := range Severities {
		keys[s.LabelKey()] = true
	}
	for _, c := range []Class{ClassOrdinary, ClassSerious} {
		keys[c.LabelKey()] = true
	}
	for _, s := range Statuses {
		keys[s.LabelKey()] = true
	}
	for _, k := range ReportKinds {
		keys[k.LabelKey()] = true
	}
	for _, k := range []ClockKind{ClockNotice, ClockInitial, ClockClosure, ClockAck} {
		keys[k.LabelKey()] = true
	}
	for k := range keys {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, k) {
				t.Errorf("key %q missing in %s", k, l)
			}
		}
	}
}
