package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// actionTarget is where the user clicked: a message, the Home tab, or the top modal.
type actionTarget struct {
	surface string // "message", "home" or "modal"
	conv    *conversation
	msg     Message
	view    *viewRec
}

func (t actionTarget) blocks() json.RawMessage {
	if t.view != nil {
		return t.view.blocks
	}
	return t.msg.Blocks
}

// findAction locates the interactive element with actionID.
func findAction(blocks json.RawMessage, actionID string) (string, map[string]any, bool, error) {
	var list []map[string]any
	if err := json.Unmarshal(blocks, &list); err != nil {
		return "", nil, false, fmt.Errorf("emulator: decode blocks: %w", err)
	}
	for _, b := range list {
		blockID, _ := b["block_id"].(string)
		var els []any
		switch b["type"] {
		case "section":
			els = []any{b["accessory"]}
		case "actions":
			els, _ = b["elements"].([]any)
		case "input":
			els = []any{b["element"]}
		}
		for _, e := range els {
			if el, ok := e.(map[string]any); ok && el["action_id"] == actionID {
				return blockID, el, b["type"] == "input", nil
			}
		}
	}
	return "", nil, false, fmt.Errorf("emulator: no element with action_id %q", actionID)
}

// actionEntry is the actions[0] object of block_actions for el with the user's choice.
func actionEntry(blockID string, el map[string]any, value string, now time.Time) (map[string]any, error) {
	typ, _ := el["type"].(string)
	a := map[string]any{
		"type": typ, "action_id": el["action_id"], "block_id": blockID,
		"action_ts": formatTS(now.UnixMicro()),
	}
	if ph, ok := el["placeholder"]; ok {
		a["placeholder"] = ph
	}
	option := func(v string) (map[string]any, error) {
		if typ == "external_select" || typ == "multi_external_select" {
			return map[string]any{"text": map[string]any{"type": "plain_text", "text": v}, "value": v}, nil
		}
		if o := findOption(el, v); o != nil {
			return o, nil
		}
		return nil, fmt.Errorf("emulator: %s %v has no option %q", typ, el["action_id"], v)
	}
	switch typ {
	case "button", "workflow_button":
		a["text"] = el["text"]
		for _, k := range []string{"value", "style", "url"} {
			if v, ok := el[k]; ok {
				a[k] = v
			}
		}
	case "static_select", "external_select", "radio_buttons", "overflow":
		o, err := option(value)
		if err != nil {
			return nil, err
		}
		a["selected_option"] = o
	case "multi_static_select", "multi_external_select", "checkboxes":
		sel := []any{}
		for v := range strings.SplitSeq(value, ",") {
			if v == "" {
				continue
			}
			o, err := option(v)
			if err != nil {
				return nil, err
			}
			sel = append(sel, o)
		}
		a["selected_options"] = sel
	case "datepicker":
		if _, err := time.Parse(time.DateOnly, value); err != nil {
			return nil, fmt.Errorf("emulator: date %q is not YYYY-MM-DD", value)
		}
		a["selected_date"] = value
		if d, ok := el["initial_date"]; ok {
			a["initial_date"] = d
		}
	case "timepicker":
		a["selected_time"] = value
	case "users_select":
		a["selected_user"] = value
	case "conversations_select":
		a["selected_conversation"] = value
	case "channels_select":
		a["selected_channel"] = value
	case "plain_text_input", "email_text_input", "url_text_input", "number_input":
		a["value"] = value
	default:
		return nil, fmt.Errorf("emulator: cannot act on a %s element", typ)
	}
	return a, nil
}

