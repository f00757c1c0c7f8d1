package slackemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type httpWriter = http.ResponseWriter

type apiHandler func(w httpWriter, method string, p *params)

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.handleAPI)
	mux.HandleFunc("GET /link/", s.handleLink)
	mux.HandleFunc("POST /response/{id}", s.handleResponseURL)
	s.uiRoutes(mux)
	s.mux = mux
}

// botMethods are the Web API methods served; each needs the bot token.
func (s *Server) botMethod(name string) apiHandler {
	switch name {
	case "auth.test":
		return s.apiAuthTest
	case "chat.postMessage":
		return s.apiPostMessage
	case "chat.postEphemeral":
		return s.apiPostEphemeral
	case "chat.update":
		return s.apiChatUpdate
	case "chat.delete":
		return s.apiChatDelete
	case "conversations.open":
		return s.apiConversationsOpen
	case "conversations.info":
		return s.apiConversationsInfo
	case "conversations.members":
		return s.apiConversationsMembers
	case "conversations.history":
		return s.apiConversationsHistory
	case "users.info":
		return s.apiUsersInfo
	case "users.list":
		return s.apiUsersList
	case "views.open":
		return func(w httpWriter, m string, p *params) { s.apiViewsOpen(w, m, p, false) }
	case "views.push":
		return func(w httpWriter, m string, p *params) { s.apiViewsOpen(w, m, p, true) }
	case "views.update":
		return s.apiViewsUpdate
	case "views.publish":
		return s.apiViewsPublish
	}
	return nil
}

// params reads arguments from the query, a form body or a JSON body, as Slack accepts all.
type params struct {
	form url.Values
	js   map[string]json.RawMessage
}

func parseParams(w http.ResponseWriter, r *http.Request) (*params, string) {
	p := &params{form: r.URL.Query()}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		return nil, "request_too_large"
	}
	if len(body) == 0 {
		return p, ""
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &p.js); err != nil {
			return nil, "invalid_json"
		}
		return p, ""
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, "invalid_form_data"
	}
	for k, v := range vals {
		p.form[k] = append(p.form[k], v...)
	}
	return p, ""
}

func (p *params) has(k string) bool {
	if _, ok := p.js[k]; ok {
		return true
	}
	_, ok := p.form[k]
	return ok
}

func (p *params) str(k string) string {
	if v, ok := p.js[k]; ok {
		if len(v) > 0 && v[0] == '"' {
			var s string
			_ = json.Unmarshal(v, &s)
			return s
		}
		if isJSONNull(v) {
			return ""
		}
		return string(v)
	}
	return p.form.Get(k)
}

func (p *params) raw(k string) json.RawMessage {
	if v, ok := p.js[k]; ok && !isJSONNull(v) {
		return v
	}
	if s := p.form.Get(k); s != "" {
		return json.RawMessage(s)
	}
	return nil
}

// jsonArg reads an argument holding JSON: an array/object, or a string containing JSON.
func (p *params) jsonArg(k string) json.RawMessage {
	raw := p.raw(k)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return json.RawMessage(s)
		}
	}
	return raw
}

func (p *params) boolean(k string) bool {
	v := p.str(k)
	return v == "true" || v == "1"
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	s.learnBase(r)
	s.stats.call(method)
	if method == "apps.connections.open" {
		s.apiConnectionsOpen(w, r)
		return
	}
	h := s.botMethod(method)
	if h == nil {
		s.apiErr(w, method, "unknown_method", map[string]any{"req_method": method})
		return
	}
	p, code := parseParams(w, r)
	if code != "" {
		s.apiErr(w, method, code, nil)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = p.str("token")
	}
	switch token {
	case "":
		s.apiErr(w, method, "not_authed", nil)
		return
	case s.cfg.BotToken:
	case s.cfg.AppToken:
		s.apiErr(w, method, "not_allowed_token_type", nil)
		return
	default:
		s.apiErr(w, method, "invalid_auth", nil)
		return
	}
	if s.rateLimited(w, method) {
		return
	}
	h(w, method, p)
}

func domainOf(teamName string) string {
	d := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, teamName)
	return strings.Trim(d, "-")
}

func (s *Server) apiAuthTest(w httpWriter, method string, _ *params) {
	s.apiOK(w, method, map[string]any{
		"ok": true, "url": "https://" + s.teamDomain() + ".slack.com/", "team": s.cfg.TeamName,
		"user": s.cfg.BotName, "team_id": s.cfg.TeamID, "user_id": s.cfg.BotUserID, "bot_id": s.cfg.BotID,
		"is_enterprise_install": false,
	})
}

