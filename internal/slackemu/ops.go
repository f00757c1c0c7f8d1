package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// verificationToken is the deprecated per-app token Slack still puts in payloads.
const verificationToken = "emulatorVerificationToken0"

// Result is what a user saw after acting.
//
// Error holds what Slack would show for a failure ("dispatch_failed" when the ack missed
// the deadline, "invalid_blocks" when the ack payload was refused, …); errors that are
// the emulator's own, such as an unknown user, start with "emulator:". Answered reports
// whether an answer arrived: for slash commands a message from the ack payload, a
// response_url post or a modal opened with the trigger_id; for clicks any visible effect
// (a response_url post, a bot message or update in that conversation visible to the
// user, a view opened or updated); for view submissions the ack.
type Result struct {
	EnvelopeID string
	Acked      bool
	AckLatency time.Duration
	Messages   []Message
	Error      string
	Answered   bool

	Sent       time.Time
	AckedAt    time.Time
	AnsweredAt time.Time

	// ViewErrors are the errors shown under input blocks of the modal, from Slack's own
	// client-side checks (required fields) or response_action "errors".
	ViewErrors map[string]string
}

type opKind uint8

const (
	kindSlash opKind = iota
	kindAction
	kindSubmit
	kindEvent
	kindClosed
)

// op is one user interaction in flight: its envelopes, ack, and the answers collected
// until done is called exactly once.
type op struct {
	s       *Server
	kind    opKind
	user    string
	channel string
	command string
	viewID  string
	payload []byte

	mu          sync.Mutex
	res         Result
	acked       bool
	finished    bool
	answerTimer *time.Timer
	done        func(*Result)
	watchKeys   []string
	rurl        *responseURL
	trig        *trigger
	// box holds the Result to be delivered and its first message, from the first answer
	// on: one allocation, where the message and the Result were one each.
	box *resultBox

	// env is a slash command's envelope, allocated with it: they live and die together.
	env envelope
}

func (s *Server) newOp(kind opKind, user, channel string) *op {
	return &op{s: s, kind: kind, user: user, channel: channel}
}

func (o *op) setEnvelope(e *envelope) {
	o.mu.Lock()
	o.res.EnvelopeID = e.id
	if o.res.Sent.IsZero() {
		o.res.Sent = e.sent
	}
	o.mu.Unlock()
}

func (o *op) snapshot() *Result {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.res
	r.Messages = slices.Clone(r.Messages)
	return &r
}

// finish delivers the result once; mut runs under the lock first.
func (o *op) finish(mut func(*Result)) {
	o.mu.Lock()
	if o.finished {
		o.mu.Unlock()
		return
	}
	if mut != nil {
		mut(&o.res)
	}
	o.finished = true
	if o.answerTimer != nil {
		o.answerTimer.Stop()
	}
	var res *Result
	if o.box != nil {
		o.box.r = o.res
		res, o.box = &o.box.r, nil
	} else {
		r := o.res
		res = &r
	}
	// Timers and triggers may still reach the op for a while; keep what they hold small.
	o.res = Result{EnvelopeID: res.EnvelopeID, Acked: res.Acked}
	done := o.done
	o.done = nil
	keys := o.watchKeys
	ru := o.rurl
	trig := o.trig
	o.mu.Unlock()
	if ru != nil {
		ru.mu.Lock()
		ru.op = nil
		ru.mu.Unlock()
	}
	if trig != nil {
		trig.op.Store(nil)
	}
	if len(keys) > 0 {
		o.s.watch.remove(o, keys)
	}
	if res.Answered {
		o.s.stats.answered.Add(1)
	}
	if done != nil {
		done(res)
	}
}

type resultBox struct {
	r Result
	m [1]Message
}

// addAnswer records something the user now sees. The same message can arrive twice (a
// response_url post is also a message in a watched conversation), so it is keyed by ts.
func (o *op) addAnswer(m *Message) {
	o.mu.Lock()
	if o.finished {
		o.mu.Unlock()
		return
	}
	o.addAnswerLocked(m, time.Now())
	ready := o.acked
	o.mu.Unlock()
	if ready {
		o.finish(nil)
	}
}

