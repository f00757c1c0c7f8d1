package slackemu

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Message is one entry in a conversation's history as a user would see it.
//
// Source tells where it came from: "ack" (slash command ack payload), "response_url",
// "chat.postMessage", "chat.postEphemeral", "chat.update" (last changed by it), "user"
// (typed by a human), "command" (a slash command echoed by response_type in_channel) or
// "system" (a line Slack itself shows, such as dispatch_failed; authored by USLACKBOT).
type Message struct {
	TS        string
	Channel   string
	User      string // author: the bot user id or a human
	Text      string
	Blocks    json.RawMessage
	Ephemeral bool
	VisibleTo string // for ephemerals: the only user who sees it
	ThreadTS  string
	Updated   bool
	Source    string
}

// nextTS issues strictly increasing Slack timestamps ("1700000000.000100").
func (s *Server) nextTS() string {
	for {
		now := time.Now().UnixMicro()
		last := s.tsLast.Load()
		if now <= last {
			now = last + 1
		}
		if s.tsLast.CompareAndSwap(last, now) {
			return formatTS(now)
		}
	}
}

func formatTS(micros int64) string {
	var b [24]byte
	out := strconv.AppendInt(b[:0], micros/1e6, 10)
	out = append(out, '.')
	frac := micros % 1e6
	for d := int64(100000); d > 0; d /= 10 {
		out = append(out, byte('0'+frac/d%10))
	}
	return string(out)
}

// appendMessage stamps m with a fresh ts inside the conversation lock so that history stays
// sorted by ts, which lets lookups binary-search.
func (s *Server) appendMessage(c *conversation, m Message) Message {
	m.Channel = c.id
	c.mu.Lock()
	m.TS = s.nextTS()
	c.msgs = append(c.msgs, m)
	added := int64(1)
	if limit := s.cfg.HistoryLimit; len(c.msgs) > limit+limit/4 {
		added -= int64(len(c.msgs) - limit)
		// In place: nothing holds on to c.msgs outside c.mu.
		n := copy(c.msgs, c.msgs[len(c.msgs)-limit:])
		clear(c.msgs[n:])
		c.msgs = c.msgs[:n]
	}
	c.mu.Unlock()
	s.msgTotal.Add(added)
	s.changed()
	s.watch.notify(s, m)
	return m
}

func (c *conversation) indexLocked(ts string) int {
	i := sort.Search(len(c.msgs), func(i int) bool { return c.msgs[i].TS >= ts })
	if i < len(c.msgs) && c.msgs[i].TS == ts {
		return i
	}
	return -1
}

func (s *Server) findMessage(c *conversation, ts string) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.indexLocked(ts); i >= 0 {
		return c.msgs[i], true
	}
	return Message{}, false
}

// updateMessage applies fn to the stored message; fn reports whether it changed it.
func (s *Server) updateMessage(c *conversation, ts string, fn func(*Message) bool) (Message, bool) {
	c.mu.Lock()
	i := c.indexLocked(ts)
	if i < 0 || !fn(&c.msgs[i]) {
		c.mu.Unlock()
		return Message{}, false
	}
	m := c.msgs[i]
	c.mu.Unlock()
	s.changed()
	s.watch.notify(s, m)
	return m, true
}

func (s *Server) deleteMessage(c *conversation, ts string) bool {
	c.mu.Lock()
	i := c.indexLocked(ts)
	if i >= 0 {
		c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
	}
	c.mu.Unlock()
	if i >= 0 {
		s.msgTotal.Add(-1)
		s.changed()
	}
	return i >= 0
}

// trimHistory forgets the workspace's oldest messages until keep remain. Timestamps are
// globally increasing, so the oldest across conversations are those below one cutoff.
func (s *Server) trimHistory(keep int) {
	s.ws.mu.RLock()
	convs := make([]*conversation, 0, len(s.ws.convs))
	for _, c := range s.ws.convs {
		convs = append(convs, c)
	}
	s.ws.mu.RUnlock()
	var all []string
	for _, c := range convs {
		c.mu.Lock()
		for i := range c.msgs {
			all = append(all, c.msgs[i].TS)
		}
		c.mu.Unlock()
	}
	if len(all) <= keep {
		return
	}
	slices.Sort(all)
	cutoff := all[len(all)-keep]
	var removed int64
	for _, c := range convs {
		c.mu.Lock()
		if i := sort.Search(len(c.msgs), func(i int) bool { return c.msgs[i].TS >= cutoff }); i > 0 {
			c.msgs = append(c.msgs[:0:0], c.msgs[i:]...)
			removed += int64(i)
		}
		c.mu.Unlock()
	}
	s.msgTotal.Add(-removed)
	s.changed()
}

// Messages returns a conversation's history, oldest first, including every user's
// ephemerals (check VisibleTo).
func (s *Server) Messages(channelID string) []Message {
	c := s.ws.conv(channelID)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Message, len(c.msgs))
	copy(out, c.msgs)
	return out
}

// visibleMessages is the last n messages userID can see in c.
func (s *Server) visibleMessages(c *conversation, userID string, n int) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Message, 0, min(n, len(c.msgs)))
	for i := len(c.msgs) - 1; i >= 0 && len(out) < n; i-- {
		m := c.msgs[i]
		if m.Ephemeral && m.VisibleTo != userID {
			continue
		}
		out = append(out, m)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// systemLine shows userID an error the way Slack does: an ephemeral line from Slackbot.
func (s *Server) systemLine(channelID, userID, text string) {
	c := s.ws.conv(channelID)
	if c == nil {
		c = s.ws.im(userID)
	}
	if c == nil {
		return
	}
	s.appendMessage(c, Message{User: SlackbotUserID, Text: text, Ephemeral: true, VisibleTo: userID, Source: "system"})
}