// resolveChannel accepts a conversation id, "#name", a bare name, or a user id (the bot's
// DM with that user), like chat.postMessage does.
func (s *Server) resolveChannel(ch string) (*conversation, string) {
	switch {
	case ch == "":
		return nil, "channel_not_found"
	case strings.HasPrefix(ch, "#"):
		if id := s.ChannelID(ch); id != "" {
			return s.ws.conv(id), ""
		}
		return nil, "channel_not_found"
	case strings.HasPrefix(ch, "U") || strings.HasPrefix(ch, "W"):
		u, ok := s.ws.user(ch)
		if !ok {
			return nil, "channel_not_found"
		}
		if u.Deleted {
			return nil, "user_disabled"
		}
		if im := s.ws.im(ch); im != nil {
			return im, ""
		}
		return nil, "channel_not_found"
	}
	if c := s.ws.conv(ch); c != nil {
		if c.kind == convIM {
			if u, _ := s.ws.user(c.user); u.Deleted {
				return nil, "user_disabled"
			}
		}
		return c, ""
	}
	if id := s.ChannelID(ch); id != "" {
		return s.ws.conv(id), ""
	}
	return nil, "channel_not_found"
}

func hasAttachments(p *params) bool {
	a := p.jsonArg("attachments")
	return !isJSONNull(a) && strings.TrimSpace(string(a)) != "[]"
}

func (s *Server) blocksErr(w httpWriter, method, code string, msgs []string) {
	var extra map[string]any
	if len(msgs) > 0 {
		errs := make([]string, len(msgs))
		for i, m := range msgs {
			errs[i] = strings.TrimPrefix(m, "[ERROR] ")
		}
		extra = map[string]any{"errors": errs, "response_metadata": map[string]any{"messages": msgs}}
	}
	s.apiErr(w, method, code, extra)
}

func (s *Server) apiPostMessage(w httpWriter, method string, p *params) {
	c, code := s.resolveChannel(p.str("channel"))
	if code != "" {
		s.apiErr(w, method, code, nil)
		return
	}
	text := p.str("text")
	blocks, code, msgs := s.checkMessage(text, p.jsonArg("blocks"), hasAttachments(p))
	if code != "" {
		s.blocksErr(w, method, code, msgs)
		return
	}
	m := s.appendMessage(c, Message{User: s.cfg.BotUserID, Text: text, Blocks: blocks, ThreadTS: p.str("thread_ts"), Source: method})
	s.apiOK(w, method, map[string]any{"ok": true, "channel": c.id, "ts": m.TS, "message": s.messageWire(m)})
}

func (s *Server) apiPostEphemeral(w httpWriter, method string, p *params) {
	c, code := s.resolveChannel(p.str("channel"))
	if code != "" {
		s.apiErr(w, method, code, nil)
		return
	}
	userID := p.str("user")
	u, ok := s.ws.user(userID)
	switch {
	case !ok:
		s.apiErr(w, method, "user_not_found", nil)
		return
	case u.Deleted:
		s.apiErr(w, method, "user_disabled", nil)
		return
	case !s.ws.isMember(c, userID):
		s.apiErr(w, method, "user_not_in_channel", nil)
		return
	}
	text := p.str("text")
	blocks, code, msgs := s.checkMessage(text, p.jsonArg("blocks"), hasAttachments(p))
	if code != "" {
		s.blocksErr(w, method, code, msgs)
		return
	}
	m := s.appendMessage(c, Message{
		User: s.cfg.BotUserID, Text: text, Blocks: blocks, ThreadTS: p.str("thread_ts"),
		Ephemeral: true, VisibleTo: userID, Source: method,
	})
	s.apiOK(w, method, map[string]any{"ok": true, "message_ts": m.TS})
}