func (o *op) addAnswerLocked(m *Message, now time.Time) {
	if m != nil {
		replaced := false
		for i := range o.res.Messages {
			if o.res.Messages[i].TS == m.TS && o.res.Messages[i].Channel == m.Channel {
				o.res.Messages[i], replaced = *m, true
			}
		}
		if !replaced {
			if o.res.Messages == nil && !o.finished {
				o.box = new(resultBox)
				o.res.Messages = o.box.m[:0:1]
			}
			o.res.Messages = append(o.res.Messages, *m)
		}
	}
	if !o.res.Answered {
		o.res.Answered, o.res.AnsweredAt = true, now
	}
}

func (o *op) markAcked(e *envelope, at time.Time) {
	o.res.Acked, o.res.AckedAt, o.res.AckLatency = true, at, at.Sub(e.sent)
	o.acked = true
}

// waitAnswer arms the emulator's patience after an ack that did not answer by itself.
func (o *op) waitAnswer() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.finished || o.answerTimer != nil {
		return
	}
	o.answerTimer = time.AfterFunc(o.s.cfg.AnswerTimeout, func() { o.finish(nil) })
}

func (o *op) onAck(e *envelope, payload json.RawMessage, msg *decodedMessage, at time.Time) {
	switch o.kind {
	case kindSlash:
		o.s.ackSlash(o, e, payload, msg, at)
	case kindSubmit:
		o.s.ackSubmit(o, e, slices.Clone(payload), at)
	case kindAction:
		o.mu.Lock()
		o.markAcked(e, at)
		answered := o.res.Answered
		o.mu.Unlock()
		if answered {
			o.finish(nil)
		} else {
			o.waitAnswer()
		}
	default:
		o.finish(func(r *Result) { o.markAcked(e, at); r.Answered, r.AnsweredAt = true, at })
	}
}

func (o *op) onAckTimeout(e *envelope) {
	s := o.s
	switch o.kind {
	case kindEvent:
		s.retryEvent(o, e.attempt)
	case kindSlash:
		s.stats.dispatchFailed.Add(1)
		s.systemLine(o.channel, o.user, fmt.Sprintf("%s failed with the error \"dispatch_failed\"", o.command))
		o.finish(func(r *Result) { r.Error = "dispatch_failed" })
	case kindSubmit:
		s.stats.dispatchFailed.Add(1)
		s.views.setNotice(o.user, o.viewID, "We had some trouble connecting. Try again?")
		s.changed()
		o.finish(func(r *Result) { r.Error = "dispatch_failed" })
	default:
		s.stats.dispatchFailed.Add(1)
		if o.channel != "" {
			s.systemLine(o.channel, o.user, s.cfg.BotName+" did not respond to your action (dispatch_failed)")
		}
		o.finish(func(r *Result) { r.Error = "dispatch_failed" })
	}
}

// notDelivered reports an envelope no link could take: Slack shows the same failure as
// for a missed ack, without waiting for the deadline.
func (s *Server) notDelivered(o *op) {
	o.mu.Lock()
	o.res.Sent = time.Now()
	o.mu.Unlock()
	o.onAckTimeout(&envelope{})
}

// run starts an op through start and waits for its result or ctx.
func (s *Server) run(ctx context.Context, o *op, start func()) (*Result, error) {
	ch := make(chan *Result, 1)
	o.done = func(r *Result) { ch <- r }
	start()
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return o.snapshot(), fmt.Errorf("slackemu: waiting for the app: %w", ctx.Err())
	}
}

type slashPayload struct {
	Token               string `json:"token"`
	TeamID              string `json:"team_id"`
	TeamDomain          string `json:"team_domain"`
	ChannelID           string `json:"channel_id"`
	ChannelName         string `json:"channel_name"`
	UserID              string `json:"user_id"`
	UserName            string `json:"user_name"`
	Command             string `json:"command"`
	Text                string `json:"text"`
	APIAppID            string `json:"api_app_id"`
	IsEnterpriseInstall string `json:"is_enterprise_install"`
	ResponseURL         string `json:"response_url"`
	TriggerID           string `json:"trigger_id"`
}

func (s *Server) teamDomain() string { return s.domain }

