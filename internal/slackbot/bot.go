// Package slackbot connects pathbot to Slack over Socket Mode: it receives slash commands, button
// clicks and events on one or more WebSocket links, hands them to Handler, and answers inside the
// envelope's ack whenever the work fits comfortably in Slack's 3-second window (one round trip
// fewer than posting to response_url), falling back to response_url when it does not. Views are
// pure functions from progress to Block Kit.
package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/pathbot/pathbot/internal/slacksocket"
)

// Observer receives what the bot does, for metrics. A nil Observer records nothing.
type Observer interface {
	Command(command, outcome string, ack, response time.Duration)
	Ack(envelopeType string, d time.Duration)
	// SocketConnected reports link state; the metrics count a reconnect themselves.
	SocketConnected(connected bool)
}

// Bot runs the Socket Mode links and dispatches envelopes to the Handler.
type Bot struct {
	Handler *Handler
	API     *slack.Client
	Log     *slog.Logger
	Obs     Observer
	// Connections is the number of Socket Mode links to keep open (Slack allows 10 per app).
	Connections int
	// AckBudget is how long after its envelope was received a slash command may work before the
	// bot acks empty and answers through response_url instead.
	AckBudget time.Duration
	// MaxInFlight bounds the envelopes being handled at once (see admission.go); beyond it they
	// are answered "busy, nothing was saved" at once. 0 means DefaultMaxInFlight.
	MaxInFlight int
	// AdmitWait is how long an envelope may wait for a free slot before it is shed; 0 means
	// DefaultAdmitWait, negative not at all.
	AdmitWait time.Duration
	// LateAfter: an envelope whose turn comes this long after it was received is shed without any
	// work, as its ack would be too late. 0 means DefaultLateAfter.
	LateAfter time.Duration

	inflight sync.WaitGroup
	// work is the parent of every handler's context; Run cancels it when the drain time is up, so
	// handlers stuck waiting (for a database connection, under overload) give up and the process
	// still exits in time.
	work      context.Context
	mu        sync.Mutex
	connected map[*slacksocket.Link]bool

	admOnce   sync.Once
	admission *admission
}

// acker acknowledges envelopes with a JSON payload (nil for none): a *slacksocket.Link, or a
// fake in tests.
type acker interface {
	// Ack must not keep payload after it returns: it is reused (see ackWith).
	Ack(envelopeID string, payload json.RawMessage) error
}

// Connected reports whether at least one Socket Mode link is up, for readiness.
func (b *Bot) Connected() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, up := range b.connected {
		if up {
			return true
		}
	}
	return false
}

func (b *Bot) setConnected(c *slacksocket.Link, up bool) {
	b.mu.Lock()
	if b.connected == nil {
		b.connected = map[*slacksocket.Link]bool{}
	}
	b.connected[c] = up
	b.mu.Unlock()
	if b.Obs != nil {
		b.Obs.SocketConnected(b.Connected())
	}
}

// Run keeps the links open until ctx ends. Then it stops taking new envelopes, lets in-flight
// handlers finish (and ack) within drain, and only then closes the sockets.
func (b *Bot) Run(ctx context.Context, drain time.Duration) error {
	n := max(b.Connections, 1)
	if b.AckBudget == 0 {
		b.AckBudget = 2 * time.Second
	}
	// The sockets outlive ctx so that acks of in-flight work can still be written.
	sockCtx, closeSockets := context.WithCancel(context.WithoutCancel(ctx))
	defer closeSockets()
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	b.work = work
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		link := &slacksocket.Link{API: b.API, Log: b.Log}
		link.State = func(up bool) {
			b.setConnected(link, up)
			if up {
				b.Log.Info("socket mode connected")
			}
		}
		link.Handle = func(req *slacksocket.Request, recv time.Time) {
			if ctx.Err() != nil {
				// Shutting down: not acked, so Slack gives it to another replica.
				return
			}
			b.dispatch(ctx, link, req, recv)
		}
		go func() { errc <- link.Run(sockCtx) }()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		// Run returns early only when Slack refuses the token.
		b.Log.Error("slack rejected the app-level token; check SLACK_APP_TOKEN", "err", err)
		runErr = err
	}
	waited := make(chan struct{})
	go func() { b.inflight.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(drain):
		b.Log.Warn("in-flight handlers still running at shutdown; cancelling them", "drain", drain)
		stopWork()
	}
	closeSockets()
	return runErr
}

