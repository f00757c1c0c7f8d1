package slacksocket

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// slashEnvelope is a slash command envelope as Slack (and the emulator) sends it.
var slashEnvelope = []byte(`{"envelope_id":"9c2b5b8e-0b7e-4a57-9f39-3c1c3f6b2d11","payload":{"token":"abc","team_id":"T0PATHBOT","team_domain":"pathbot","channel_id":"D0ASHA","channel_name":"directmessage","user_id":"U0ASHA","user_name":"asha","command":"/path","text":"done tail-at-scale","api_app_id":"A0PATHBOT","is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/T0PATHBOT/1/abc","trigger_id":"1.2.abc"},"type":"slash_commands","accepts_response_payload":true}`)

// BenchmarkDecodeSlash is the reading goroutine's work per slash command before it is handled.
func BenchmarkDecodeSlash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		req, err := decode(slashEnvelope)
		if err != nil || req.Slash.Text != "done tail-at-scale" || req.Slash.TriggerID != "1.2.abc" {
			b.Fatalf("decoded %+v, %v", req, err)
		}
	}
}

// BenchmarkAckFrame builds an ack frame around an answer already encoded.
func BenchmarkAckFrame(b *testing.B) {
	l := &Link{}
	payload := []byte(`{"response_type":"ephemeral","text":"Marked *Tail at Scale* as done."}`)
	b.ReportAllocs()
	for b.Loop() {
		// No link is up, so the frame is queued; free it as the writer would once it is written.
		if err := l.Ack("9c2b5b8e-0b7e-4a57-9f39-3c1c3f6b2d11", payload); err != nil {
			b.Fatal(err)
		}
		freeFrame(l.queue[0])
		l.queue = l.queue[:0]
	}
}

// BenchmarkDecodeSlashSlackGo is what slack-go's socketmode client did with the same envelope
// (read it into a json.RawMessage, decode the envelope, then the slash command), for comparison.
func BenchmarkDecodeSlashSlackGo(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var raw json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(slashEnvelope)).Decode(&raw); err != nil {
			b.Fatal(err)
		}
		var req socketmode.Request
		if err := json.Unmarshal(raw, &req); err != nil {
			b.Fatal(err)
		}
		var sc slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &sc); err != nil || sc.Text != "done tail-at-scale" {
			b.Fatalf("decoded %+v, %v", sc, err)
		}
	}
}
