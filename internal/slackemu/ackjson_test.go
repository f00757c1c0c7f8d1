package slackemu

import (
	"bytes"
	"encoding/json"
	"reflect"
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
	m, err := parseMessagePayload(payload)
	if a.msg == nil {
		if err == nil {
			t.Fatalf("%q: fast path left the payload undecoded, parseMessagePayload read %+v", data, m)
		}
		return true
	}
	if err != nil {
		t.Fatalf("%q: fast path read a message, parseMessagePayload says %v", data, err)
	}
	got := a.msg.ackMessage
	if got.Text != m.Text || got.ResponseType != m.ResponseType || got.ThreadTS != m.ThreadTS ||
		got.ReplaceOriginal != m.ReplaceOriginal || got.DeleteOriginal != m.DeleteOriginal ||
		!bytes.Equal(got.Blocks, m.Blocks) || (got.Blocks == nil) != (m.Blocks == nil) ||
		!bytes.Equal(got.Attachments, m.Attachments) || (got.Attachments == nil) != (m.Attachments == nil) {
		t.Fatalf("%q: fast message %+v, parseMessagePayload %+v", data, got, m)
	}
	if m.Blocks != nil {
		var tree any
		if err := json.Unmarshal(m.Blocks, &tree); err != nil {
			t.Fatalf("%q: fast path decoded blocks encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(tree, a.msg.blocks) {
			t.Fatalf("%q: fast blocks %#v, encoding/json %#v", data, a.msg.blocks, tree)
		}
	}
	return true
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
