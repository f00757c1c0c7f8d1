package slackemu

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed ui
var uiFiles embed.FS

type devAction struct {
	label string
	fn    func(ctx context.Context) error
}

// AddDevAction adds a button to the web UI's Dev panel, e.g. "Run nudge sweep now".
func (s *Server) AddDevAction(label string, fn func(ctx context.Context) error) {
	s.devMu.Lock()
	s.devActions = append(s.devActions, devAction{label: label, fn: fn})
	s.devMu.Unlock()
	s.changed()
}

func (s *Server) uiRoutes(mux *http.ServeMux) {
	static, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(fmt.Sprintf("slackemu: embedded ui: %v", err))
	}
	files := http.FileServerFS(static)
	mux.Handle("GET /{$}", files)
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /ui/state", s.uiState)
	mux.HandleFunc("POST /ui/send", s.uiSend)
	mux.HandleFunc("POST /ui/action", s.uiAction)
	mux.HandleFunc("POST /ui/home-open", s.uiHomeOpen)
	mux.HandleFunc("POST /ui/view-submit", s.uiViewSubmit)
	mux.HandleFunc("POST /ui/view-close", s.uiViewClose)
	mux.HandleFunc("POST /ui/dev-action", s.uiDevAction)
}

type uiUser struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	RealName    string `json:"real_name"`
	DisplayName string `json:"display_name"`
	TZ          string `json:"tz"`
	TZLabel     string `json:"tz_label"`
	IsAdmin     bool   `json:"is_admin"`
	IsBot       bool   `json:"is_bot"`
	Deleted     bool   `json:"deleted"`
}

type uiChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"` // "im" or "channel"
}

type uiMessage struct {
	TS        string          `json:"ts"`
	User      string          `json:"user"`
	Text      string          `json:"text"`
	Blocks    json.RawMessage `json:"blocks,omitempty"`
	Ephemeral bool            `json:"ephemeral"`
	Updated   bool            `json:"updated"`
	Source    string          `json:"source"`
}

type uiModal struct {
	ID     string                    `json:"id"`
	Hash   string                    `json:"hash"`
	Title  string                    `json:"title"`
	Submit string                    `json:"submit"`
	Close  string                    `json:"close"`
	Blocks json.RawMessage           `json:"blocks"`
	Errors map[string]string         `json:"errors"`
	Notice string                    `json:"notice"`
	State  map[string]map[string]any `json:"state"`
}

// uiState is what the page polls. With since equal to the current version nothing changed
// and only the version is sent, which keeps polling cheap during load tests.
func (s *Server) uiState(w http.ResponseWriter, r *http.Request) {
	s.learnBase(r)
	q := r.URL.Query()
	version := s.version.Load()
	if since, err := strconv.ParseUint(q.Get("since"), 10, 64); err == nil && since == version {
		writeJSON(w, http.StatusOK, map[string]any{"version": version, "unchanged": true})
		return
	}
	var users []uiUser
	for _, u := range s.Users() {
		users = append(users, uiUser{u.ID, u.Name, u.RealName, u.DisplayName, u.TZ, u.TZLabel, u.IsAdmin, u.IsBot, u.Deleted})
	}
	userID := q.Get("user")
	if _, ok := s.ws.user(userID); !ok || userID == s.cfg.BotUserID {
		userID = ""
		for _, u := range users {
			if !u.IsBot && !u.Deleted {
				userID = u.ID
				break
			}
		}
	}
	out := map[string]any{
		"version":     version,
		"team":        map[string]any{"id": s.cfg.TeamID, "name": s.cfg.TeamName},
		"bot":         map[string]any{"id": s.cfg.BotUserID, "name": s.cfg.BotName},
		"connections": s.Connections(),
		"links":       s.cfg.Links,
		"users":       users,
		"user":        userID,
	}
	s.devMu.Lock()
	labels := make([]string, len(s.devActions))
	for i, a := range s.devActions {
		labels[i] = a.label
	}
	s.devMu.Unlock()
	out["dev_actions"] = labels
	if userID == "" {
		writeJSON(w, http.StatusOK, out)
		return
	}
	var chans []uiChannel
	if im := s.ws.im(userID); im != nil {
		chans = append(chans, uiChannel{ID: im.id, Name: s.cfg.BotName, Kind: "im"})
	}
	for _, c := range s.channelsFor(userID) {
		chans = append(chans, uiChannel{ID: c.id, Name: c.name, Kind: "channel"})
	}
	out["channels"] = chans
	chID := q.Get("channel")
	if !slices.ContainsFunc(chans, func(c uiChannel) bool { return c.ID == chID }) && len(chans) > 0 {
		chID = chans[0].ID
	}
	out["channel"] = chID
	if c := s.ws.conv(chID); c != nil {
		var msgs []uiMessage
		for _, m := range s.visibleMessages(c, userID, 200) {
			msgs = append(msgs, uiMessage{m.TS, m.User, m.Text, m.Blocks, m.Ephemeral, m.Updated, m.Source})
		}
		out["messages"] = msgs
	}
	if v := s.views.home(userID); v != nil {
		out["home"] = map[string]any{"id": v.id, "hash": v.hash, "blocks": v.blocks}
	}
	if v := s.views.top(userID); v != nil {
		out["modal"] = uiModal{
			ID: v.id, Hash: v.hash, Title: plainText(v.title), Submit: plainText(v.submit),
			Close: firstNonEmpty(plainText(v.closeText), "Cancel"), Blocks: v.blocks,
			Errors: v.errors, Notice: v.notice, State: v.state,
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeUI(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(dst); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "bad request: " + err.Error()})
		return false
	}
	return true
}

