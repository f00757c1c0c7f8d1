package slackbot

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/slacksocket"
)

// Admission control. Every slash command, click and event holds one of MaxInFlight slots while its
// handler works (the database included; not while a late answer is posted to response_url). When
// all are taken, a request may wait AdmitWait in a small waiting room; if no slot frees up by then,
// or the waiting room is full, it is shed: acked at once with a friendly "busy, nothing was saved"
// answer, and nothing is read or written. A request whose turn comes LateAfter or more after the
// bot received it is shed too: its ack would reach Slack after the 3 s deadline, the user would
// already have been shown an error, so writing anything would happen behind their back.
//
// Without this, overload queues every envelope on the database pool, each waits longer than the
// one before, acks pass 3 s, goodput collapses to a fraction of capacity and memory grows without
// bound (docs/benchmarks.md, "5,000/s").

// Defaults for the admission fields of Bot.
const (
	// DefaultMaxInFlight matches the configuration's default, 256 × DB_MAX_CONNS=20.
	DefaultMaxInFlight = 5120
	// DefaultAdmitWait is long enough to absorb a burst at the bound (at capacity a slot frees up
	// every millisecond or less) and short enough that a shed request is still answered at once.
	DefaultAdmitWait = 5 * time.Millisecond
	// DefaultLateAfter leaves half a second of Slack's 3 s for the ack to travel.
	DefaultLateAfter = 2500 * time.Millisecond
)

// Reasons a request was shed (the reason label of pathbot_requests_shed_total).
const (
	ShedBusy = "busy"
	ShedLate = "late"
)

// ShedObserver is optionally implemented by an Observer to count shed requests.
type ShedObserver interface {
	Shed(envelopeType, reason string)
}

const (
	busyText = ":hourglass_flowing_sand: pathbot is very busy right now and did not run this command — " +
		"*nothing was saved*. Please try again in a few seconds."
	busyClickText = ":hourglass_flowing_sand: pathbot is very busy right now and did not handle that click — " +
		"*nothing was saved*. Please click again in a few seconds."
	// busyPosts bounds the busy answers to clicks being posted to response_url at once; beyond
	// it a click is acked without an answer (the button simply did nothing).
	busyPosts = 16
	// shedLogEvery is the least time between two "shedding" warnings.
	shedLogEvery = 10 * time.Second
)

// admission is a counting semaphore of slots plus a bounded waiting room.
type admission struct {
	slots      chan struct{}
	wait       time.Duration
	maxWaiting int64
	waiting    atomic.Int64
	posts      chan struct{}

	logMu   sync.Mutex
	logged  time.Time
	pending map[string]int // shed since the last warning, by reason
}

func newAdmission(limit int, wait time.Duration) *admission {
	limit = max(limit, 1)
	return &admission{
		slots: make(chan struct{}, limit),
		wait:  wait,
		// A slot frees up about every millisecond at the bound, so more waiters than this
		// would mostly time out anyway.
		maxWaiting: int64(max(limit/10, 1)),
		posts:      make(chan struct{}, busyPosts),
		pending:    map[string]int{},
	}
}

func (a *admission) tryAcquire() bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// enterWaitingRoom reports whether there is room to wait for a slot; the caller then waits with
// acquireWithin and leaves with leaveWaitingRoom.
func (a *admission) enterWaitingRoom() bool {
	if a.wait <= 0 {
		return false
	}
	if a.waiting.Add(1) > a.maxWaiting {
		a.waiting.Add(-1)
		return false
	}
	return true
}

func (a *admission) leaveWaitingRoom() { a.waiting.Add(-1) }

