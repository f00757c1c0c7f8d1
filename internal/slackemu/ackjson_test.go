package slackemu

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// slowAck is handleFrame and parseMessagePayload as encoding/json does them, the reference the
// fast path must agree with.
func slowAck(data []byte) (id string, payload json.RawMessage, err error) {
	var ack struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	err = json.Unmarshal(data, &ack)
	return ack.EnvelopeID, ack.Payload, err
}

// checkAckAgrees fails t when decodeAckFast, having accepted data, read it differently from
// encoding/json. It reports whether the fast path took it.
func checkAckAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	a, ok := decodeAckFast(data)
	if !ok {
		return false
	}
	id, payload, err := slowAck(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, encoding/json says %v", data, err)
	}
	if a.envelopeID != id || !bytes.Equal(a.payload, payload) {
		t.Fatalf("%q: fast (%q, %q), encoding/json (%q, %q)", data, a.envelopeID, a.payload, id, payload)
	}
	if a.msg == nil {
		if m, err := parseMessagePayload(payload); err == nil {
			t.Fatalf("%q: fast path left the payload undecoded, parseMessagePayload read %+v", data, m)
		}
		return true
	}
	checkMessageAgrees(t, payload, a.msg)
	return true
}

// checkMessageAgrees fails t when got is not what parseMessagePayload and json.Unmarshal of
// the blocks read from payload.
func checkMessageAgrees(t *testing.T, payload []byte, dm *decodedMessage) {
	t.Helper()
	data := payload
	m, err := parseMessagePayload(payload)
	if err != nil {
		t.Fatalf("%q: fast path read a message, parseMessagePayload says %v", data, err)
	}
	got := dm.ackMessage
	if got.Text != m.Text || got.ResponseType != m.ResponseType || got.ThreadTS != m.ThreadTS ||
		got.ReplaceOriginal != m.ReplaceOriginal || got.DeleteOriginal != m.DeleteOriginal ||
		!bytes.Equal(got.Blocks, m.Blocks) || (got.Blocks == nil) != (m.Blocks == nil) ||
		!bytes.Equal(got.Attachments, m.Attachments) || (got.Attachments == nil) != (m.Attachments == nil) {
		t.Fatalf("%q: fast message %+v, parseMessagePayload %+v", data, got, m)
	}
	if dm.scanned {
		checkStoredAgrees(t, m.Blocks, dm.stored)
	} else if m.Blocks != nil {
		var tree any
		if err := json.Unmarshal(m.Blocks, &tree); err != nil {
			t.Fatalf("%q: fast path decoded blocks encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(tree, dm.blocks) {
			t.Fatalf("%q: fast blocks %#v, encoding/json %#v", data, dm.blocks, tree)
		}
	}
	var s Server
	gotBlocks, gotCode, gotMsgs := s.checkDecoded(dm)
	wantBlocks, wantCode, wantMsgs := s.checkMessage(m.Text, m.Blocks, m.Attachments != nil)
	if gotCode != wantCode || !slices.Equal(gotMsgs, wantMsgs) || (gotBlocks == nil) != (wantBlocks == nil) {
		t.Fatalf("%q: checked fast (%s, %q, %q), the usual way (%s, %q, %q)", data, gotBlocks, gotCode, gotMsgs, wantBlocks, wantCode, wantMsgs)
	}
}

// checkBodyAgrees is checkAckAgrees for a response_url body.
func checkBodyAgrees(t *testing.T, body []byte) bool {
	t.Helper()
	m, ok := decodeMessageFast(body)
	if ok {
		checkMessageAgrees(t, body, m)
	}
	return ok
}

func TestDecodeMessageFastAgrees(t *testing.T) {
	for _, p := range ackPayloads(t) {
		if !checkBodyAgrees(t, p) {
			t.Errorf("real payload left the fast path: %.80s…", p)
		}
	}
	for _, f := range trickyFrames {
		for _, b := range []string{f, " " + f, f + " ", "\n" + f, `"a"`, ` "a"`, `"a" `, `null`, ` null`, `null `, `nul`} {
			checkBodyAgrees(t, []byte(b))
		}
		if a, ok := decodeAckFast([]byte(f)); ok && a.payload != nil {
			checkBodyAgrees(t, a.payload)
		}
	}
}

func FuzzDecodeMessageFast(f *testing.F) {
	for _, s := range trickyFrames {
		f.Add([]byte(s))
	}
	for _, p := range ackPayloads(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkBodyAgrees(t, body) })
}