// dispatch hands a request envelope, received at recv, to admission control. It runs on the
// link's reading goroutine, so it only decodes and hands over.
func (b *Bot) dispatch(ctx context.Context, sm acker, req *slacksocket.Request, recv time.Time) {
	switch req.Type {
	case slacksocket.TypeSlashCommands:
		sc := req.Slash
		if b.answerFromMemory(sm, req.EnvelopeID, sc, recv) {
			return
		}
		b.admit(ctx, job{
			kind: req.Type, recv: recv,
			run:  func(ctx context.Context, release func()) { b.slash(ctx, sm, req.EnvelopeID, sc, recv, release) },
			shed: func(reason string) { b.shedSlash(sm, req.EnvelopeID, recv, reason) },
		})
	case slacksocket.TypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			b.Log.Warn("unreadable interaction payload acked and ignored", "err", err)
			b.ackEmpty(sm, req.EnvelopeID)
			return
		}
		b.admit(ctx, job{
			kind: req.Type, recv: recv,
			run:  func(ctx context.Context, release func()) { b.interactive(ctx, sm, req.EnvelopeID, cb, recv, release) },
			shed: func(reason string) { b.shedInteractive(ctx, sm, req.EnvelopeID, cb, recv, reason) },
		})
	case slacksocket.TypeEventsAPI:
		ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			b.Log.Warn("unreadable Events API payload acked and ignored", "err", err)
			b.ackEmpty(sm, req.EnvelopeID)
			return
		}
		b.admit(ctx, job{
			kind: req.Type, recv: recv,
			run:  func(ctx context.Context, release func()) { b.eventsAPI(ctx, sm, req.EnvelopeID, ev, recv, release) },
			shed: func(reason string) { b.shedEvent(sm, req.EnvelopeID, recv, reason) },
		})
	default:
		// An envelope we don't handle still gets acked so Slack doesn't retry it.
		b.ackEmpty(sm, req.EnvelopeID)
	}
}

// answerFromMemory answers a slash command where it was read when the handler can do so from
// memory alone (Handler.SlashFromMemory: bad input, help, a member's own status, next and list
// with their snapshot cached): no admission slot, no goroutine, no wake-up, for work of tens of
// microseconds. It reports whether it answered; if not, the command takes the usual way.
func (b *Bot) answerFromMemory(sm acker, envelopeID string, sc slack.SlashCommand, recv time.Time) (answered bool) {
	defer func() {
		if p := recover(); p != nil {
			// The usual way runs it again, and answers "something went wrong" if it panics there too.
			b.Log.Error("handler panicked answering from memory", "panic", p)
			answered = false
		}
	}()
	r, verb, ok := b.Handler.SlashFromMemory(sc)
	if !ok {
		return false
	}
	if err := ackWith(sm, envelopeID, r); err != nil {
		b.Log.Error("ack failed", "team", sc.TeamID, "user", sc.UserID, "envelope", envelopeID, "err", err)
	}
	if b.Obs != nil {
		at := time.Since(recv)
		outcome := "ok"
		if verb == "usage" {
			outcome = "user_error"
		}
		b.Obs.Ack(slacksocket.TypeSlashCommands, at)
		b.Obs.Command(verb, outcome, at, at)
	}
	return true
}

func (b *Bot) ackEmpty(sm acker, envelopeID string) {
	if err := sm.Ack(envelopeID, nil); err != nil {
		b.Log.Error("ack failed", "err", err)
	}
}

