package slackemu

import (
	"context"
	"io"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// startEmu starts an emulator with the demo teammates on a loopback port.
func startEmu(t *testing.T, cfg Config) *Server {
	t.Helper()
	s := New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	s.SeedTeammates()
	return s
}

// botAPI is a slack-go Web API client configured like pathbot's.
func botAPI(s *Server) *slack.Client {
	return slack.New(s.Config().BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.Config().AppToken))
}

// testBot runs a real slack-go socketmode client against s, handing every event to handle
// on the event loop goroutine, the way pathbot's dispatcher does.
type testBot struct {
	api *slack.Client
	sm  *socketmode.Client

	mu        sync.Mutex
	connected int
	hellos    []socketmode.Request
}

func startBot(t testing.TB, s *Server, handle func(b *testBot, evt socketmode.Event), opts ...socketmode.Option) *testBot {
	t.Helper()
	api := botAPI(s)
	opts = append([]socketmode.Option{socketmode.OptionLog(log.New(io.Discard, "", 0))}, opts...)
	b := &testBot{api: api, sm: socketmode.New(api, opts...)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = b.sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-b.sm.Events:
				switch evt.Type {
				case socketmode.EventTypeConnected:
					b.mu.Lock()
					b.connected++
					b.mu.Unlock()
				case socketmode.EventTypeHello:
					b.mu.Lock()
					b.hellos = append(b.hellos, *evt.Request)
					b.mu.Unlock()
				}
				if handle != nil {
					handle(b, evt)
				}
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	waitCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := s.WaitConnections(waitCtx, 1); err != nil {
		t.Fatalf("bot did not connect: %v", err)
	}
	return b
}

func (b *testBot) connections() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.connected
}

func (b *testBot) ack(t testing.TB, evt socketmode.Event, payload ...any) {
	t.Helper()
	if err := b.sm.Ack(*evt.Request, payload...); err != nil {
		t.Errorf("ack: %v", err)
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// parseHome extracts app_home_opened from an events_api event.
func parseHome(evt socketmode.Event) *slackevents.AppHomeOpenedEvent {
	ev, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok {
		return nil
	}
	h, _ := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	return h
}