func (s *Server) apiChatUpdate(w httpWriter, method string, p *params) {
	c := s.ws.conv(p.str("channel"))
	if c == nil {
		s.apiErr(w, method, "channel_not_found", nil)
		return
	}
	ts := p.str("ts")
	cur, ok := s.findMessage(c, ts)
	switch {
	case !ok || cur.Ephemeral:
		s.apiErr(w, method, "message_not_found", nil)
		return
	case cur.User != s.cfg.BotUserID:
		s.apiErr(w, method, "cant_update_message", nil)
		return
	}
	// Omitted text or blocks keep their previous value; an empty blocks array clears them.
	text, blocksArg := cur.Text, cur.Blocks
	if p.has("text") {
		text = p.str("text")
	}
	if p.has("blocks") {
		blocksArg = p.jsonArg("blocks")
	}
	blocks, code, msgs := s.checkMessage(text, blocksArg, hasAttachments(p))
	if code != "" {
		s.blocksErr(w, method, code, msgs)
		return
	}
	m, ok := s.updateMessage(c, ts, func(x *Message) bool {
		x.Text, x.Blocks, x.Updated, x.Source = text, blocks, true, method
		return true
	})
	if !ok {
		s.apiErr(w, method, "message_not_found", nil)
		return
	}
	s.apiOK(w, method, map[string]any{"ok": true, "channel": c.id, "ts": m.TS, "text": m.Text, "message": s.messageWire(m)})
}

func (s *Server) apiChatDelete(w httpWriter, method string, p *params) {
	c := s.ws.conv(p.str("channel"))
	if c == nil {
		s.apiErr(w, method, "channel_not_found", nil)
		return
	}
	ts := p.str("ts")
	cur, ok := s.findMessage(c, ts)
	switch {
	case !ok || cur.Ephemeral:
		s.apiErr(w, method, "message_not_found", nil)
	case cur.User != s.cfg.BotUserID:
		s.apiErr(w, method, "cant_delete_message", nil)
	case !s.deleteMessage(c, ts):
		s.apiErr(w, method, "message_not_found", nil)
	default:
		s.apiOK(w, method, map[string]any{"ok": true, "channel": c.id, "ts": ts})
	}
}

func (s *Server) convWire(c *conversation, numMembers bool) map[string]any {
	if c.kind == convIM {
		u, _ := s.ws.user(c.user)
		return map[string]any{
			"id": c.id, "created": c.created, "is_archived": false, "is_im": true, "is_org_shared": false,
			"context_team_id": s.cfg.TeamID, "updated": c.created * 1000, "user": c.user,
			"is_user_deleted": u.Deleted, "priority": 0, "is_open": true,
		}
	}
	out := map[string]any{
		"id": c.id, "name": c.name, "name_normalized": c.name, "is_channel": true, "is_group": false,
		"is_im": false, "is_mpim": false, "is_private": false, "created": c.created, "is_archived": false,
		"is_general": c.general, "unlinked": 0, "is_shared": false, "is_org_shared": false,
		"is_ext_shared": false, "is_pending_ext_shared": false, "pending_shared": []string{},
		"context_team_id": s.cfg.TeamID, "updated": c.created * 1000, "creator": s.cfg.BotUserID,
		"shared_team_ids": []string{s.cfg.TeamID}, "is_member": s.ws.isMember(c, s.cfg.BotUserID),
		"topic":          map[string]any{"value": "", "creator": "", "last_set": 0},
		"purpose":        map[string]any{"value": "", "creator": "", "last_set": 0},
		"previous_names": []string{},
	}
	if numMembers {
		out["num_members"] = len(s.ws.members(c))
	}
	return out
}

func (s *Server) apiConversationsOpen(w httpWriter, method string, p *params) {
	var c *conversation
	existed := false
	switch users, ch := p.str("users"), p.str("channel"); {
	case ch != "":
		c = s.ws.conv(ch)
		if c == nil || c.kind != convIM {
			s.apiErr(w, method, "channel_not_found", nil)
			return
		}
		existed = true
	case users == "":
		s.apiErr(w, method, "users_list_not_supplied", nil)
		return
	default:
		ids := strings.Split(users, ",")
		if len(ids) > 1 {
			// Slack would open a multi-person DM; the emulator does not model those.
			s.apiErr(w, method, "emulator_mpim_not_supported", nil)
			return
		}
		u, ok := s.ws.user(strings.TrimSpace(ids[0]))
		switch {
		case !ok:
			s.apiErr(w, method, "user_not_found", nil)
			return
		case u.Deleted:
			s.apiErr(w, method, "user_disabled", nil)
			return
		case u.IsBot:
			s.apiErr(w, method, "cannot_dm_bot", nil)
			return
		}
		existed = s.ws.conv("D"+strings.TrimPrefix(u.ID, "U")) != nil
		c = s.ws.im(u.ID)
	}
	body := map[string]any{"ok": true, "channel": map[string]any{"id": c.id}}
	if existed {
		body["no_op"], body["already_open"] = true, true
	}
	if p.boolean("return_im") {
		body["channel"] = s.convWire(c, false)
	}
	s.apiOK(w, method, body)
}