// prepareSlash checks that userID may run a command in channelID ("" means the bot DM). The
// payload it returns starts slashEnvGap bytes in, for startSlash to fill with the envelope.
func (s *Server) prepareSlash(userID, channelID, command, text string) (*op, []byte, error) {
	userName, isBot, deleted, ok := s.ws.userFacts(userID)
	if !ok || isBot {
		return nil, nil, fmt.Errorf("emulator: unknown user %q", userID)
	}
	if deleted {
		return nil, nil, fmt.Errorf("emulator: user %s is deactivated", userID)
	}
	var c *conversation
	if channelID == "" {
		c = s.ws.im(userID)
	} else {
		c = s.ws.conv(channelID)
	}
	if c == nil {
		return nil, nil, fmt.Errorf("emulator: unknown channel %q", channelID)
	}
	if !s.ws.isMember(c, userID) {
		return nil, nil, fmt.Errorf("emulator: %s is not in %s", userID, c.id)
	}
	if len(command) < 2 || command[0] != '/' {
		return nil, nil, fmt.Errorf("emulator: %q is not a slash command", command)
	}
	o := s.newOp(kindSlash, userID, c.id)
	o.command = command
	p := slashPayload{
		Token: verificationToken, TeamID: s.cfg.TeamID, TeamDomain: s.teamDomain(),
		ChannelID: c.id, ChannelName: c.name, UserID: userID, UserName: userName,
		Command: command, Text: text, APIAppID: s.cfg.AppID, IsEnterpriseInstall: "false",
	}
	// The response_url and trigger_id are written straight into the payload, not made as
	// strings first: nothing else needs them. Their ids need no escaping.
	base := s.responseURLBase()
	b := s.envBufs.get(slashEnvGap + len(slashEnvTail) + 384 + len(p.Text) + len(base) + maxSlashIDs + len(p.UserName) + len(p.ChannelName))
	b = b[:slashEnvGap]
	b = p.appendUntilResponseURL(b)
	b = append(appendJSONChars(append(b, `,"response_url":"`...), base), "response/"...)
	b = s.appendResponseURLID(b, o, userID, c.id, "")
	b = s.appendTrigger(append(b, `","trigger_id":"`...), userID, o)
	return o, append(b, `"}`...), nil
}

// maxSlashIDs bounds the length of a response_url's id and a trigger_id together.
const maxSlashIDs = 13 + 1 + 13 + 20 + 1 + 20 + 1 + 12

// appendJSON appends p as json.Marshal encodes it, without reflection: a slash command is
// built for every request of a load test.
func (p *slashPayload) appendJSON(b []byte) []byte {
	b = p.appendUntilResponseURL(b)
	b = appendJSONString(append(b, `,"response_url":`...), p.ResponseURL)
	b = appendJSONString(append(b, `,"trigger_id":`...), p.TriggerID)
	return append(b, '}')
}

// appendUntilResponseURL is appendJSON's output before response_url.
func (p *slashPayload) appendUntilResponseURL(b []byte) []byte {
	for _, f := range [...]struct{ key, val string }{
		{`{"token":`, p.Token}, {`,"team_id":`, p.TeamID}, {`,"team_domain":`, p.TeamDomain},
		{`,"channel_id":`, p.ChannelID}, {`,"channel_name":`, p.ChannelName}, {`,"user_id":`, p.UserID},
		{`,"user_name":`, p.UserName}, {`,"command":`, p.Command}, {`,"text":`, p.Text},
		{`,"api_app_id":`, p.APIAppID}, {`,"is_enterprise_install":`, p.IsEnterpriseInstall},
	} {
		b = append(b, f.key...)
		b = appendJSONString(b, f.val)
	}
	return b
}

func (s *Server) startSlash(o *op, payload []byte) {
	s.stats.commands.Add(1)
	e := &o.env
	e.id, e.op, e.sent = newUUID(), o, time.Now()
	f := frame{data: slashEnvelope(payload, e.id), recycle: true}
	if !s.sendEnvelope(e, f) {
		s.envBufs.put(f.data)
		s.notDelivered(o)
	}
}

// A slash command's envelope is built around its payload, in the same buffer, instead of
// copying the payload into another: its head has a fixed length, since envelope ids are all
// newUUID's, and prepareSlash leaves room for it.
const (
	slashEnvHead1 = `{"envelope_id":"`
	slashEnvHead2 = `","type":"slash_commands","payload":`
	slashEnvTail  = `,"accepts_response_payload":true}`
	slashEnvGap   = len(slashEnvHead1) + 36 + len(slashEnvHead2)
)

// slashEnvelope fills in the head of buf, a payload as prepareSlash returns it, and appends
// the tail: envelopeJSON(id, "slash_commands", payload, 0, true) in buf's memory.
func slashEnvelope(buf []byte, id string) []byte {
	if len(id) != 36 {
		panic("slackemu: envelope id " + id + " is not a UUID")
	}
	n := copy(buf, slashEnvHead1)
	n += copy(buf[n:], id)
	copy(buf[n:], slashEnvHead2)
	return append(buf, slashEnvTail...)
}

