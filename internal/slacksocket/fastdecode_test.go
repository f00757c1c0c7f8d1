package slacksocket

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// fastCases are envelopes for decodeSlashFast; ok is whether it should decode them itself rather
// than leave them to encoding/json. Either way its answer must agree with decode's.
var fastCases = []struct {
	name string
	in   string
	ok   bool
}{
	{"usual", string(slashEnvelope), true},
	{"white space everywhere", " \t\r\n{ \"type\" :\n\"slash_commands\" , \"envelope_id\"\t:\t\"e1\" ,\"payload\" : { \"text\" : \"hi\" } }\n ", true},
	{"escapes", `{"type":"slash_commands","envelope_id":"e","payload":{"text":"a\"b\\c\/d\be\ff\ng\rh\ti"}}`, true},
	{"unicode escapes", `{"type":"slash_commands","payload":{"text":"caf\u00e9 \u0041\u00DF \u65e5\u0000"}}`, true},
	{"surrogate pair", `{"type":"slash_commands","payload":{"text":"smile \ud83d\ude00!"}}`, true},
	{"lone high surrogate", `{"type":"slash_commands","payload":{"text":"\ud83dx"}}`, true},
	{"lone low surrogate", `{"type":"slash_commands","payload":{"text":"\ude00\ude00"}}`, true},
	{"high surrogate twice", `{"type":"slash_commands","payload":{"text":"\ud83d\ud83d\ude00"}}`, true},
	{"high surrogate then other escape", `{"type":"slash_commands","payload":{"text":"\ud83d\u0041\n"}}`, true},
	{"high surrogate at end", `{"type":"slash_commands","payload":{"text":"\ud83d"}}`, true},
	{"raw unicode", `{"type":"slash_commands","payload":{"text":"café 😀 日本 �","user_name":"ashä"}}`, true},
	{"escaped type", `{"type":"slash\u005fcommands","envelope_id":"e\/1"}`, true},
	{"unknown keys", `{"x":"y","n":-1.5e+3,"m":0,"b":true,"f":false,"z":null,"nest":{"a":[1,{"b":[]},"c"],"d":{}},"type":"slash_commands","payload":{"is_enterprise_install":"false","w":[true],"text":"t"}}`, true},
	{"retry", `{"envelope_id":"e","type":"slash_commands","retry_attempt":2,"retry_reason":"timeout","accepts_response_payload":false,"payload":{}}`, true},
	{"negative retry", `{"type":"slash_commands","retry_attempt":-0}`, true},
	{"reason dropped", `{"type":"slash_commands","reason":"ignored","payload":{"text":"t"}}`, true},
	{"missing payload", `{"envelope_id":"e","type":"slash_commands"}`, true},
	{"null payload", `{"envelope_id":"e","type":"slash_commands","payload":null}`, true},
	{"null fields", `{"envelope_id":null,"type":"slash_commands","retry_attempt":null,"accepts_response_payload":null,"retry_reason":null,"payload":{"text":null,"token":null}}`, true},
	{"all payload fields", `{"type":"slash_commands","payload":{"token":"1","team_id":"2","team_domain":"3","enterprise_id":"4","enterprise_name":"5","channel_id":"6","channel_name":"7","user_id":"8","user_name":"9","command":"10","text":"11","response_url":"12","trigger_id":"13","api_app_id":"14"}}`, true},

	{"interactive", `{"envelope_id":"e","type":"interactive","payload":{"type":"block_actions"}}`, false},
	{"hello", `{"type":"hello","num_connections":1}`, false},
	{"disconnect", `{"type":"disconnect","reason":"refresh_requested"}`, false},
	{"type case", `{"type":"Slash_Commands"}`, false},
	{"no type", `{"payload":{"text":"t"}}`, false},
	{"key case", `{"Type":"slash_commands"}`, false},
	{"payload key case", `{"type":"slash_commands","payload":{"TEXT":"t"}}`, false},
	{"key folding to ascii", `{"type":"slash_commands","payload":{"uſer_name":"x"}}`, false},
	{"escaped key", `{"\u0074ype":"slash_commands"}`, false},
	{"duplicate key", `{"type":"slash_commands","payload":{"text":"a","text":"b"}}`, false},
	{"duplicate payload", `{"type":"slash_commands","payload":{"text":"a"},"payload":{"token":"b"}}`, false},
	{"invalid utf-8", "{\"type\":\"slash_commands\",\"payload\":{\"text\":\"a\xffb\"}}", false},
	{"encoded surrogate", "{\"type\":\"slash_commands\",\"payload\":{\"text\":\"\xed\xa0\x80\"}}", false},
	{"fractional retry", `{"type":"slash_commands","retry_attempt":1.0}`, false},
	{"huge retry", `{"type":"slash_commands","retry_attempt":99999999999999999999}`, false},
	{"string retry", `{"type":"slash_commands","retry_attempt":"1"}`, false},
	{"string bool", `{"type":"slash_commands","accepts_response_payload":"true"}`, false},
	{"number for string", `{"type":"slash_commands","payload":{"token":1}}`, false},
	{"payload array", `{"type":"slash_commands","payload":[]}`, false},
	{"deep unknown", `{"type":"slash_commands","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, false},
	{"trailing garbage", string(slashEnvelope) + "x", false},
	{"two objects", `{"type":"slash_commands"}{}`, false},
	{"unterminated string", `{"type":"slash_commands","payload":{"text":"abc}}`, false},
	{"unterminated object", `{"type":"slash_commands"`, false},
	{"bad escape", `{"type":"slash_commands","payload":{"text":"\x41"}}`, false},
	{"quote escape", `{"type":"slash_commands","payload":{"text":"\'"}}`, false},
	{"short unicode escape", `{"type":"slash_commands","payload":{"text":"\ud83d\u12"}}`, false},
	{"control character", "{\"type\":\"slash_commands\",\"payload\":{\"text\":\"a\tb\"}}", false},
	{"trailing comma", `{"type":"slash_commands",}`, false},
	{"leading zero", `{"type":"slash_commands","x":01}`, false},
	{"bad literal", `{"type":"slash_commands","x":nul}`, false},
	{"literal run on", `{"type":"slash_commands","x":truex}`, false},
	{"empty", ``, false},
	{"null", `null`, false},
	{"array", `[{"type":"slash_commands"}]`, false},
	{"string", `"slash_commands"`, false},
}

// checkFast checks decodeSlashFast against decodeJSON on in and reports whether it decoded it.
func checkFast(t *testing.T, in []byte) bool {
	t.Helper()
	got, ok := decodeSlashFast(in)
	want, err := decodeJSON(in)
	if !ok {
		if got != nil {
			t.Fatalf("decodeSlashFast(%q) = %+v, false", in, got)
		}
		return false
	}
	var f frame[slashPayload]
	if jerr := json.Unmarshal(in, &f); jerr != nil || f.Type != TypeSlashCommands {
		t.Fatalf("decodeSlashFast(%q) ok, but encoding/json: type %q, %v", in, f.Type, jerr)
	}
	if err != nil {
		t.Fatalf("decodeSlashFast(%q) ok, but decodeJSON: %v", in, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeSlashFast(%q)\n got %#v\nwant %#v", in, got, want)
	}
	return true
}

func TestDecodeSlashFast(t *testing.T) {
	for _, c := range fastCases {
		t.Run(c.name, func(t *testing.T) {
			if ok := checkFast(t, []byte(c.in)); ok != c.ok {
				t.Errorf("decodeSlashFast(%q): ok %v, want %v", c.in, ok, c.ok)
			}
		})
	}
}

// TestDecodeSlashFastStrings checks strings made of random runs of escapes (surrogates among
// them, paired or not), characters and invalid bytes: the fuzzer seldom makes many of them.
func TestDecodeSlashFastStrings(t *testing.T) {
	pieces := []string{
		`a`, `é`, `😀`, `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0041`, `\u00E9`, `\u0000`,
		`\ud83d`, `\uDE00`, `\udbff`, `\udfff`, `\ufffd`, `\u`, `\x`, `\`, `"`, "\x00", "\x7f", "\xff", "\xed\xa0\x80",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	decoded := 0
	for range 20_000 {
		var text strings.Builder
		for range rng.IntN(8) {
			text.WriteString(pieces[rng.IntN(len(pieces))])
		}
		in := []byte(`{"type":"slash_commands","payload":{"text":"` + text.String() + `"}}`)
		if checkFast(t, in) {
			decoded++
		}
	}
	if decoded < 1000 {
		t.Errorf("only %d of the strings decoded", decoded)
	}
}

// TestDecodeSlashFastCopies checks the Request does not alias the input, which the link reuses.
func TestDecodeSlashFastCopies(t *testing.T) {
	in := bytes.Clone(slashEnvelope)
	req, ok := decodeSlashFast(in)
	if !ok {
		t.Fatal("usual envelope not decoded")
	}
	want := *req
	for i := range in {
		in[i] = 'x'
	}
	if !reflect.DeepEqual(*req, want) || req.Slash.Text != "done tail-at-scale" {
		t.Fatalf("request changed with its input: %+v", req)
	}
}

// TestPlainEnd checks the word-at-a-time plainEnd against a byte loop, for every byte at every
// place of a word and before every other byte (the word tricks can go wrong after the first
// byte they flag).
func TestPlainEnd(t *testing.T) {
	slow := func(s string, j int) int {
		for j < len(s) && plain[s[j]] {
			j++
		}
		return j
	}
	b := []byte(strings.Repeat("abcdefgh", 3))
	for p := range 17 {
		for c := range 256 {
			for _, next := range []byte{'a', 0, 0x1f, ' ', '"', '\\', 0x7f, 0x80, 0xff} {
				b[p], b[p+1] = byte(c), next
				s := string(b)
				for j := range 3 {
					if got, want := plainEnd(s, j), slow(s, j); got != want {
						t.Fatalf("plainEnd(%q, %d) = %d, want %d", s, j, got, want)
					}
				}
				b[p], b[p+1] = 'x', 'y'
			}
		}
	}
}

// FuzzDecodeSlashFast checks that whatever decodeSlashFast decodes, encoding/json decodes the
// same way, and that it never panics. Besides the input as an envelope, it tries it as the inside
// of a string and of a key in the usual envelope: mutating whole envelopes seldom makes one that
// is still valid, and strings and keys are where decodeSlashFast is most particular.
func FuzzDecodeSlashFast(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c.in))
	}
	for _, s := range []string{`plain`, `a\"b\\c\/d\be\ff\ng\rh\ti`, `\u00e9\ud83d\ude00\ud83d\u0041`, `café 😀`, `Text`, `uſer_name`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFast(t, in)
		checkFast(t, []byte(`{"type":"slash_commands","payload":{"text":"`+string(in)+`","user_id":"U1"}}`))
		checkFast(t, []byte(`{"type":"slash_commands","payload":{"`+string(in)+`":"x","user_id":"U1"}}`))
	})
}

// BenchmarkDecodeSlashJSON is BenchmarkDecodeSlash by the encoding/json path (what decode did
// before decodeSlashFast, and still does for any other envelope).
func BenchmarkDecodeSlashJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		req, err := decodeJSON(slashEnvelope)
		if err != nil || req.Slash.Text != "done tail-at-scale" || req.Slash.TriggerID != "1.2.abc" {
			b.Fatalf("decoded %+v, %v", req, err)
		}
	}
}
