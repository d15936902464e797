package decode

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchBody builds a batch of n realistic lines of one format: alerts from
// varied addresses, a quarter with HTTP or TLS or DNS details.
func benchBody(f Format, n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	sigs := []string{"ET SCAN Potential SSH Scan", "ET POLICY PE EXE or DLL Windows file download HTTP", "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)", "ET MALWARE Possible Cobalt Strike Beacon", "ET DNS Query to a *.top domain - Likely Hostile"}
	ip := func() string {
		return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	var b bytes.Buffer
	for i := range n {
		sig := sigs[r.IntN(len(sigs))]
		ts := fmt.Sprintf("2026-11-20T08:%02d:%02d.%06d+0700", r.IntN(60), r.IntN(60), r.IntN(1000000))
		switch f {
		case Suricata:
			fmt.Fprintf(&b, `{"timestamp":"%s","flow_id":%d,"in_iface":"ens192","event_type":"alert","host":"ids-%d","src_ip":"%s","src_port":%d,"dest_ip":"%s","dest_port":%d,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":%d,"rev":5,"signature":"%s","category":"Attempted Information Leak","severity":%d,"metadata":{"affected_product":["Any"],"attack_target":["Client_and_Server"],"created_at":["2019_07_26"],"deployment":["Perimeter"],"signature_severity":["Major"],"updated_at":["2023_03_10"]}},`,
				ts, r.Int64(), r.IntN(20), ip(), 1024+r.IntN(60000), ip(), []int{22, 80, 443, 3389}[r.IntN(4)], 2000000+r.IntN(40000), sig, 1+r.IntN(3))
			switch i % 8 {
			case 0:
				fmt.Fprintf(&b, `"http":{"hostname":"cdn%d.example.com","url":"/path/%d/file.php?id=%d","http_user_agent":"Mozilla/5.0","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":512},"app_proto":"http",`, r.IntN(1000), r.IntN(1000), r.IntN(100000))
			case 1:
				fmt.Fprintf(&b, `"tls":{"sni":"login%d.example.net","version":"TLS 1.2"},"app_proto":"tls",`, r.IntN(1000))
			}
			b.WriteString(`"flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":230,"bytes_toclient":140,"start":"2026-11-20T08:00:00.000000+0700"}}` + "\n")
		case Wazuh:
			fmt.Fprintf(&b, `{"timestamp":"%s","rule":{"level":%d,"description":"sshd: Attempt to login using a non-existent user","id":"5710","mitre":{"id":["T1110.001"],"tactic":["Credential Access"]},"firedtimes":3,"mail":false,"groups":["syslog","sshd","authentication_failed"]},"agent":{"id":"004","name":"web-%d","ip":"10.30.2.14"},"manager":{"name":"wazuh-manager"},"id":"1763604764.%d","full_log":"Nov 20 09:12:43 web sshd[23415]: Invalid user oracle from %s port 51834","decoder":{"parent":"sshd","name":"sshd"},"data":{"srcip":"%s","srcport":"%d","srcuser":"oracle"},"location":"/var/log/auth.log"}`+"\n",
				ts, r.IntN(16), r.IntN(50), r.IntN(1<<30), ip(), ip(), 1024+r.IntN(60000))
		case Generic:
			fmt.Fprintf(&b, `{"time":"%s","kind":"alert","sensor":"soc-%d","signature":"%s","signature_id":%d,"severity":%d,"src_ip":"%s","src_port":%d,"dst_ip":"%s","dst_port":443,"proto":"tcp","domains":["c%d.evil.example"]}`+"\n",
				ts, r.IntN(100), sig, r.IntN(1000000), 1+r.IntN(4), ip(), 1024+r.IntN(60000), ip(), r.IntN(10000))
		case STIX:
			fmt.Fprintf(&b, `{"type":"bundle","id":"bundle--%d","objects":[{"type":"ipv4-addr","id":"ipv4-addr--%d","value":"%s"},{"type":"domain-name","id":"domain-name--%d","value":"c%d.evil.example"},{"type":"observed-data","id":"observed-data--%d","created":"2026-11-20T04:00:00.000Z","modified":"2026-11-20T04:00:00.000Z","first_observed":"2026-11-20T03:50:00Z","last_observed":"2026-11-20T03:55:00Z","number_observed":1,"object_refs":["ipv4-addr--%d","domain-name--%d"]},{"type":"sighting","id":"sighting--%d","created":"2026-11-20T04:00:00.000Z","modified":"2026-11-20T04:00:00.000Z","last_seen":"2026-11-20T03:55:00Z","count":%d,"sighting_of_ref":"indicator--%d","observed_data_refs":["observed-data--%d"]}]}`+"\n",
				i, i, ip(), i, r.IntN(10000), i, i, i, i, 1+r.IntN(50), r.IntN(1000), i)
		}
	}
	return b.Bytes()
}

func benchDecode(b *testing.B, f Format) {
	const n = 1000
	body := benchBody(f, n)
	dst := make([]Event, 0, n)
	evs, lerrs, err := Decode(f, body, dst)
	if err != nil || len(lerrs) != 0 || len(evs) != n {
		b.Fatalf("%v %v %d", err, lerrs, len(evs))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst, _, _ = Decode(f, body, dst[:0])
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkDecodeSuricata(b *testing.B) { benchDecode(b, Suricata) }
func BenchmarkDecodeWazuh(b *testing.B)    { benchDecode(b, Wazuh) }
func BenchmarkDecodeGeneric(b *testing.B)  { benchDecode(b, Generic) }
func BenchmarkDecodeSTIX(b *testing.B)     { benchDecode(b, STIX) }

func BenchmarkDetect(b *testing.B) {
	body := benchBody(Suricata, 100)
	for b.Loop() {
		if Detect(body) != Suricata {
			b.Fatal("not detected")
		}
	}
}