// SlashCommand runs command (e.g. "/path") with text as userID in channelID ("" for the
// user's DM with the bot) and waits for the answer: the ack payload's message, else the
// first response_url post or a modal opened with its trigger_id. It returns with
// Result.Error "dispatch_failed" when the ack misses AckTimeout (or no link is open), and
// with Answered false after an empty ack and AnswerTimeout of silence. If ctx ends first
// it returns what was seen so far and ctx's error.
func (s *Server) SlashCommand(ctx context.Context, userID, channelID, command, text string) (*Result, error) {
	o, payload, err := s.prepareSlash(userID, channelID, command, text)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, o, func() { s.startSlash(o, payload) })
}

// SlashCommandAsync is SlashCommand without blocking, for open-loop load generation. done
// is called exactly once with Sent, AckedAt and AnsweredAt set: normally from one of the
// emulator's goroutines (so it must not block: it may be holding up a link's reader), or
// before SlashCommandAsync returns when the command cannot be sent at all (unknown user
// or channel; Result.Error then starts with "emulator:").
func (s *Server) SlashCommandAsync(userID, channelID, command, text string, done func(*Result)) {
	o, payload, err := s.prepareSlash(userID, channelID, command, text)
	if err != nil {
		done(&Result{Error: err.Error(), Sent: time.Now()})
		return
	}
	o.done = done
	s.startSlash(o, payload)
}