func (s *Server) apiConversationsInfo(w httpWriter, method string, p *params) {
	c := s.ws.conv(p.str("channel"))
	if c == nil {
		s.apiErr(w, method, "channel_not_found", nil)
		return
	}
	s.apiOK(w, method, map[string]any{"ok": true, "channel": s.convWire(c, p.boolean("include_num_members"))})
}

// Cursors are opaque to clients; these encode an offset the way Slack's encode a position.
func encodeCursor(off int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(off)))
}

func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(b), "offset:")
	if !ok {
		return 0, errors.New("not an emulator cursor")
	}
	return strconv.Atoi(n)
}

// page slices n items by cursor and limit (default def, capped at max).
func page(p *params, n, def, max int) (lo, hi int, next string, ok bool) {
	off, err := decodeCursor(p.str("cursor"))
	if err != nil || off < 0 || off > n {
		return 0, 0, "", false
	}
	limit := def
	if l, err := strconv.Atoi(p.str("limit")); err == nil && l > 0 {
		limit = min(l, max)
	}
	hi = min(n, off+limit)
	if hi < n {
		next = encodeCursor(hi)
	}
	return off, hi, next, true
}

func (s *Server) apiConversationsMembers(w httpWriter, method string, p *params) {
	c := s.ws.conv(p.str("channel"))
	if c == nil {
		s.apiErr(w, method, "channel_not_found", nil)
		return
	}
	members := s.ws.members(c)
	lo, hi, next, ok := page(p, len(members), 100, 1000)
	if !ok {
		s.apiErr(w, method, "invalid_cursor", nil)
		return
	}
	s.apiOK(w, method, map[string]any{
		"ok": true, "members": members[lo:hi], "response_metadata": map[string]any{"next_cursor": next},
	})
}

type profileWire struct {
	FirstName             string `json:"first_name"`
	LastName              string `json:"last_name"`
	RealName              string `json:"real_name"`
	RealNameNormalized    string `json:"real_name_normalized"`
	DisplayName           string `json:"display_name"`
	DisplayNameNormalized string `json:"display_name_normalized"`
	Team                  string `json:"team"`
	AvatarHash            string `json:"avatar_hash"`
	Image24               string `json:"image_24"`
	Image48               string `json:"image_48"`
	Image72               string `json:"image_72"`
	Image192              string `json:"image_192"`
	StatusText            string `json:"status_text"`
	StatusEmoji           string `json:"status_emoji"`
	BotID                 string `json:"bot_id,omitempty"`
	APIAppID              string `json:"api_app_id,omitempty"`
	AlwaysActive          bool   `json:"always_active,omitempty"`
}

type userWire struct {
	ID                     string      `json:"id"`
	TeamID                 string      `json:"team_id"`
	Name                   string      `json:"name"`
	Deleted                bool        `json:"deleted"`
	Color                  string      `json:"color"`
	RealName               string      `json:"real_name"`
	TZ                     string      `json:"tz,omitempty"`
	TZLabel                string      `json:"tz_label"`
	TZOffset               int         `json:"tz_offset"`
	Profile                profileWire `json:"profile"`
	IsAdmin                bool        `json:"is_admin"`
	IsOwner                bool        `json:"is_owner"`
	IsPrimaryOwner         bool        `json:"is_primary_owner"`
	IsRestricted           bool        `json:"is_restricted"`
	IsUltraRestricted      bool        `json:"is_ultra_restricted"`
	IsBot                  bool        `json:"is_bot"`
	IsAppUser              bool        `json:"is_app_user"`
	Updated                int64       `json:"updated"`
	IsEmailConfirmed       bool        `json:"is_email_confirmed"`
	WhoCanShareContactCard string      `json:"who_can_share_contact_card"`
	Locale                 string      `json:"locale,omitempty"`
}