// spawn runs one envelope's work on its own goroutine, detached from shutdown so that work which
// was started is finished and acked, and with a panic guard so one bad input never kills the bot.
func (b *Bot) spawn(ctx context.Context, f func(context.Context)) {
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		defer func() {
			if r := recover(); r != nil {
				b.Log.Error("handler panicked", "panic", r)
			}
		}()
		parent := b.work
		if parent == nil {
			parent = context.WithoutCancel(ctx)
		}
		hctx, cancel := context.WithTimeout(parent, 30*time.Second)
		defer cancel()
		f(hctx)
	}()
}

// ackPayload is what a slash command's ack carries: the answer, shown to the user only.
type ackPayload struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func (r Reply) ack() ackPayload {
	return ackPayload{ResponseType: "ephemeral", Text: r.Text, Blocks: r.Blocks}
}

// answerBuf is where an answer is encoded before Ack copies it into its frame: reused, because
// answers are the bot's largest allocation (kilobytes each, thousands a second under load).
type answerBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var answerBufs = sync.Pool{New: func() any {
	a := &answerBuf{}
	a.enc = json.NewEncoder(&a.buf)
	return a
}}

// ackWith acks an envelope with r as its answer.
func ackWith(sm acker, envelopeID string, r Reply) error {
	a := answerBufs.Get().(*answerBuf)
	a.buf.Reset()
	err := a.enc.Encode(r.ack()) // what json.Marshal gives, and a newline
	if err != nil {
		err = fmt.Errorf("encode answer: %w", err)
	} else {
		err = sm.Ack(envelopeID, bytes.TrimSuffix(a.buf.Bytes(), []byte("\n")))
	}
	if a.buf.Cap() <= 64<<10 {
		answerBufs.Put(a)
	}
	return err
}

// slash answers a slash command received at recv. release frees its admission slot; it is called
// as soon as the handler is done, before any answer is posted to response_url.
func (b *Bot) slash(ctx context.Context, sm acker, envelopeID string, sc slack.SlashCommand, recv time.Time, release func()) {
	// Built on demand: With pre-formats its attributes, which costs on every command otherwise.
	log := func() *slog.Logger {
		return b.Log.With("team", sc.TeamID, "user", sc.UserID, "command", sc.Command, "envelope", envelopeID)
	}
	// The handler runs on this goroutine and a timer stands by to ack empty if it is too slow to
	// answer inside the ack; whichever finishes first claims the ack. (A second goroutine per
	// command, and the wake-up handing its answer over, cost more than the timer.)
	const (
		pending int32 = iota
		answered
		deferred
	)
	var state atomic.Int32
	var ackAt time.Duration
	acked := make(chan struct{}) // closed once the empty ack of a deferred answer is sent
	ackEmpty := func() {
		if err := sm.Ack(envelopeID, nil); err != nil {
			log().Error("ack failed", "err", err)
		}
		ackAt = time.Since(recv)
		close(acked)
	}
	// The budget counts from receipt, so time spent waiting for a slot or a CPU is part of it.
	if remaining := b.AckBudget - time.Since(recv); remaining <= 0 {
		state.Store(deferred) // the budget is spent already: ack empty at once
		ackEmpty()
	} else {
		budget := time.AfterFunc(remaining, func() {
			if state.CompareAndSwap(pending, deferred) {
				ackEmpty()
			}
		})
		defer budget.Stop()
	}
	a := b.runSlash(ctx, sc, release)
	if state.CompareAndSwap(pending, answered) {
		if err := ackWith(sm, envelopeID, a.r); err != nil {
			log().Error("ack failed", "err", err)
		}
		ackAt = time.Since(recv)
	} else {
		// Too slow to answer inside the ack: it was acked empty, the answer goes to response_url.
		<-acked
		if err := b.respond(ctx, sc.ResponseURL, a.r, false); err != nil {
			log().Error("answer through response_url failed", "err", err)
		}
	}
	outcome := "ok"
	switch {
	case a.err != nil:
		outcome = "error"
		log().Error("command failed", "verb", a.verb, "err", a.err)
	case a.verb == "usage":
		outcome = "user_error"
	}
	if b.Obs != nil {
		b.Obs.Ack("slash_commands", ackAt)
		b.Obs.Command(a.verb, outcome, ackAt, time.Since(recv))
	}
	if b.Log.Enabled(ctx, slog.LevelDebug) {
		log().Debug("command answered", "verb", a.verb, "outcome", outcome, "elapsed", time.Since(recv))
	}
}