func (s *Server) messageWire(m Message) map[string]any {
	out := map[string]any{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS, "team": s.cfg.TeamID}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if m.User == s.cfg.BotUserID {
		out["bot_id"], out["app_id"] = s.cfg.BotID, s.cfg.AppID
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	return out
}

// prepareAction builds the block_actions envelope for userID acting on actionID in t.
// wantTypes restricts the element types (nil: any).
func (s *Server) prepareAction(userID string, t actionTarget, actionID, value string, wantTypes ...string) (*op, []byte, error) {
	u, ok := s.ws.user(userID)
	if !ok || u.IsBot || u.Deleted {
		return nil, nil, fmt.Errorf("emulator: unknown or deactivated user %q", userID)
	}
	blockID, el, isInput, err := findAction(t.blocks(), actionID)
	if err != nil {
		return nil, nil, err
	}
	if typ, _ := el["type"].(string); len(wantTypes) > 0 && !slices.Contains(wantTypes, typ) {
		return nil, nil, fmt.Errorf("emulator: %q is a %s, not a %s", actionID, typ, strings.Join(wantTypes, "/"))
	}
	if isInput && el["dispatch_action"] != true {
		if t.surface != "modal" {
			return nil, nil, fmt.Errorf("emulator: input %q does not dispatch actions", actionID)
		}
		// Slack's client keeps such choices as view state and sends nothing.
		return nil, nil, s.setViewInput(t.view, blockID, el, value)
	}
	now := time.Now()
	entry, err := actionEntry(blockID, el, value, now)
	if err != nil {
		return nil, nil, err
	}
	o := s.newOp(kindAction, userID, "")
	p := map[string]any{
		"type":                  "block_actions",
		"user":                  map[string]any{"id": userID, "username": u.Name, "name": u.Name, "team_id": s.cfg.TeamID},
		"api_app_id":            s.cfg.AppID,
		"token":                 verificationToken,
		"team":                  map[string]any{"id": s.cfg.TeamID, "domain": s.teamDomain()},
		"enterprise":            nil,
		"is_enterprise_install": false,
		"trigger_id":            s.newTrigger(userID, o),
		"actions":               []any{entry},
	}
	var keys []string
	switch t.surface {
	case "message":
		o.channel = t.conv.id
		p["container"] = map[string]any{
			"type": "message", "message_ts": t.msg.TS, "channel_id": t.conv.id, "is_ephemeral": t.msg.Ephemeral,
		}
		p["channel"] = map[string]any{"id": t.conv.id, "name": t.conv.name}
		p["state"] = map[string]any{"values": map[string]any{}}
		if !t.msg.Ephemeral {
			p["message"] = s.messageWire(t.msg)
		}
		p["response_url"] = s.newResponseURL(o, userID, t.conv.id, t.msg.TS)
		keys = []string{t.conv.id}
	default:
		if isInput && t.surface == "modal" {
			if err := s.setViewInput(t.view, blockID, el, value); err != nil {
				return nil, nil, err
			}
		}
		state := t.view.state
		if state == nil {
			state = map[string]map[string]any{}
		}
		p["container"] = map[string]any{"type": "view", "view_id": t.view.id}
		p["view"] = t.view.wire(s)
		p["state"] = map[string]any{"values": state}
		keys = []string{t.surface + ":" + userID}
	}
	if im := s.ws.im(userID); im != nil && !slices.Contains(keys, im.id) {
		keys = append(keys, im.id)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: marshal block_actions: %w", err)
	}
	o.watchKeys = keys
	return o, b, nil
}

func (s *Server) startAction(o *op, payload []byte) {
	s.watch.add(o, o.watchKeys)
	if !s.deliver(o, "interactive", payload, 0) {
		s.notDelivered(o)
	}
}

func (s *Server) messageTarget(userID string, msg Message) (actionTarget, error) {
	c := s.ws.conv(msg.Channel)
	if c == nil {
		return actionTarget{}, fmt.Errorf("emulator: unknown channel %q", msg.Channel)
	}
	cur, ok := s.findMessage(c, msg.TS)
	if !ok {
		return actionTarget{}, fmt.Errorf("emulator: message %s in %s no longer exists", msg.TS, msg.Channel)
	}
	if cur.Ephemeral && cur.VisibleTo != userID {
		return actionTarget{}, fmt.Errorf("emulator: message %s is not visible to %s", msg.TS, userID)
	}
	return actionTarget{surface: "message", conv: c, msg: cur}, nil
}

func (s *Server) viewTarget(userID, surface string) (actionTarget, error) {
	var v *viewRec
	if surface == "home" {
		v = s.views.home(userID)
	} else {
		v = s.views.top(userID)
	}
	if v == nil {
		return actionTarget{}, fmt.Errorf("emulator: %s has no %s view", userID, surface)
	}
	return actionTarget{surface: surface, view: v}, nil
}

func (s *Server) act(ctx context.Context, userID string, t actionTarget, err error, actionID, value string, wantTypes ...string) (*Result, error) {
	if err != nil {
		return nil, err
	}
	o, payload, err := s.prepareAction(userID, t, actionID, value, wantTypes...)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return &Result{}, nil
	}
	return s.run(ctx, o, func() { s.startAction(o, payload) })
}

// ClickButton clicks the button with actionID in msg (looked up again by channel and ts,
// so updates are seen) as userID. It returns after the ack and the first visible effect
// (response_url post, a bot message or update in that conversation or the user's DM, a
// view opened), after AnswerTimeout with Answered false, or when ctx ends.
func (s *Server) ClickButton(ctx context.Context, userID string, msg Message, actionID string) (*Result, error) {
	t, err := s.messageTarget(userID, msg)
	return s.act(ctx, userID, t, err, actionID, "", "button")
}

// SelectOption picks the option with value in a select menu (static, external, overflow or
// radio buttons; comma-separated values for multi-selects and checkboxes) of msg.
func (s *Server) SelectOption(ctx context.Context, userID string, msg Message, actionID, value string) (*Result, error) {
	t, err := s.messageTarget(userID, msg)
	return s.act(ctx, userID, t, err, actionID, value, "static_select", "external_select", "overflow",
		"radio_buttons", "multi_static_select", "multi_external_select", "checkboxes",
		"users_select", "conversations_select", "channels_select")
}

// PickDate picks date (YYYY-MM-DD) in a datepicker of msg.
func (s *Server) PickDate(ctx context.Context, userID string, msg Message, actionID, date string) (*Result, error) {
	t, err := s.messageTarget(userID, msg)
	return s.act(ctx, userID, t, err, actionID, date, "datepicker")
}

// HomeAction acts on an element of userID's Home tab: value is ignored for buttons, and is
// the option value, date, … otherwise.
func (s *Server) HomeAction(ctx context.Context, userID, actionID, value string) (*Result, error) {
	t, err := s.viewTarget(userID, "home")
	return s.act(ctx, userID, t, err, actionID, value)
}

// ViewAction acts on an element of userID's open modal, like HomeAction. Choices in input
// blocks are kept as the view's state, as Slack's client does.
func (s *Server) ViewAction(ctx context.Context, userID, actionID, value string) (*Result, error) {
	t, err := s.viewTarget(userID, "modal")
	return s.act(ctx, userID, t, err, actionID, value)
}

// setViewInput records a choice in a modal input as the view's state, and in v.
func (s *Server) setViewInput(v *viewRec, blockID string, el map[string]any, value string) error {
	obj, _, err := inputValue(el, value, true)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	actionID, _ := el["action_id"].(string)
	s.views.mu.Lock()
	if live := s.views.byID[v.id]; live != nil {
		if live.state == nil {
			live.state = map[string]map[string]any{}
		}
		live.state[blockID] = map[string]any{actionID: obj}
		v.state = live.clone().state
	}
	s.views.mu.Unlock()
	s.changed()
	return nil
}