func (s *Server) userWire(u User, locale bool) userWire {
	first, last, _ := strings.Cut(u.RealName, " ")
	img := "https://a.slack-edge.com/80588/img/avatars/ava_0001-72.png"
	out := userWire{
		ID: u.ID, TeamID: s.cfg.TeamID, Name: u.Name, Deleted: u.Deleted, Color: "9f69e7",
		RealName: u.RealName, TZ: u.TZ, TZLabel: u.TZLabel, TZOffset: u.TZOffset,
		Profile: profileWire{
			FirstName: first, LastName: last, RealName: u.RealName, RealNameNormalized: u.RealName,
			DisplayName: u.DisplayName, DisplayNameNormalized: u.DisplayName, Team: s.cfg.TeamID,
			AvatarHash: "g" + strings.ToLower(u.ID), Image24: img, Image48: img, Image72: img, Image192: img,
		},
		IsAdmin: u.IsAdmin, IsOwner: u.IsOwner, IsBot: u.IsBot, Updated: time.Now().Unix(),
		IsEmailConfirmed: !u.IsBot, WhoCanShareContactCard: "EVERYONE",
	}
	if u.IsBot {
		out.Profile.BotID, out.Profile.APIAppID, out.Profile.AlwaysActive = s.cfg.BotID, s.cfg.AppID, true
	}
	if locale {
		out.Locale = "en-US"
	}
	return out
}

func (s *Server) apiUsersInfo(w httpWriter, method string, p *params) {
	locale := p.boolean("include_locale")
	if list := p.str("users"); list != "" && p.str("user") == "" {
		var out []userWire
		for id := range strings.SplitSeq(list, ",") {
			u, ok := s.ws.user(strings.TrimSpace(id))
			if !ok {
				s.apiErr(w, method, "user_not_found", nil)
				return
			}
			out = append(out, s.userWire(u, locale))
		}
		s.apiOK(w, method, map[string]any{"ok": true, "users": out})
		return
	}
	u, ok := s.ws.user(p.str("user"))
	if !ok {
		s.apiErr(w, method, "user_not_found", nil)
		return
	}
	s.apiOK(w, method, struct {
		OK   bool     `json:"ok"`
		User userWire `json:"user"`
	}{true, s.userWire(u, locale)})
}

func (s *Server) apiUsersList(w httpWriter, method string, p *params) {
	n := s.userCount()
	lo, hi, next, ok := page(p, n, n, 1000)
	if !ok {
		s.apiErr(w, method, "invalid_cursor", nil)
		return
	}
	locale := p.boolean("include_locale")
	users := s.usersRange(lo, hi)
	out := make([]userWire, 0, len(users))
	for _, u := range users {
		out = append(out, s.userWire(u, locale))
	}
	s.apiOK(w, method, map[string]any{
		"ok": true, "members": out, "cache_ts": time.Now().Unix(),
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

// channelsFor lists the public channels userID is in, for the UI's sidebar.
func (s *Server) channelsFor(userID string) []*conversation {
	w := &s.ws
	w.mu.RLock()
	defer w.mu.RUnlock()
	var out []*conversation
	for _, id := range w.convOrder {
		c := w.convs[id]
		if c.kind == convPublic && slices.Contains(c.members, userID) {
			out = append(out, c)
		}
	}
	return out
}

// apiConversationsHistory returns a conversation's messages newest first, as Slack does,
// without ephemerals (they are not part of history), between oldest and latest when given.
func (s *Server) apiConversationsHistory(w httpWriter, method string, p *params) {
	c := s.ws.conv(p.str("channel"))
	if c == nil {
		s.apiErr(w, method, "channel_not_found", nil)
		return
	}
	limit := 100
	if v, err := strconv.Atoi(p.str("limit")); err == nil && v > 0 {
		limit = min(v, 999)
	}
	oldest, latest := p.str("oldest"), p.str("latest")
	inclusive := p.boolean("inclusive")
	c.mu.Lock()
	msgs := make([]map[string]any, 0, min(limit, len(c.msgs)))
	hasMore := false
	for i := len(c.msgs) - 1; i >= 0; i-- {
		m := c.msgs[i]
		if m.Ephemeral {
			continue
		}
		if latest != "" && (m.TS > latest || (!inclusive && m.TS == latest)) {
			continue
		}
		if oldest != "" && (m.TS < oldest || (!inclusive && m.TS == oldest)) {
			break
		}
		if len(msgs) == limit {
			hasMore = true
			break
		}
		msgs = append(msgs, s.messageWire(m))
	}
	c.mu.Unlock()
	s.apiOK(w, method, map[string]any{"ok": true, "messages": msgs, "has_more": hasMore})
}
