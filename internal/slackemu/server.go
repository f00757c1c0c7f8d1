package slackemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes the emulated workspace and app. Zero values get Slack-like defaults.
type Config struct {
	TeamID   string // default "T0PATHBOT"
	TeamName string // default "Pathbot Dev"
	AppID    string // default "A0PATHBOT"

	AppToken string // app-level token for apps.connections.open; default "xapp-1-A0PATHBOT-emulator"
	BotToken string // bot token for Web API methods; default "xoxb-emulator-bot-token"

	BotUserID string // default "U0PATHBOT"
	BotID     string // default "B0PATHBOT"
	BotName   string // default "pathbot"

	// PingInterval is how often each link gets a WebSocket PING; slack-go drops a link
	// that has not been pinged for 30 s. Default 10 s, as observed on real Slack.
	PingInterval time.Duration
	// AckTimeout is the ack deadline for every envelope. Default 3 s.
	AckTimeout time.Duration
	// AnswerTimeout bounds how long an interaction that was acked without an answer waits
	// for the bot's response_url post (or, for clicks, any visible effect) before it is
	// reported with Result.Answered false. It is the emulator's patience, not a Slack
	// limit. Default 30 s.
	AnswerTimeout time.Duration
	// EventRetryDelays are the pauses before each redelivery of an unacked events_api
	// envelope, counted from the missed deadline. Default {0, 1 min, 5 min}: Slack retries
	// "nearly immediately", then after one and five minutes. At most three are used.
	EventRetryDelays []time.Duration
	// ResponseURLTTL is how long a response_url stays usable. Default 30 min.
	ResponseURLTTL time.Duration
	// TriggerTTL is how long a trigger_id can open a view. Default 3 s.
	TriggerTTL time.Duration
	// ConnectionLifetime, when set, refreshes each link after that long: a "warning"
	// disconnect 10 s before, then "refresh_requested" and a close. Links opened with
	// debug_reconnects=true live 360 s regardless. Zero keeps links open indefinitely.
	ConnectionLifetime time.Duration
	// HistoryLimit caps the messages kept per conversation, and MaxMessages those kept in
	// the whole workspace; the oldest are forgotten so a long load test does not grow
	// without bound. Defaults 10000 and 200000.
	HistoryLimit int
	MaxMessages  int
	// PublicURL is the base URL the bot uses to reach the emulator, used in response_urls.
	// By default it is the address the bot used for its last apps.connections.open, else
	// the listen address.
	PublicURL string
	// Links are shown in the web UI's header bar, e.g. {"metrics": "http://127.0.0.1:9090/metrics"}.
	Links map[string]string

	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.TeamID, "T0PATHBOT")
	def(&c.TeamName, "Pathbot Dev")
	def(&c.AppID, "A0PATHBOT")
	def(&c.AppToken, "xapp-1-A0PATHBOT-emulator")
	def(&c.BotToken, "xoxb-emulator-bot-token")
	def(&c.BotUserID, "U0PATHBOT")
	def(&c.BotID, "B0PATHBOT")
	def(&c.BotName, "pathbot")
	if c.PingInterval <= 0 {
		c.PingInterval = 10 * time.Second
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 3 * time.Second
	}
	if c.AnswerTimeout <= 0 {
		c.AnswerTimeout = 30 * time.Second
	}
	if c.EventRetryDelays == nil {
		c.EventRetryDelays = []time.Duration{0, time.Minute, 5 * time.Minute}
	}
	if len(c.EventRetryDelays) > 3 {
		c.EventRetryDelays = c.EventRetryDelays[:3]
	}
	if c.ResponseURLTTL <= 0 {
		c.ResponseURLTTL = 30 * time.Minute
	}
	if c.TriggerTTL <= 0 {
		c.TriggerTTL = 3 * time.Second
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = 10000
	}
	if c.MaxMessages <= 0 {
		c.MaxMessages = 200000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Well-known ids of the default conversations.
const (
	LeaderboardChannelID = "C0LEADERS"
	GeneralChannelID     = "C0GENERAL"
	// SlackbotUserID authors the system lines Slack itself shows (e.g. dispatch_failed).
	SlackbotUserID = "USLACKBOT"
)

// Server is one emulated workspace with one installed app. All methods are safe for
// concurrent use.
type Server struct {
	cfg    Config
	domain string // team domain, derived from TeamName
	log    *slog.Logger
	mux    *http.ServeMux
	base   atomic.Pointer[string]
	// botBase is the emulator's address as the bot last dialled it (from
	// apps.connections.open), so response_urls work when the bot runs in a container.
	botBase atomic.Pointer[string]

	httpMu  sync.Mutex
	httpSrv *http.Server

	ws workspace

	// Socket Mode links.
	linkMu    sync.Mutex
	links     atomic.Pointer[[]*link]
	rr        atomic.Uint64
	linkSeq   atomic.Int64
	tickets   sync.Map // ticket -> time.Time issued
	envelopes idMap[*envelope]
	envBufs   bufFree
	ackClock  ackClock

	responseURLs numMap[*responseURL]
	triggers     numMap[*trigger]
	watch        watchers

	views viewStore

	limits limiter
	stats  counters

	tsLast   atomic.Int64
	msgTotal atomic.Int64
	seq      atomic.Uint64
	version  atomic.Uint64

	devMu      sync.Mutex
	devActions []devAction

	closeOnce sync.Once
	closed    chan struct{}
}

// New builds a server with the default workspace: the bot user, #path-leaderboard
// (LeaderboardChannelID) and #general (GeneralChannelID). Call Start, or mount Handler.
func New(cfg Config) *Server {
	cfg.setDefaults()
	s := &Server{
		cfg:    cfg,
		domain: domainOf(cfg.TeamName),
		log:    cfg.Logger.With("component", "slackemu"),
		closed: make(chan struct{}),
	}
	s.links.Store(&[]*link{})
	s.ws.init(s)
	s.views.init()
	s.limits.init()
	s.routes()
	if cfg.PublicURL != "" {
		u := strings.TrimSuffix(cfg.PublicURL, "/") + "/"
		s.base.Store(&u)
	}
	go s.janitor()
	return s
}

// Config returns the effective configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Start listens on addr (e.g. "127.0.0.1:0" or ":3000") and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("slackemu: listen on %s: %w", addr, err)
	}
	if s.cfg.PublicURL == "" {
		host := ln.Addr().String()
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && (tcp.IP == nil || tcp.IP.IsUnspecified()) {
			// A wildcard listener is reachable on loopback; "[::]:3000" is not a URL a
			// bot on this machine can dial.
			host = fmt.Sprintf("127.0.0.1:%d", tcp.Port)
		}
		u := "http://" + host + "/"
		s.base.Store(&u)
	}
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.httpMu.Lock()
	s.httpSrv = srv
	s.httpMu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve failed", "err", err)
		}
	}()
	s.log.Info("slack emulator listening", "url", s.URL())
	return nil
}