// ackMessage is a message carried by an ack payload or a response_url post.
type ackMessage struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	Attachments     json.RawMessage `json:"attachments"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// parseMessagePayload accepts what SDKs send: a message object, or a bare string (the Node
// SDK wraps strings as {text}).
func parseMessagePayload(payload json.RawMessage) (ackMessage, error) {
	var m ackMessage
	if len(payload) == 0 || string(payload) == "null" {
		return m, nil
	}
	if payload[0] == '"' {
		err := json.Unmarshal(payload, &m.Text)
		return m, err
	}
	err := json.Unmarshal(payload, &m)
	if isJSONNull(m.Blocks) {
		m.Blocks = nil
	}
	if isJSONNull(m.Attachments) {
		m.Attachments = nil
	}
	return m, err
}

func isJSONNull(b json.RawMessage) bool { return len(b) == 0 || string(b) == "null" }

// ackSlash takes a slash command's ack. dec, when not nil, is payload decoded already.
func (s *Server) ackSlash(o *op, e *envelope, payload json.RawMessage, dec *decodedMessage, at time.Time) {
	var m ackMessage
	var err error
	if dec != nil {
		m = dec.ackMessage
	} else {
		m, err = parseMessagePayload(payload)
	}
	code := ""
	var answer *Message
	switch {
	case err != nil:
		code = "invalid_payload"
	case m.Text != "" || m.Blocks != nil || m.Attachments != nil:
		var blocks json.RawMessage
		var c string
		if dec != nil {
			blocks, c, _ = s.checkDecoded(dec)
		} else {
			blocks, c, _ = s.checkMessage(m.Text, m.Blocks, m.Attachments != nil)
		}
		if c != "" {
			code = c
			break
		}
		answer = &Message{User: s.cfg.BotUserID, Text: m.Text, Blocks: blocks, Source: "ack"}
		if m.ResponseType != "in_channel" {
			answer.Ephemeral, answer.VisibleTo = true, o.user
		}
	}
	if conv := s.ws.conv(o.channel); conv != nil && code == "" {
		if m.ResponseType == "in_channel" {
			// {"response_type":"in_channel"} alone just echoes the command.
			s.appendMessage(conv, Message{User: o.user, Text: o.command, Source: "command"})
		}
		if answer != nil {
			*answer = s.appendMessage(conv, *answer)
			s.rememberOriginal(o, *answer)
		}
	}

	o.mu.Lock()
	o.markAcked(e, at)
	if answer != nil {
		o.addAnswerLocked(answer, at)
	}
	answered := o.res.Answered
	o.mu.Unlock()
	switch {
	case code != "":
		s.failSlash(o, code)
	case answered:
		o.finish(nil)
	default:
		o.waitAnswer()
	}
}

func (s *Server) failSlash(o *op, code string) {
	s.stats.refusedAcks.Add(1)
	s.systemLine(o.channel, o.user, fmt.Sprintf("%s failed with the error %q", o.command, code))
	o.finish(func(r *Result) { r.Error = code })
}

// retryEvent redelivers an unacked events_api envelope with the next retry_attempt.
func (s *Server) retryEvent(o *op, attempt int) {
	if attempt >= len(s.cfg.EventRetryDelays) {
		o.finish(func(r *Result) { r.Error = "emulator: event not acknowledged after retries" })
		return
	}
	s.stats.eventRetries.Add(1)
	time.AfterFunc(s.cfg.EventRetryDelays[attempt], func() {
		o.mu.Lock()
		done := o.finished
		o.mu.Unlock()
		if done {
			return
		}
		if !s.deliver(o, "events_api", o.payload, attempt+1) {
			s.retryEvent(o, attempt+1)
		}
	})
}

// OpenAppHome sends app_home_opened (tab "home") as userID opening the app's Home tab and
// waits for the ack, redelivering like Slack if it is missed.
func (s *Server) OpenAppHome(ctx context.Context, userID string) error {
	o, err := s.prepareHomeOpened(userID)
	if err != nil {
		return err
	}
	r, err := s.run(ctx, o, func() { s.startEvent(o) })
	if err != nil {
		return err
	}
	if r.Error != "" {
		return fmt.Errorf("slackemu: app_home_opened for %s: %s", userID, r.Error)
	}
	return nil
}

func (s *Server) prepareHomeOpened(userID string) (*op, error) {
	u, ok := s.ws.user(userID)
	if !ok || u.IsBot {
		return nil, fmt.Errorf("emulator: unknown user %q", userID)
	}
	im := s.ws.im(userID)
	now := time.Now()
	ev := map[string]any{
		"type": "app_home_opened", "user": userID, "channel": im.id, "tab": "home",
		"event_ts": formatTS(now.UnixMicro()),
	}
	if v := s.views.home(userID); v != nil {
		ev["view"] = v.wire(s)
	}
	payload, err := json.Marshal(map[string]any{
		"token": verificationToken, "team_id": s.cfg.TeamID, "api_app_id": s.cfg.AppID,
		"event": ev, "type": "event_callback",
		"event_id":   "Ev" + strconv.FormatUint(s.seq.Add(1)+1e10, 36),
		"event_time": now.Unix(),
		"authorizations": []map[string]any{{
			"enterprise_id": nil, "team_id": s.cfg.TeamID, "user_id": s.cfg.BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-emulator-" + im.id,
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: marshal app_home_opened: %w", err)
	}
	o := s.newOp(kindEvent, userID, im.id)
	o.payload = payload
	return o, nil
}

func (s *Server) startEvent(o *op) {
	if !s.deliver(o, "events_api", o.payload, 0) {
		s.retryEvent(o, 0)
	}
}

// watchers route bot activity to clicks waiting for a visible effect. Keys are
// conversation ids, "home:U…" and "modal:U…".
type watchers struct {
	n  atomic.Int32
	mu sync.Mutex
	m  map[string][]*op
}

func (w *watchers) add(o *op, keys []string) {
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[string][]*op)
	}
	for _, k := range keys {
		w.m[k] = append(w.m[k], o)
	}
	w.mu.Unlock()
	w.n.Add(1)
}

func (w *watchers) remove(o *op, keys []string) {
	w.mu.Lock()
	for _, k := range keys {
		list := slices.DeleteFunc(w.m[k], func(x *op) bool { return x == o })
		if len(list) == 0 {
			delete(w.m, k)
		} else {
			w.m[k] = list
		}
	}
	w.mu.Unlock()
	w.n.Add(-1)
}

func (w *watchers) get(key string) []*op {
	if w.n.Load() == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.m[key])
}

// notify offers a stored bot message to the clicks watching its conversation.
func (w *watchers) notify(s *Server, m Message) {
	if m.User != s.cfg.BotUserID {
		return
	}
	for _, o := range w.get(m.Channel) {
		if !m.Ephemeral || m.VisibleTo == o.user {
			o.addAnswer(&m)
		}
	}
}

// notifyKey signals a non-message effect, such as a republished Home tab.
func (w *watchers) notifyKey(key string) {
	for _, o := range w.get(key) {
		o.addAnswer(nil)
	}
}