type answer struct {
	r    Reply
	verb string
	err  error
}

// runSlash runs the handler and frees the admission slot as soon as it is done; a panic becomes
// the "something went wrong" answer instead of ending the process.
func (b *Bot) runSlash(ctx context.Context, sc slack.SlashCommand, release func()) (a answer) {
	defer release()
	defer func() {
		if p := recover(); p != nil {
			a = answer{errorReply(errInternal, ""), "panic", fmt.Errorf("handler panicked: %v", p)}
		}
	}()
	r, verb, err := b.Handler.Slash(ctx, sc)
	return answer{r, verb, err}
}

// respond posts a reply to a response_url, honouring Slack's 429 Retry-After a few times so that a
// rate-limited answer still reaches the user.
func (b *Bot) respond(ctx context.Context, url string, r Reply, replace bool) error {
	opts := []slack.MsgOption{
		slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
		slack.MsgOptionText(r.Text, false),
		slack.MsgOptionBlocks(r.Blocks...),
	}
	if replace {
		opts = append(opts, slack.MsgOptionReplaceOriginal(url))
	}
	return Retry(ctx, func() error {
		_, _, err := b.API.PostMessageContext(ctx, "", opts...)
		return err
	})
}

// Retry runs f up to four times, waiting out Slack's Retry-After on a 429.
func Retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = f()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up waiting for the rate limit)", err)
		case <-time.After(rl.RetryAfter):
		}
	}
	return err
}

func (b *Bot) interactive(ctx context.Context, sm acker, envelopeID string, cb slack.InteractionCallback, recv time.Time, release func()) {
	// Button clicks are acked at once and answered through response_url, replacing the message.
	b.ackEmpty(sm, envelopeID)
	if b.Obs != nil {
		b.Obs.Ack(slacksocket.TypeInteractive, time.Since(recv))
	}
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	r, err := b.Handler.Action(ctx, cb.Team.ID, cb.User.ID, cb.TriggerID, act.ActionID, act.Value)
	release()
	log := b.Log.With("team", cb.Team.ID, "user", cb.User.ID, "action", act.ActionID)
	if err != nil {
		log.Error("button failed", "err", err)
	}
	if cb.ResponseURL == "" {
		return
	}
	if err := b.respond(ctx, cb.ResponseURL, r, true); err != nil {
		log.Error("answer button through response_url failed", "err", err)
	}
}

func (b *Bot) eventsAPI(ctx context.Context, sm acker, envelopeID string, ev slackevents.EventsAPIEvent, recv time.Time, release func()) {
	b.ackEmpty(sm, envelopeID)
	if b.Obs != nil {
		b.Obs.Ack(slacksocket.TypeEventsAPI, time.Since(recv))
	}
	home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || home.Tab != "home" {
		return
	}
	r, err := b.Handler.Home(ctx, ev.TeamID, home.User)
	release()
	if err != nil {
		b.Log.Error("render app home failed", "team", ev.TeamID, "user", home.User, "err", err)
		return
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: r.Blocks}}
	err = Retry(ctx, func() error {
		_, err := b.API.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: home.User, View: view})
		return err
	})
	if err != nil {
		b.Log.Error("publish app home failed", "team", ev.TeamID, "user", home.User, "err", err)
	}
}