func uiResult(w http.ResponseWriter, err error) {
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// uiSend posts what the user typed: "/cmd args" runs a real slash command, anything else
// is an ordinary message from the user.
func (s *Server) uiSend(w http.ResponseWriter, r *http.Request) {
	var req struct{ User, Channel, Text string }
	if !decodeUI(w, r, &req) {
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		uiResult(w, fmt.Errorf("nothing to send"))
		return
	}
	if strings.HasPrefix(text, "/") {
		cmd, args, _ := strings.Cut(text, " ")
		o, payload, err := s.prepareSlash(req.User, req.Channel, cmd, strings.TrimSpace(args))
		if err == nil {
			s.startSlash(o, payload)
		}
		uiResult(w, err)
		return
	}
	c := s.ws.conv(req.Channel)
	if c == nil || !s.ws.isMember(c, req.User) {
		uiResult(w, fmt.Errorf("you are not in that conversation"))
		return
	}
	s.appendMessage(c, Message{User: req.User, Text: text, Source: "user"})
	uiResult(w, nil)
}

func (s *Server) uiAction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User, Surface, Channel, TS string
		ActionID                   string `json:"action_id"`
		Value                      string
	}
	if !decodeUI(w, r, &req) {
		return
	}
	var t actionTarget
	var err error
	switch req.Surface {
	case "message":
		t, err = s.messageTarget(req.User, Message{Channel: req.Channel, TS: req.TS})
	case "home", "modal":
		t, err = s.viewTarget(req.User, req.Surface)
	default:
		err = fmt.Errorf("unknown surface %q", req.Surface)
	}
	if err == nil {
		var o *op
		var payload []byte
		o, payload, err = s.prepareAction(req.User, t, req.ActionID, req.Value)
		if err == nil && o != nil {
			s.startAction(o, payload)
		}
	}
	uiResult(w, err)
}

func (s *Server) uiHomeOpen(w http.ResponseWriter, r *http.Request) {
	var req struct{ User string }
	if !decodeUI(w, r, &req) {
		return
	}
	o, err := s.prepareHomeOpened(req.User)
	if err == nil {
		s.startEvent(o)
	}
	uiResult(w, err)
}

func (s *Server) uiViewSubmit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User   string
		Values map[string]map[string]any
	}
	if !decodeUI(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AckTimeout+2*time.Second)
	defer cancel()
	res, err := s.SubmitView(ctx, req.User, req.Values)
	if err != nil {
		uiResult(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": res.Error == "", "error": res.Error, "view_errors": res.ViewErrors})
}

func (s *Server) uiViewClose(w http.ResponseWriter, r *http.Request) {
	var req struct{ User string }
	if !decodeUI(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AckTimeout+2*time.Second)
	defer cancel()
	uiResult(w, s.CloseView(ctx, req.User))
}

func (s *Server) uiDevAction(w http.ResponseWriter, r *http.Request) {
	var req struct{ Index int }
	if !decodeUI(w, r, &req) {
		return
	}
	s.devMu.Lock()
	var a devAction
	if req.Index >= 0 && req.Index < len(s.devActions) {
		a = s.devActions[req.Index]
	}
	s.devMu.Unlock()
	if a.fn == nil {
		uiResult(w, fmt.Errorf("no dev action %d", req.Index))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	if err := a.fn(ctx); err != nil {
		uiResult(w, fmt.Errorf("%s: %w", a.label, err))
		return
	}
	s.changed()
	uiResult(w, nil)
}
