package slackemu

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const maxResponseURLUses = 5

// responseURL is one response_url: usable maxResponseURLUses times within ResponseURLTTL.
type responseURL struct {
	created    time.Time
	user       string
	channel    string
	forCommand bool

	mu     sync.Mutex
	uses   int
	origTS string // the message replace_original and delete_original act on
	op     *op    // cleared when the op finishes, so a kept URL does not keep the op
}

// newResponseURL issues a response_url for o.
func (s *Server) newResponseURL(o *op, user, channel, origTS string) string {
	var buf [128]byte
	b := append(append(buf[:0], s.responseURLBase()...), "response/"...)
	return string(s.appendResponseURLID(b, o, user, channel, origTS))
}

// appendResponseURLID issues a response_url for o and appends its id to b, for callers that
// write the URL out themselves. The id is its creation time, so that an id forgotten by the
// janitor can still be told apart as expired, and a random key unique among the live ones,
// which the map is keyed by: one of these is made for every command.
func (s *Server) appendResponseURLID(b []byte, o *op, user, channel, origTS string) []byte {
	now := time.Now()
	ru := &responseURL{created: now, user: user, channel: channel, op: o, origTS: origTS, forCommand: o != nil && o.kind == kindSlash}
	if o != nil {
		o.rurl = ru
	}
	key := rand.Uint64()
	for !s.responseURLs.storeNew(key, ru) {
		key = rand.Uint64()
	}
	return appendResponseURLID(b, now.UnixMilli(), key)
}

func appendResponseURLID(b []byte, createdMs int64, key uint64) []byte {
	b = strconv.AppendInt(b, createdMs, 36)
	return strconv.AppendUint(append(b, '-'), key, 36)
}

// responseURL finds the response_url whose id is id.
func (s *Server) responseURL(id string) (*responseURL, bool) {
	_, k, ok := strings.Cut(id, "-")
	if !ok {
		return nil, false
	}
	key, err := strconv.ParseUint(k, 36, 64)
	if err != nil {
		return nil, false
	}
	ru, ok := s.responseURLs.load(key)
	// Only the id as issued, not another way of writing its numbers (upper case, leading
	// zeros, another time).
	var buf [32]byte
	if !ok || string(appendResponseURLID(buf[:0], ru.created.UnixMilli(), key)) != id {
		return nil, false
	}
	return ru, true
}

// responseURLBase is what response_urls start with, before "response/".
func (s *Server) responseURLBase() string {
	base := s.URL()
	if p := s.botBase.Load(); p != nil {
		base = *p
	}
	if base == "" {
		base = "http://slackemu.invalid/"
	}
	return base
}

// rememberOriginal makes msg the target of later replace_original/delete_original posts
// to a slash command's response_url.
func (s *Server) rememberOriginal(o *op, msg Message) {
	if ru := o.rurl; ru != nil {
		ru.mu.Lock()
		ru.origTS = msg.TS
		ru.mu.Unlock()
	}
}

// responseURLError answers like hooks.slack.com: an HTTP error status with a short code.
// Slack does not document the bodies; a JSON {"ok":false,"error":…} keeps slack-go's
// content-type parser and plain HTTP clients both informed.
func (s *Server) responseURLError(w http.ResponseWriter, status int, code string, extra map[string]any) {
	body := map[string]any{"ok": false, "error": code}
	for k, v := range extra {
		body[k] = v
	}
	s.stats.result("response_url", code)
	writeJSON(w, status, body)
}