// Handler serves the UI, Web API, WebSocket links and response_urls, for mounting in an
// existing server or httptest. Without Start the base URL is learned from the first request.
func (s *Server) Handler() http.Handler { return s.mux }

// URL is the base URL, e.g. "http://127.0.0.1:PORT/". Empty before Start or the first request.
func (s *Server) URL() string {
	if p := s.base.Load(); p != nil {
		return *p
	}
	return ""
}

// APIURL is the Web API base for slack.OptionAPIURL; it ends with "/" because slack-go
// concatenates the method name.
func (s *Server) APIURL() string { return s.URL() + "api/" }

// Close stops serving and closes every link without a disconnect frame.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		s.DropConnections()
		s.httpMu.Lock()
		srv := s.httpSrv
		s.httpMu.Unlock()
		if srv != nil {
			// Longer than the 5 s net/http gives a connection that never sent a request before it
			// counts as idle: an HTTP client whose request was cancelled after its dial (a job of a
			// bot shutting down, say) keeps such a connection, and would otherwise fail Close.
			ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second)
			defer cancel()
			if e := srv.Shutdown(ctx); e != nil {
				err = fmt.Errorf("slackemu: shut down http server: %w", e)
				_ = srv.Close()
			}
		}
	})
	return err
}

// learnBase records the URL clients use when the server was mounted via Handler.
func (s *Server) learnBase(r *http.Request) {
	if s.base.Load() != nil || r.Host == "" {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := scheme + "://" + r.Host + "/"
	s.base.CompareAndSwap(nil, &u)
}

// changed tells UI pollers that something visible happened.
func (s *Server) changed() { s.version.Add(1) }

// WaitFor polls cond until it is true or ctx ends.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slackemu: condition not met: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// janitor forgets expired response_urls, triggers and ack tombstones so that a long load
// test keeps a bounded footprint.
func (s *Server) janitor() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var tick int
	for {
		select {
		case <-s.closed:
			return
		case now := <-t.C:
			tick++
			s.triggers.deleteIf(func(t *trigger) bool {
				return now.Sub(t.issued) > s.cfg.TriggerTTL+10*time.Second
			})
			s.envelopes.deleteIf(func(e *envelope) bool {
				at := e.expiredAt.Load()
				return at != 0 && now.UnixNano()-at > int64(2*time.Minute)
			})
			s.tickets.Range(func(k, v any) bool {
				if now.Sub(v.(time.Time)) > ticketTTL {
					s.tickets.Delete(k)
				}
				return true
			})
			if int(s.msgTotal.Load()) > s.cfg.MaxMessages {
				s.trimHistory(s.cfg.MaxMessages * 9 / 10)
			}
			// Two shards a tick, each every 16 s: all at once took 25 ms with the 325k
			// response_urls of a 65 s run at 5,000/s, a stall the load generator (on one P)
			// counted in its latencies. Expiry itself does not wait for the sweep.
			for k := range 2 {
				s.responseURLs.deleteIfIn(2*tick+k, func(ru *responseURL) bool {
					return now.Sub(ru.created) > s.cfg.ResponseURLTTL
				})
			}
		}
	}
}