func frameOf(payload string) []byte {
	return []byte(`{"envelope_id":"0f1e2d3c-aaaa-bbbb-cccc-000000000001","payload":` + payload + `}`)
}

// TestDecodeAckFastRealAcks: what pathbot really sends takes the fast path, read exactly as
// encoding/json reads it.
func TestDecodeAckFastRealAcks(t *testing.T) {
	for _, p := range ackPayloads(t) {
		if !checkAckAgrees(t, frameOf(string(p))) {
			t.Errorf("real ack payload left the fast path: %.80s…", p)
		}
	}
}

var trickyFrames = []string{
	`{}`, `[]`, `null`, `"x"`, `1`, ``, ` `, `{`, `{"envelope_id":"a"`, `{"envelope_id":"a"} x`,
	`{"envelope_id":"a","payload":null}`, `{"envelope_id":"a"}`, `{"envelope_id":"","payload":{}}`,
	`{"envelope_id":null,"payload":{}}`, `{"envelope_id":1}`, `{"Envelope_ID":"a","payload":{}}`,
	`{"envelope_id":"a","PAYLOAD":{"text":"x"}}`, `{"envelope_id":"a","envelope_id":"b"}`,
	`{"envelope_id":"a","payload":{"text":"x"},"payload":{"text":"y"}}`,
	`{"envelope\u005fid":"a","payload":{"te\u0078t":"x"}}`,
	` { "envelope_id" : "a" , "payload" : { "text" : "x" , "blocks" : [ ] } } `,
	"{\"envelope_id\":\"a\",\"payload\":\t{\"text\":\"x\"}\n}",
	`{"envelope_id":"a","payload":"plain text answer"}`, `{"envelope_id":"a","payload":"bad \ud800 surrogate"}`,
	`{"envelope_id":"a","payload":42}`, `{"envelope_id":"a","payload":[1,2]}`, `{"envelope_id":"a","payload":true}`,
	`{"envelope_id":"a","payload":{"text":null,"blocks":null,"attachments":null}}`,
	`{"envelope_id":"a","payload":{"text":"x","text":null}}`, `{"envelope_id":"a","payload":{"text":1}}`,
	`{"envelope_id":"a","payload":{"Text":"x"}}`, `{"envelope_id":"a","payload":{"TEXT":"x","text":"y"}}`,
	`{"envelope_id":"a","payload":{"response_type":"in_channel","replace_original":true,"delete_original":false,"thread_ts":"1.2"}}`,
	`{"envelope_id":"a","payload":{"replace_original":"yes"}}`, `{"envelope_id":"a","payload":{"replace_original":null}}`,
	`{"envelope_id":"a","payload":{"blocks":"not an array"}}`, `{"envelope_id":"a","payload":{"blocks":{}}}`,
	`{"envelope_id":"a","payload":{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"a\u003cb\u0026c\u003e"}}]}}`,
	`{"envelope_id":"a","payload":{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"\"\\\/\b\f\n\r\t\u00e9\u2028"}}]}}`,
	`{"envelope_id":"a","payload":{"blocks":[{"n":[0,-0,1.5,-2e10,1E-7,12345678901234567890,1e400]}]}}`,
	`{"envelope_id":"a","payload":{"blocks":[{"n":[0,-0,1.5,-2e10,1E-7,12345678901234567890]}]}}`,
	`{"envelope_id":"a","payload":{"blocks":[01]}}`, `{"envelope_id":"a","payload":{"blocks":[1.]}}`,
	`{"envelope_id":"a","payload":{"blocks":[-]}}`, `{"envelope_id":"a","payload":{"blocks":[1e]}}`,
	`{"envelope_id":"a","payload":{"blocks":[tru]}}`, `{"envelope_id":"a","payload":{"blocks":[true,false,null,{},[]]}}`,
	`{"envelope_id":"a","payload":{"blocks":[{"a":1,"a":2}]}}`, `{"envelope_id":"a","payload":{"blocks":[1,]}}`,
	`{"envelope_id":"a","payload":{"blocks":[{"a":1,}]}}`, `{"envelope_id":"a","payload":{"blocks":["\x"]}}`,
	`{"envelope_id":"a","payload":{"blocks":["\u12"]}}`, "{\"envelope_id\":\"a\",\"payload\":{\"blocks\":[\"\x01\"]}}",
	"{\"envelope_id\":\"a\",\"payload\":{\"blocks\":[\"\xff\"]}}", "{\"envelope_id\":\"a\",\"payload\":{\"x\":\"\xff\"}}",
	`{"envelope_id":"a","payload":{"attachments":[{"text":"x"}],"unknown":{"deep":[[[{}]]]}}}`,
	`{"envelope_id":"a","payload":{"response_action":"errors","errors":{"b":"bad"}}}`,
	`{"envelope_id":"a","payload":{"blocks":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}`,
}