// acquireWithin waits up to d for a slot. Waiters blocked on the channel are served first, in
// order, when a slot is released, so a newcomer cannot overtake them.
func (a *admission) acquireWithin(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (a *admission) release() { <-a.slots }

// InFlight is the number of requests holding a slot now.
func (b *Bot) InFlight() int { return len(b.adm().slots) }

func (b *Bot) adm() *admission {
	b.admOnce.Do(func() {
		limit := b.MaxInFlight
		if limit <= 0 {
			limit = DefaultMaxInFlight
		}
		wait := b.AdmitWait
		if wait == 0 {
			wait = DefaultAdmitWait
		}
		b.admission = newAdmission(limit, wait)
	})
	return b.admission
}

func (b *Bot) lateAfter() time.Duration {
	if b.LateAfter > 0 {
		return b.LateAfter
	}
	return DefaultLateAfter
}

// job is one envelope's work: run it when admitted (calling release as soon as the handler no
// longer needs the database), or shed it.
type job struct {
	kind string // the envelope type
	recv time.Time
	run  func(ctx context.Context, release func())
	shed func(reason string)
}

// admit runs j if a slot is free, waits briefly for one if the waiting room has space, and sheds
// j otherwise. It never blocks the event loop on a slot: shedding is an ack, a channel send.
func (b *Bot) admit(ctx context.Context, j job) {
	a := b.adm()
	if a.tryAcquire() {
		b.spawn(ctx, func(ctx context.Context) { b.start(ctx, a, j) })
		return
	}
	if a.enterWaitingRoom() {
		b.spawn(ctx, func(ctx context.Context) {
			ok := a.acquireWithin(a.wait)
			a.leaveWaitingRoom()
			if !ok {
				j.shed(ShedBusy)
				return
			}
			b.start(ctx, a, j)
		})
		return
	}
	j.shed(ShedBusy)
}

// start runs an admitted job holding its slot, unless the envelope has grown too old to be acked
// in time, in which case it sheds it without doing any work.
func (b *Bot) start(ctx context.Context, a *admission, j job) {
	var once sync.Once
	release := func() { once.Do(a.release) }
	defer release()
	if time.Since(j.recv) >= b.lateAfter() {
		release()
		j.shed(ShedLate)
		return
	}
	j.run(ctx, release)
}

// shed books one shed request: the counter, and a warning at most every shedLogEvery.
func (b *Bot) shed(kind, reason string) {
	if so, ok := b.Obs.(ShedObserver); ok {
		so.Shed(kind, reason)
	}
	a := b.adm()
	now := time.Now()
	a.logMu.Lock()
	a.pending[kind+"/"+reason]++
	if now.Sub(a.logged) < shedLogEvery {
		a.logMu.Unlock()
		return
	}
	var since time.Duration
	if !a.logged.IsZero() {
		since = now.Sub(a.logged).Round(time.Second)
	}
	counts := a.pending
	a.pending = map[string]int{}
	a.logged = now
	a.logMu.Unlock()
	attrs := []any{"in_flight", len(a.slots), "max_in_flight", cap(a.slots)}
	if since > 0 {
		attrs = append(attrs, "since_last_warning", since)
	}
	for k, n := range counts {
		attrs = append(attrs, k, n)
	}
	b.Log.Warn("overloaded: shedding requests (answered \"busy, nothing was saved\", nothing written)", attrs...)
}

// shedSlash acks a slash command with the busy answer.
func (b *Bot) shedSlash(sm acker, envelopeID string, recv time.Time, reason string) {
	if err := ackWith(sm, envelopeID, Reply{Text: busyText}); err != nil {
		b.Log.Error("ack failed", "err", err)
	}
	if b.Obs != nil {
		b.Obs.Ack(slacksocket.TypeSlashCommands, time.Since(recv))
	}
	b.shed(slacksocket.TypeSlashCommands, reason)
}

// shedInteractive acks a click and, if few are being posted already, tells the user through
// response_url, as a new ephemeral message so that the buttons stay to click again.
func (b *Bot) shedInteractive(ctx context.Context, sm acker, envelopeID string, cb slack.InteractionCallback, recv time.Time, reason string) {
	b.ackEmpty(sm, envelopeID)
	if b.Obs != nil {
		b.Obs.Ack(slacksocket.TypeInteractive, time.Since(recv))
	}
	b.shed(slacksocket.TypeInteractive, reason)
	if cb.Type != slack.InteractionTypeBlockActions || cb.ResponseURL == "" {
		return
	}
	a := b.adm()
	select {
	case a.posts <- struct{}{}:
	default:
		return
	}
	b.spawn(ctx, func(ctx context.Context) {
		defer func() { <-a.posts }()
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := b.respond(ctx, cb.ResponseURL, Reply{Text: busyClickText}, false); err != nil {
			b.Log.Debug("busy answer to a click failed", "err", err)
		}
	})
}

// shedEvent acks an Events API envelope and drops it (an App Home not refreshed this once).
func (b *Bot) shedEvent(sm acker, envelopeID string, recv time.Time, reason string) {
	b.ackEmpty(sm, envelopeID)
	if b.Obs != nil {
		b.Obs.Ack(slacksocket.TypeEventsAPI, time.Since(recv))
	}
	b.shed(slacksocket.TypeEventsAPI, reason)
}