func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	const method = "response_url"
	s.learnBase(r)
	s.stats.call(method)
	if s.rateLimited(w, method) {
		return
	}
	id := r.PathValue("id")
	ru, ok := s.responseURL(id)
	if !ok {
		code := "invalid_url"
		if ms, err := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 36, 64); err == nil &&
			time.Since(time.UnixMilli(ms)) > s.cfg.ResponseURLTTL {
			code = "expired_url"
		}
		s.responseURLError(w, http.StatusNotFound, code, nil)
		return
	}
	if time.Since(ru.created) > s.cfg.ResponseURLTTL {
		s.responseURLError(w, http.StatusNotFound, "expired_url", nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.responseURLError(w, http.StatusBadRequest, "invalid_payload", nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		// Incoming-webhook style: the JSON arrives in a "payload" form field.
		if form, err := url.ParseQuery(string(body)); err == nil {
			body = []byte(form.Get("payload"))
		}
	}
	var m ackMessage
	dec, fast := decodeMessageFast(body)
	if fast {
		m = dec.ackMessage
	} else {
		m, err = parseMessagePayload(body)
	}
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		s.responseURLError(w, http.StatusBadRequest, "invalid_payload", nil)
		return
	}
	var blocks json.RawMessage
	if !m.DeleteOriginal {
		var code string
		var msgs []string
		if fast {
			blocks, code, msgs = s.checkDecoded(dec)
		} else {
			blocks, code, msgs = s.checkMessage(m.Text, m.Blocks, m.Attachments != nil)
		}
		if code != "" {
			var extra map[string]any
			if len(msgs) > 0 {
				extra = map[string]any{"response_metadata": map[string]any{"messages": msgs}}
			}
			s.responseURLError(w, http.StatusBadRequest, code, extra)
			return
		}
	}
	ru.mu.Lock()
	if ru.uses >= maxResponseURLUses {
		ru.mu.Unlock()
		s.responseURLError(w, http.StatusNotFound, "used_url", nil)
		return
	}
	ru.uses++
	orig, owner := ru.origTS, ru.op
	ru.mu.Unlock()

	c := s.ws.conv(ru.channel)
	var shown *Message
	switch {
	case c == nil:
	case m.DeleteOriginal:
		if orig != "" {
			s.deleteMessage(c, orig)
		}
	case m.ReplaceOriginal && orig != "":
		if upd, ok := s.updateMessage(c, orig, func(x *Message) bool {
			x.Text, x.Blocks, x.Updated, x.Source = m.Text, blocks, true, "response_url"
			return true
		}); ok {
			shown = &upd
			break
		}
		fallthrough
	default:
		msg := Message{User: s.cfg.BotUserID, Text: m.Text, Blocks: blocks, ThreadTS: m.ThreadTS, Source: "response_url"}
		if m.ResponseType != "in_channel" {
			msg.Ephemeral, msg.VisibleTo = true, ru.user
		}
		msg = s.appendMessage(c, msg)
		shown = &msg
		if ru.forCommand {
			ru.mu.Lock()
			ru.origTS = msg.TS
			ru.mu.Unlock()
		}
	}
	s.stats.result(method, "ok")
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	if owner != nil {
		owner.addAnswer(shown)
	}
}

// trigger is a trigger_id: it may open one view within TriggerTTL.
type trigger struct {
	issued time.Time
	user   string
	random uint64 // the random part of its id
	// op is cleared when the op finishes: a trigger is kept for a while after, and an op
	// holds far more than it.
	op   atomic.Pointer[op]
	used atomic.Bool
}

func (s *Server) newTrigger(user string, o *op) string {
	var buf [64]byte
	return string(s.appendTrigger(buf[:0], user, o))
}

// appendTrigger issues a trigger_id and appends it to b. The id is its time of issue (see
// useTrigger), a sequence number, which the map is keyed by, and random digits; it needs no
// escaping in JSON.
func (s *Server) appendTrigger(b []byte, user string, o *op) []byte {
	t := &trigger{issued: time.Now(), user: user, random: rand.Uint64() >> 16}
	if o != nil {
		t.op.Store(o)
		o.trig = t
	}
	seq := s.seq.Add(1)
	s.triggers.store(seq, t)
	return t.appendID(b, seq)
}

func (t *trigger) appendID(b []byte, seq uint64) []byte {
	b = strconv.AppendInt(b, t.issued.UnixMilli(), 10)
	b = strconv.AppendUint(append(b, '.'), seq, 10)
	return strconv.AppendUint(append(b, '.'), t.random, 16)
}

// trigger finds the trigger whose id is id.
func (s *Server) trigger(id string) (*trigger, bool) {
	_, rest, _ := strings.Cut(id, ".")
	n, _, _ := strings.Cut(rest, ".")
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return nil, false
	}
	t, ok := s.triggers.load(seq)
	// Only the id as issued, not another way of writing its numbers.
	var buf [64]byte
	if !ok || string(t.appendID(buf[:0], seq)) != id {
		return nil, false
	}
	return t, true
}

// useTrigger exchanges a trigger_id, returning Slack's error code when it cannot be used.
func (s *Server) useTrigger(id string) (*trigger, string) {
	t, ok := s.trigger(id)
	if !ok {
		if ms, err := strconv.ParseInt(strings.SplitN(id, ".", 2)[0], 10, 64); err == nil &&
			time.Since(time.UnixMilli(ms)) > s.cfg.TriggerTTL && time.Since(time.UnixMilli(ms)) < 24*time.Hour {
			return nil, "expired_trigger_id"
		}
		return nil, "invalid_trigger_id"
	}
	if t.used.Load() {
		return nil, "exchanged_trigger_id"
	}
	if time.Since(t.issued) > s.cfg.TriggerTTL {
		return nil, "expired_trigger_id"
	}
	if !t.used.CompareAndSwap(false, true) {
		return nil, "exchanged_trigger_id"
	}
	return t, ""
}