func TestDecodeAckFastAgrees(t *testing.T) {
	for _, f := range trickyFrames {
		checkAckAgrees(t, []byte(f))
	}
}

func FuzzDecodeAckFast(f *testing.F) {
	for _, s := range trickyFrames {
		f.Add([]byte(s))
	}
	for _, p := range ackPayloads(f) {
		f.Add(frameOf(string(p)))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkAckAgrees(t, data) })
}

// checkEncodes fails t when appendJSON encodes v differently from json.Marshal.
func checkEncodes(t *testing.T, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	got, ok := appendJSON(nil, v)
	if !ok {
		if err == nil {
			t.Fatalf("appendJSON gave up on %#v", v)
		}
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("appendJSON(%#v) = %s, json.Marshal %s (%v)", v, got, want, err)
	}
}

func TestAppendJSONMatchesMarshal(t *testing.T) {
	for _, p := range ackPayloads(t) {
		var v any
		if err := json.Unmarshal(p, &v); err != nil {
			t.Fatal(err)
		}
		checkEncodes(t, v)
	}
	for _, v := range []any{
		nil, true, false, "", "plain", "<a&b>", "\"\\/\b\f\n\r\t\x00\x1f\x7f", "é€😀", "\u2028\u2029", "bad \xff\xfe utf8 \xe2\x80",
		0.0, -0.0, 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, 1.7976931348623157e308,
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", nil, map[string]any{"z<": true, "é": "y", "A": 2.0}}, "": "empty"},
	} {
		checkEncodes(t, v)
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, p := range ackPayloads(f) {
		f.Add(p)
	}
	f.Add([]byte(`[1e-7,-0,"\u2028<>&\ud83d\ude00",{"b":1,"a":[null,true]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		checkEncodes(t, v)
		if s, ok := v.(string); ok {
			checkEncodes(t, s+string(data))
		}
	})
}

// wantEnvelope is the envelope as deliver encoded it with json.Marshal.
func wantEnvelope(id, typ string, payload []byte, attempt int) ([]byte, error) {
	w := envelopeWire{EnvelopeID: id, Type: typ, Payload: payload, AcceptsResponsePayload: typ != "events_api"}
	if typ == "events_api" {
		reason := ""
		if attempt > 0 {
			reason = "timeout"
		}
		w.RetryAttempt, w.RetryReason = &attempt, &reason
	}
	return json.Marshal(w)
}

func checkEnvelope(t *testing.T, payload []byte) {
	t.Helper()
	for _, typ := range []string{"slash_commands", "interactive", "events_api"} {
		for attempt := range 3 {
			want, wantErr := wantEnvelope("4bb2b95e-11f9-479f-86d8-4fe51dc5e8ab", typ, payload, attempt)
			got, err := envelopeJSON("4bb2b95e-11f9-479f-86d8-4fe51dc5e8ab", typ, payload, attempt, false)
			if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
				t.Fatalf("envelope of %q: %s (%v), json.Marshal %s (%v)", payload, got, err, want, wantErr)
			}
			if marshalReady(payload) {
				if got, _ := envelopeJSON("4bb2b95e-11f9-479f-86d8-4fe51dc5e8ab", typ, payload, attempt, true); !bytes.Equal(got, want) {
					t.Fatalf("compact envelope of %q: %s, json.Marshal %s", payload, got, want)
				}
			}
		}
	}
}

func TestEnvelopeJSONMatchesMarshal(t *testing.T) {
	payloads := [][]byte{nil, {}, []byte(`{}`), []byte(` {}`), []byte(`{} `), []byte(`{"a": 1}`), []byte(`{"a":"x y"}`),
		[]byte(`{"a":"<b>&"}`), []byte("{\"a\":\"\u2028\"}"), []byte(`{"a":"\"<"}`), []byte(`{"a":"\\"}`),
		[]byte(`{"a":`), []byte(`[1,2]`), []byte(`"s"`), []byte("{\"a\":\"\xff\"}")}
	payloads = append(payloads, ackPayloads(t)...)
	for _, p := range payloads {
		checkEnvelope(t, p)
	}
	p := slashPayload{Token: "t", TeamID: "T1", TeamDomain: "d", ChannelID: "D1", ChannelName: "directmessage",
		UserID: "U1", UserName: "ünï <code>", Command: "/path", Text: "done \"x\" & <y>\n\t\u2028\xff",
		APIAppID: "A1", IsEnterpriseInstall: "false", ResponseURL: "http://127.0.0.1:1/response/x-y", TriggerID: "1.2.3"}
	want, err := json.Marshal(p)
	if got := p.appendJSON(nil); err != nil || !bytes.Equal(got, want) || !marshalReady(got) {
		t.Fatalf("slash payload %s, json.Marshal %s (%v)", got, want, err)
	}
	checkEnvelope(t, want)
}

// TestPrepareSlashMatchesMarshal checks the payload prepareSlash writes out piece by piece
// against json.Marshal of the same values, with a base address that needs escaping.
func TestPrepareSlashMatchesMarshal(t *testing.T) {
	s := New(Config{PublicURL: "http://emu.test/a<b>&c\u2028/"})
	t.Cleanup(func() { _ = s.Close() })
	s.SeedTeammates()
	for _, text := range []string{"", "status", "done \"x\" & <y>\n\t\u2028\xff"} {
		_, buf, err := s.prepareSlash("U0BEN", "", "/path", text)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(buf[slashEnvGap:])
		id := newUUID()
		if env, want := slashEnvelope(buf, id), mustEnvelope(t, id, got); !bytes.Equal(env, want) {
			t.Fatalf("slashEnvelope %s, envelopeJSON %s", env, want)
		}
		var p slashPayload
		if err := json.Unmarshal(got, &p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ResponseURL, "http://emu.test/a<b>&c\u2028/response/") || p.Text != strings.ToValidUTF8(text, "\ufffd") {
			t.Fatalf("payload %+v", p)
		}
		p.Text = text // as sent: json.Marshal writes invalid UTF-8 as an escape, not raw
		want, _ := json.Marshal(p)
		if !bytes.Equal(got, want) {
			t.Fatalf("prepareSlash %s, json.Marshal %s", got, want)
		}
	}
}

func mustEnvelope(t *testing.T, id string, payload []byte) []byte {
	t.Helper()
	b, err := envelopeJSON(id, "slash_commands", payload, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkPrepareSlash is building one slash command's payload.
func BenchmarkPrepareSlash(b *testing.B) {
	s := New(Config{})
	b.Cleanup(func() { _ = s.Close() })
	s.SeedTeammates()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.prepareSlash("U0BEN", "", "/path", "status"); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzEnvelopeJSON(f *testing.F) {
	f.Add([]byte(`{"a":"x y <z>"}`), "text")
	for _, p := range ackPayloads(f) {
		f.Add(p, "status")
	}
	f.Fuzz(func(t *testing.T, payload []byte, text string) {
		checkEnvelope(t, payload)
		p := slashPayload{Text: text, UserName: string(payload)}
		want, err := json.Marshal(p)
		if got := p.appendJSON(nil); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("slash payload %s, json.Marshal %s (%v)", got, want, err)
		}
	})
}

// BenchmarkAckCheck is the emulator's work on one ack payload pathbot really sent: read the
// frame, check the blocks, produce the stored copy. "old" is the encoding/json way.
func BenchmarkAckCheck(b *testing.B) {
	s := New(Config{})
	b.Cleanup(func() { _ = s.Close() })
	var frames [][]byte
	for _, p := range ackPayloads(b) {
		frames = append(frames, frameOf(string(p)))
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		// CPU time, GC included, is steadier than wall time on a shared machine.
		cpu0 := cpuTime()
		defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
		for i := range b.N {
			a, ok := decodeAckFast(frames[i%len(frames)])
			if !ok {
				b.Fatal("slow path")
			}
			m := a.msg
			if _, code, _ := s.checkDecoded(m); code != "" {
				b.Fatal(code)
			}
		}
	})
	b.Run("old", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			_, payload, err := slowAck(frames[i%len(frames)])
			if err != nil {
				b.Fatal(err)
			}
			m, err := parseMessagePayload(payload)
			if err != nil {
				b.Fatal(err)
			}
			if _, code, _ := s.checkMessage(m.Text, m.Blocks, m.Attachments != nil); code != "" {
				b.Fatal(code)
			}
		}
	})
}
