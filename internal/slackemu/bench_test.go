package slackemu

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/socketmode"
)

// benchEmu starts an emulator for a benchmark; the load test's numbers depend on it.
func benchEmu(b *testing.B) *Server {
	b.Helper()
	s := New(Config{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	s.SeedTeammates()
	return s
}

// BenchmarkSlashCommandRawLink measures the emulator alone: a bare WebSocket client acks
// every envelope at once with a small message.
func BenchmarkSlashCommandRawLink(b *testing.B) {
	s := benchEmu(b)
	info, url, err := botAPI(s).StartSocketModeContext(context.Background())
	if err != nil || info == nil {
		b.Fatal(err)
	}
	c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		b.Fatal(err)
	}
	_ = resp.Body.Close()
	b.Cleanup(func() { _ = c.Close() })
	acks := make(chan []byte, 1024)
	go func() {
		for {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if err := c.ReadJSON(&env); err != nil {
				close(acks)
				return
			}
			if env.EnvelopeID != "" {
				ack, _ := json.Marshal(map[string]any{"envelope_id": env.EnvelopeID, "payload": map[string]any{"text": "ok"}})
				acks <- ack
			}
		}
	}()
	go func() {
		for a := range acks {
			if c.WriteMessage(websocket.TextMessage, a) != nil {
				return
			}
		}
	}()
	benchCommands(b, s)
}

// BenchmarkSlashCommandSlackGo measures the round trip through a real slack-go client.
func BenchmarkSlashCommandSlackGo(b *testing.B) {
	s := benchEmu(b)
	startBot(b, s, func(bot *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			bot.ack(b, evt, map[string]any{"text": "ok"})
		}
	})
	benchCommands(b, s)
}

func benchCommands(b *testing.B, s *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.WaitConnections(ctx, 1); err != nil {
		b.Fatal(err)
	}
	users := []string{"U0ASHA", "U0BEN", "U0CLARA", "U0DIEGO", "U0EMI", "U0FINN", "U0GRACE"}
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			res, err := s.SlashCommand(ctx, users[i%len(users)], "", "/path", "x")
			if err != nil || !res.Answered {
				b.Errorf("command: %+v %v", res, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
}
