package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/slacksocket"
	"github.com/pathbot/pathbot/internal/store"
)

// gateStore holds every call that reaches the database until the test lets it through: one call
// per token sent on gate, all of them once gate is closed.
type gateStore struct {
	Store   // nil: a method the tests don't expect panics
	gate    chan struct{}
	entered atomic.Int64 // calls that reached the store
	applied atomic.Int64 // writes that reached the store
}

func (g *gateStore) wait(ctx context.Context) error {
	g.entered.Add(1)
	select {
	case <-g.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gateStore) Enrol(ctx context.Context, _ store.Member) error { return g.wait(ctx) }

func (g *gateStore) Snapshot(context.Context, store.Member) (store.Snapshot, error) {
	return store.Snapshot{Enrolled: true}, nil
}

func (g *gateStore) Apply(ctx context.Context, _ store.Member, _ string, _ store.Change) (store.Result, error) {
	g.applied.Add(1)
	if err := g.wait(ctx); err != nil {
		return store.Result{}, err
	}
	return store.Result{Changed: true, Snapshot: store.Snapshot{Enrolled: true}}, nil
}

type ackRec struct {
	id   string
	text string
	at   time.Time
}

// fakeSocket records acks instead of writing them to a WebSocket.
type fakeSocket struct{ acks chan ackRec }

func (f *fakeSocket) Ack(envelopeID string, payload json.RawMessage) error {
	rec := ackRec{id: envelopeID, at: time.Now()}
	if len(payload) > 0 {
		var p struct{ Text string }
		if err := json.Unmarshal(payload, &p); err != nil {
			return err
		}
		rec.text = p.Text
	}
	f.acks <- rec
	return nil
}

// next returns the next ack, failing the test if none comes within d.
func (f *fakeSocket) next(t *testing.T, d time.Duration) ackRec {
	t.Helper()
	select {
	case a := <-f.acks:
		return a
	case <-time.After(d):
		t.Fatalf("no ack within %s", d)
		return ackRec{}
	}
}

// countingObs counts what the bot reports, shed requests included.
type countingObs struct {
	mu   sync.Mutex
	shed map[string]int
	cmds map[string]int
}

func (o *countingObs) Command(command, outcome string, _, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cmds[outcome]++
}
func (o *countingObs) Ack(string, time.Duration) {}
func (o *countingObs) SocketConnected(bool)      {}
func (o *countingObs) Shed(envelopeType, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.shed[envelopeType+"/"+reason]++
}

func (o *countingObs) get(m map[string]int, k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return m[k]
}

type admissionRig struct {
	bot   *Bot
	store *gateStore
	sock  *fakeSocket
	obs   *countingObs
	logs  *syncBuffer
	seq   atomic.Int64
	posts chan string // bodies posted to response_url
	url   string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newAdmissionRig(t *testing.T, limit int, wait time.Duration) *admissionRig {
	t.Helper()
	cur, err := curriculum.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	r := &admissionRig{
		store: &gateStore{gate: make(chan struct{})},
		sock:  &fakeSocket{acks: make(chan ackRec, 1000)},
		obs:   &countingObs{shed: map[string]int{}, cmds: map[string]int{}},
		logs:  &syncBuffer{},
		posts: make(chan string, 100),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.posts <- string(body)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/respond"
	h := &Handler{
		Curriculum: cur,
		Store:      r.store,
		Thresholds: progress.DefaultThresholds,
		Now:        func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
	}
	r.bot = &Bot{
		Handler:     h,
		API:         slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/api/")),
		Log:         slog.New(slog.NewTextHandler(r.logs, nil)),
		Obs:         r.obs,
		AckBudget:   10 * time.Second, // answers of released handlers ride in the ack
		MaxInFlight: limit,
		AdmitWait:   wait,
	}
	t.Cleanup(func() {
		select {
		case <-r.store.gate:
		default:
			close(r.store.gate)
		}
		r.bot.inflight.Wait()
	})
	return r
}

// slash delivers one /path command as the event loop would, received at recv.
func (r *admissionRig) slash(text string, recv time.Time) string {
	id := fmt.Sprintf("E%d", r.seq.Add(1))
	sc := slack.SlashCommand{TeamID: "T1", UserID: "U1", Command: "/path", Text: text, TriggerID: "trig-" + id, ResponseURL: r.url}
	r.bot.dispatch(context.Background(), r.sock, &slacksocket.Request{EnvelopeID: id, Type: slacksocket.TypeSlashCommands, Slash: sc}, recv)
	return id
}

func (r *admissionRig) click(value string) {
	cb := slack.InteractionCallback{
		Type:        slack.InteractionTypeBlockActions,
		Team:        slack.Team{ID: "T1"},
		User:        slack.User{ID: "U1"},
		TriggerID:   "trig-click",
		ResponseURL: r.url,
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{
			{ActionID: ActionDone, Value: value},
		}},
	}
	payload, err := json.Marshal(cb)
	if err != nil {
		panic(err)
	}
	r.bot.dispatch(context.Background(), r.sock, &slacksocket.Request{EnvelopeID: "EC", Type: slacksocket.TypeInteractive, Payload: payload}, time.Now())
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func isBusy(text string) bool {
	return strings.Contains(text, "very busy") && strings.Contains(text, "nothing was saved")
}

// TestOverloadShedsAtOnceAndRecovers fills every slot with handlers stuck on the database, then
// checks that further commands are answered "busy, nothing was saved" at once without reaching
// the store, that the shed counter moved and the warning is rate-limited, and that service
// resumes once the stuck handlers finish.
func TestOverloadShedsAtOnceAndRecovers(t *testing.T) {
	t.Parallel()
	const limit, extra = 4, 25
	r := newAdmissionRig(t, limit, 0)

	for i := 0; i < limit; i++ {
		r.slash("done tail-at-scale", time.Now())
	}
	waitFor(t, "the first commands to reach the store", func() bool { return r.store.entered.Load() == limit })
	if got := r.bot.InFlight(); got != limit {
		t.Fatalf("in flight = %d, want %d", got, limit)
	}

	for i := 0; i < extra; i++ {
		sent := time.Now()
		id := r.slash("done tail-at-scale", sent)
		a := r.sock.next(t, 2*time.Second)
		if a.id != id {
			t.Fatalf("ack for %s, want %s (a stuck command was acked?)", a.id, id)
		}
		if !isBusy(a.text) {
			t.Fatalf("command beyond the bound got %q, want the busy answer", a.text)
		}
		// AdmitWait plus scheduling (a shared machine under -race can stall for a few hundred
		// ms): nowhere near Slack's 3 s, nor the 10 s ack budget the stuck commands wait on.
		if d := a.at.Sub(sent); d > time.Second {
			t.Errorf("busy answer took %s, want it at once", d)
		}
	}
	if n := r.store.entered.Load(); n != limit {
		t.Errorf("%d calls reached the store, want only the %d admitted", n, limit)
	}
	if n := r.store.applied.Load(); n != limit {
		t.Errorf("%d writes started, want only the %d admitted", n, limit)
	}
	// The counter moves just after the ack.
	waitFor(t, fmt.Sprintf("the shed counter to reach %d", extra), func() bool { return r.obs.get(r.obs.shed, "slash_commands/busy") == extra })
	if n := strings.Count(r.logs.String(), "shedding requests"); n != 1 {
		t.Errorf("%d shedding warnings for %d shed requests in a burst, want 1 (rate-limited):\n%s", n, extra, r.logs.String())
	}

	close(r.store.gate)
	for i := 0; i < limit; i++ {
		a := r.sock.next(t, 5*time.Second)
		if isBusy(a.text) || a.text == "" {
			t.Errorf("stuck command answered %q after release, want its real answer", a.text)
		}
	}
	waitFor(t, "the slots to free up", func() bool { return r.bot.InFlight() == 0 })

	before := r.obs.get(r.obs.shed, "slash_commands/busy")
	for i := 0; i < 3; i++ {
		r.slash("next", time.Now())
		if a := r.sock.next(t, 5*time.Second); isBusy(a.text) || a.text == "" {
			t.Errorf("after recovery got %q, want a normal answer", a.text)
		}
	}
	if got := r.obs.get(r.obs.shed, "slash_commands/busy"); got != before {
		t.Errorf("shed counter moved from %d to %d under normal load", before, got)
	}
	// The counter moves just after the ack.
	waitFor(t, fmt.Sprintf("%d commands answered ok", limit+3), func() bool { return r.obs.get(r.obs.cmds, "ok") == limit+3 })
}

// TestLateEnvelopeStartsNoWrite: an envelope picked up after LateAfter would be acked too late, so
// it must not start a write, even with slots free.
func TestLateEnvelopeStartsNoWrite(t *testing.T) {
	t.Parallel()
	r := newAdmissionRig(t, 4, 0)
	r.bot.AckBudget = time.Second
	close(r.store.gate)

	r.slash("done tail-at-scale", time.Now().Add(-2600*time.Millisecond))
	a := r.sock.next(t, 2*time.Second)
	if !isBusy(a.text) {
		t.Errorf("late command got %q, want the busy answer", a.text)
	}
	if n := r.store.entered.Load(); n != 0 {
		t.Errorf("a late command reached the store %d times", n)
	}
	waitFor(t, "the late shed counter to move", func() bool { return r.obs.get(r.obs.shed, "slash_commands/late") == 1 })

	// Received 1.2 s ago: past the ack budget but still in time. It is acked at once (empty) and
	// answered through response_url.
	sent := time.Now()
	r.slash("done tail-at-scale", sent.Add(-1200*time.Millisecond))
	a = r.sock.next(t, 2*time.Second)
	if a.text != "" || a.at.Sub(sent) > time.Second {
		t.Errorf("command past the ack budget acked %q after %s, want an empty ack at once", a.text, a.at.Sub(sent))
	}
	select {
	case body := <-r.posts:
		if isBusy(body) || !strings.Contains(body, "ephemeral") {
			t.Errorf("response_url got %s, want the real answer", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer through response_url")
	}
	if n := r.store.applied.Load(); n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
}

// TestWaitingBrieflyForASlot: with a waiting room, a command that arrives while the bound is
// reached is admitted if a slot frees up in time instead of being shed.
func TestWaitingBrieflyForASlot(t *testing.T) {
	t.Parallel()
	r := newAdmissionRig(t, 2, 2*time.Second)
	r.slash("next", time.Now())
	r.slash("next", time.Now())
	waitFor(t, "both slots to be taken", func() bool { return r.store.entered.Load() == 2 })

	r.slash("next", time.Now()) // waits in the waiting room (room for max(2/10, 1) = 1)
	id := r.slash("next", time.Now())
	a := r.sock.next(t, time.Second) // the waiting room is full: shed at once
	if a.id != id || !isBusy(a.text) {
		t.Fatalf("got %s %q, want the busy answer for %s", a.id, a.text, id)
	}

	r.store.gate <- struct{}{} // one stuck command finishes; the waiter takes its slot
	if a := r.sock.next(t, 5*time.Second); isBusy(a.text) {
		t.Fatalf("released command answered busy")
	}
	waitFor(t, "the waiter to reach the store", func() bool { return r.store.entered.Load() == 3 })
	close(r.store.gate)
	for i := 0; i < 2; i++ {
		if a := r.sock.next(t, 5*time.Second); isBusy(a.text) {
			t.Errorf("admitted command answered busy")
		}
	}
	waitFor(t, "the shed counter to move", func() bool { return r.obs.get(r.obs.shed, "slash_commands/busy") == 1 })
}

// TestBusyClick: a button clicked while the bound is reached is acked at once and told through
// response_url, as a new message so that the buttons stay; nothing is written.
func TestBusyClick(t *testing.T) {
	t.Parallel()
	r := newAdmissionRig(t, 1, 0)
	r.slash("next", time.Now())
	waitFor(t, "the slot to be taken", func() bool { return r.store.entered.Load() == 1 })

	r.click("tail-at-scale")
	if a := r.sock.next(t, time.Second); a.id != "EC" {
		t.Fatalf("ack for %s, want the click's", a.id)
	}
	select {
	case body := <-r.posts:
		var msg struct {
			Text            string `json:"text"`
			ReplaceOriginal bool   `json:"replace_original"`
		}
		if err := json.Unmarshal([]byte(body), &msg); err != nil {
			t.Fatalf("response_url body %s: %v", body, err)
		}
		if !isBusy(msg.Text) || msg.ReplaceOriginal {
			t.Errorf("busy click answer = %s, want the busy text, not replacing the message", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no busy answer to the click")
	}
	if n := r.store.applied.Load(); n != 0 {
		t.Errorf("a shed click started %d writes", n)
	}
	if got := r.obs.get(r.obs.shed, "interactive/busy"); got != 1 {
		t.Errorf("shed counter = %d, want 1", got)
	}
}

// TestHandlerPanicFreesTheSlot: a panicking handler answers the internal-error sentence and gives
// its slot back instead of taking the process (or the slot) with it.
func TestHandlerPanicFreesTheSlot(t *testing.T) {
	t.Parallel()
	r := newAdmissionRig(t, 1, 0)
	r.bot.Handler.Store = nil // Enrol on a nil Store panics
	r.slash("next", time.Now())
	if a := r.sock.next(t, 5*time.Second); !strings.Contains(a.text, "something went wrong") {
		t.Errorf("panicking handler answered %q", a.text)
	}
	waitFor(t, "the slot to free up", func() bool { return r.bot.InFlight() == 0 })
}

// An answer acked through the reused buffer is byte for byte what json.Marshal makes of it.
func TestAckWithIsTheMarshalledAnswer(t *testing.T) {
	r := Reply{Text: `Marked <Tail at Scale> & "friends" as done`, Blocks: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*1.* <https://x.y|x> & é", false, false), nil, nil),
	}}
	want, err := json.Marshal(r.ack())
	if err != nil {
		t.Fatal(err)
	}
	var got json.RawMessage
	sm := ackFunc(func(_ string, p json.RawMessage) error { got = append(got[:0], p...); return nil })
	for range 3 { // the buffer is reused
		if err := ackWith(sm, "E1", r); err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("acked %s\nwant %s", got, want)
		}
	}
}

type ackFunc func(string, json.RawMessage) error

func (f ackFunc) Ack(id string, p json.RawMessage) error { return f(id, p) }
