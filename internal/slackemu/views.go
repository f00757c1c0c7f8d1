package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// View is a modal or Home tab as the user currently sees it.
type View struct {
	ID              string
	Type            string // "modal" or "home"
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	Title           string
	Submit          string
	Close           string
	Blocks          json.RawMessage
	// Errors are shown under input blocks, keyed by block_id.
	Errors map[string]string
	// Notice is a view-wide error line, e.g. after the app missed a view_submission ack.
	Notice string
	// Raw is the view object as Slack reports it, state included.
	Raw json.RawMessage
}

type viewRec struct {
	id, typ, user   string
	callbackID      string
	privateMetadata string
	externalID      string
	hash            string
	rootID          string
	previousID      string
	title           json.RawMessage
	closeText       json.RawMessage
	submit          json.RawMessage
	blocks          json.RawMessage
	clearOnClose    bool
	notifyOnClose   bool
	state           map[string]map[string]any
	errors          map[string]string
	notice          string
}

type viewStore struct {
	mu     sync.Mutex
	homes  map[string]*viewRec
	modals map[string][]*viewRec
	byID   map[string]*viewRec
	byExt  map[string]*viewRec
}

func (vs *viewStore) init() {
	vs.homes = make(map[string]*viewRec)
	vs.modals = make(map[string][]*viewRec)
	vs.byID = make(map[string]*viewRec)
	vs.byExt = make(map[string]*viewRec)
}

func (v *viewRec) clone() *viewRec {
	c := *v
	c.state = make(map[string]map[string]any, len(v.state))
	for k, m := range v.state {
		c.state[k] = maps.Clone(m)
	}
	c.errors = maps.Clone(v.errors)
	return &c
}

func (vs *viewStore) home(user string) *viewRec {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if v := vs.homes[user]; v != nil {
		return v.clone()
	}
	return nil
}

func (vs *viewStore) top(user string) *viewRec {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if st := vs.modals[user]; len(st) > 0 {
		return st[len(st)-1].clone()
	}
	return nil
}

func (vs *viewStore) setNotice(user, viewID, notice string) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if v := vs.byID[viewID]; v != nil && v.user == user {
		v.notice = notice
	}
}

func (vs *viewStore) forget(v *viewRec) {
	delete(vs.byID, v.id)
	if v.externalID != "" && vs.byExt[v.externalID] == v {
		delete(vs.byExt, v.externalID)
	}
}

// popLocked removes the top modal (or all of them) for user.
func (vs *viewStore) popLocked(user string, all bool) {
	st := vs.modals[user]
	if len(st) == 0 {
		return
	}
	n := len(st) - 1
	if all {
		n = 0
	}
	for _, v := range st[n:] {
		vs.forget(v)
	}
	if n == 0 {
		delete(vs.modals, user)
	} else {
		vs.modals[user] = st[:n]
	}
}

func newViewID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return "V" + string(b)
}

func newHash() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return strconv.FormatInt(time.Now().Unix(), 10) + "." + string(b)
}

// wire is the view object as Slack returns it from views.* and puts in payloads.
func (v *viewRec) wire(s *Server) map[string]any {
	nullable := func(r json.RawMessage) any {
		if len(r) == 0 {
			return nil
		}
		return r
	}
	state := v.state
	if state == nil {
		state = map[string]map[string]any{}
	}
	blocks := v.blocks
	if len(blocks) == 0 {
		blocks = json.RawMessage("[]")
	}
	var prev any
	if v.previousID != "" {
		prev = v.previousID
	}
	return map[string]any{
		"id": v.id, "team_id": s.cfg.TeamID, "type": v.typ, "blocks": blocks,
		"private_metadata": v.privateMetadata, "callback_id": v.callbackID,
		"state": map[string]any{"values": state}, "hash": v.hash,
		"title": nullable(v.title), "close": nullable(v.closeText), "submit": nullable(v.submit),
		"clear_on_close": v.clearOnClose, "notify_on_close": v.notifyOnClose,
		"previous_view_id": prev, "root_view_id": firstNonEmpty(v.rootID, v.id),
		"app_id": s.cfg.AppID, "external_id": v.externalID,
		"app_installed_team_id": s.cfg.TeamID, "bot_id": s.cfg.BotID,
	}
}

func plainText(r json.RawMessage) string {
	var t struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(r, &t)
	return t.Text
}

func (v *viewRec) export(s *Server) View {
	raw, _ := json.Marshal(v.wire(s))
	return View{
		ID: v.id, Type: v.typ, CallbackID: v.callbackID, PrivateMetadata: v.privateMetadata,
		ExternalID: v.externalID, Hash: v.hash, Title: plainText(v.title), Submit: plainText(v.submit),
		Close: plainText(v.closeText), Blocks: v.blocks, Errors: maps.Clone(v.errors), Notice: v.notice, Raw: raw,
	}
}

// parseView validates a view the way views.* do; Slack reports schema problems as
// invalid_arguments with pointer messages.
func parseView(raw json.RawMessage, want string) (*viewRec, string, []string) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, "invalid_arguments", []string{"[ERROR] must provide an object [json-pointer:/view]"}
	}
	typ, _ := m["type"].(string)
	c := checker{surf: surfModal}
	switch typ {
	case "modal":
		if _, ok := m["title"]; !ok {
			c.fail("/view/title", "must provide a text object")
		}
		c.optText(m, "title", "/view", maxModalText, textPlain)
		c.optText(m, "close", "/view", maxModalText, textPlain)
		c.optText(m, "submit", "/view", maxModalText, textPlain)
	case "home":
		c.surf = surfHome
	default:
		c.fail("/view/type", "must be one of modal, home")
	}
	if want != "" && typ != want && len(c.errs) == 0 {
		c.fail("/view/type", "must be %s", want)
	}
	blocks := c.blocks(m["blocks"], "/view/blocks")
	if typ == "modal" && c.hasInput {
		if _, ok := m["submit"]; !ok {
			c.fail("/view/submit", "must provide submit when the view has input blocks")
		}
	}
	pm, _ := c.str(m, "private_metadata", "/view", maxPrivateMeta, false)
	cb, _ := c.str(m, "callback_id", "/view", maxCallbackID, false)
	ext, _ := c.str(m, "external_id", "/view", 255, false)
	if len(c.errs) > 0 {
		return nil, "invalid_arguments", c.messages()
	}
	if blocks == nil {
		blocks = []any{}
	}
	rb, _ := json.Marshal(blocks)
	v := &viewRec{typ: typ, callbackID: cb, privateMetadata: pm, externalID: ext, blocks: rb}
	v.clearOnClose, _ = m["clear_on_close"].(bool)
	v.notifyOnClose, _ = m["notify_on_close"].(bool)
	for key, dst := range map[string]*json.RawMessage{"title": &v.title, "close": &v.closeText, "submit": &v.submit} {
		if x, ok := m[key]; ok && x != nil {
			*dst, _ = json.Marshal(x)
		}
	}
	return v, "", nil
}

// viewParam reads the view argument, a JSON object in JSON bodies or a string in forms.
func viewParam(p *params) json.RawMessage {
	raw := p.raw("view")
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return json.RawMessage(s)
		}
	}
	return raw
}

func (s *Server) viewReply(w httpWriter, method string, v *viewRec) {
	s.apiOK(w, method, map[string]any{"ok": true, "view": v.wire(s)})
}

func (s *Server) apiViewsOpen(w httpWriter, method string, p *params, push bool) {
	triggerID := p.str("trigger_id")
	raw := viewParam(p)
	if triggerID == "" || len(raw) == 0 {
		s.apiErr(w, method, "invalid_arguments", map[string]any{
			"response_metadata": map[string]any{"messages": []string{"[ERROR] missing required field: trigger_id or view"}},
		})
		return
	}
	v, code, msgs := parseView(raw, "modal")
	if code != "" {
		s.apiErr(w, method, code, map[string]any{"response_metadata": map[string]any{"messages": msgs}})
		return
	}
	t, code := s.useTrigger(triggerID)
	if code != "" {
		s.apiErr(w, method, code, nil)
		return
	}
	v.user = t.user
	v.id, v.hash = newViewID(), newHash()
	vs := &s.views
	vs.mu.Lock()
	st := vs.modals[t.user]
	if push && len(st) >= 3 {
		vs.mu.Unlock()
		s.apiErr(w, method, "push_limit_reached", nil)
		return
	}
	if v.externalID != "" {
		if old := vs.byExt[v.externalID]; old != nil && vs.byID[old.id] == old {
			vs.mu.Unlock()
			s.apiErr(w, method, "duplicate_external_id", nil)
			return
		}
	}
	if !push || len(st) == 0 {
		// A root view replaces whatever modal the user had open.
		vs.popLocked(t.user, true)
		st = nil
	} else {
		v.rootID, v.previousID = st[0].id, st[len(st)-1].id
	}
	vs.modals[t.user] = append(st, v)
	vs.byID[v.id] = v
	if v.externalID != "" {
		vs.byExt[v.externalID] = v
	}
	out := v.clone()
	vs.mu.Unlock()
	s.changed()
	if o := t.op.Load(); o != nil {
		o.addAnswer(nil)
	}
	s.watch.notifyKey("modal:" + t.user)
	s.viewReply(w, method, out)
}

func (s *Server) apiViewsUpdate(w httpWriter, method string, p *params) {
	viewID, extID, hash := p.str("view_id"), p.str("external_id"), p.str("hash")
	raw := viewParam(p)
	if (viewID == "" && extID == "") || len(raw) == 0 {
		s.apiErr(w, method, "invalid_arguments", map[string]any{
			"response_metadata": map[string]any{"messages": []string{"[ERROR] missing required field: view_id or external_id, and view"}},
		})
		return
	}
	vs := &s.views
	vs.mu.Lock()
	cur := vs.byID[viewID]
	if cur == nil && extID != "" {
		cur = vs.byExt[extID]
	}
	if cur == nil {
		vs.mu.Unlock()
		s.apiErr(w, method, "not_found", nil)
		return
	}
	typ := cur.typ
	vs.mu.Unlock()
	nv, code, msgs := parseView(raw, typ)
	if code != "" {
		s.apiErr(w, method, code, map[string]any{"response_metadata": map[string]any{"messages": msgs}})
		return
	}
	vs.mu.Lock()
	if vs.byID[cur.id] != cur {
		vs.mu.Unlock()
		s.apiErr(w, method, "not_found", nil)
		return
	}
	if hash != "" && hash != cur.hash {
		vs.mu.Unlock()
		s.apiErr(w, method, "hash_conflict", nil)
		return
	}
	cur.replaceContent(nv)
	if nv.externalID != "" {
		vs.byExt[nv.externalID] = cur
	}
	out := cur.clone()
	user := cur.user
	vs.mu.Unlock()
	s.changed()
	s.watch.notifyKey(typ + ":" + user)
	s.viewReply(w, method, out)
}

// replaceContent swaps in a new definition but keeps identity and input state, as an
// update does in Slack.
func (v *viewRec) replaceContent(nv *viewRec) {
	v.callbackID, v.privateMetadata, v.blocks = nv.callbackID, nv.privateMetadata, nv.blocks
	v.title, v.closeText, v.submit = nv.title, nv.closeText, nv.submit
	v.clearOnClose, v.notifyOnClose = nv.clearOnClose, nv.notifyOnClose
	if nv.externalID != "" {
		v.externalID = nv.externalID
	}
	v.hash = newHash()
	v.errors, v.notice = nil, ""
}

func (s *Server) apiViewsPublish(w httpWriter, method string, p *params) {
	userID, hash := p.str("user_id"), p.str("hash")
	raw := viewParam(p)
	if userID == "" || len(raw) == 0 {
		s.apiErr(w, method, "invalid_arguments", map[string]any{
			"response_metadata": map[string]any{"messages": []string{"[ERROR] missing required field: user_id or view"}},
		})
		return
	}
	if u, ok := s.ws.user(userID); !ok || u.IsBot {
		s.apiErr(w, method, "user_not_found", nil)
		return
	}
	nv, code, msgs := parseView(raw, "home")
	if code != "" {
		s.apiErr(w, method, code, map[string]any{"response_metadata": map[string]any{"messages": msgs}})
		return
	}
	vs := &s.views
	vs.mu.Lock()
	cur := vs.homes[userID]
	if cur != nil && hash != "" && hash != cur.hash {
		vs.mu.Unlock()
		s.apiErr(w, method, "hash_conflict", nil)
		return
	}
	if cur == nil {
		nv.id, nv.user, nv.hash = newViewID(), userID, newHash()
		vs.homes[userID] = nv
		vs.byID[nv.id] = nv
		cur = nv
	} else {
		cur.replaceContent(nv)
	}
	out := cur.clone()
	vs.mu.Unlock()
	s.changed()
	s.watch.notifyKey("home:" + userID)
	s.viewReply(w, method, out)
}

// HomeView returns the view last published for userID with views.publish.
func (s *Server) HomeView(userID string) (json.RawMessage, bool) {
	v := s.views.home(userID)
	if v == nil {
		return nil, false
	}
	b, err := json.Marshal(v.wire(s))
	return b, err == nil
}

// OpenView returns the modal on top of userID's stack.
func (s *Server) OpenView(userID string) (View, bool) {
	v := s.views.top(userID)
	if v == nil {
		return View{}, false
	}
	return v.export(s), true
}

// stateFor builds state.values for the input blocks of v, from explicit values, then
// what the user already entered, then initial values; it also applies Slack's own
// client-side checks (required fields, min_length) and returns their errors.
func stateFor(v *viewRec, values map[string]map[string]any) (map[string]map[string]any, map[string]string, error) {
	var blocks []map[string]any
	if err := json.Unmarshal(v.blocks, &blocks); err != nil {
		return nil, nil, fmt.Errorf("emulator: decode view blocks: %w", err)
	}
	inputs := map[string]bool{}
	state := map[string]map[string]any{}
	errs := map[string]string{}
	for _, b := range blocks {
		if b["type"] != "input" {
			continue
		}
		blockID, _ := b["block_id"].(string)
		el, _ := b["element"].(map[string]any)
		actionID, _ := el["action_id"].(string)
		inputs[blockID] = true
		val, given := values[blockID][actionID]
		if !given {
			if prev, ok := v.state[blockID][actionID]; ok {
				val, given = prev, true
			}
		}
		obj, filled, err := inputValue(el, val, given)
		if err != nil {
			return nil, nil, fmt.Errorf("emulator: block %s: %w", blockID, err)
		}
		state[blockID] = map[string]any{actionID: obj}
		optional, _ := b["optional"].(bool)
		if !filled && !optional {
			errs[blockID] = "This field is required."
		} else if s, ok := obj["value"].(string); ok && filled {
			if n := intField(el, "min_length", 0); runes(s) < n {
				errs[blockID] = fmt.Sprintf("Must be at least %d characters.", n)
			}
		}
	}
	for blockID := range values {
		if !inputs[blockID] {
			return nil, nil, fmt.Errorf("emulator: view %s has no input block %q", v.id, blockID)
		}
	}
	return state, errs, nil
}

// inputValue converts a test-friendly value (a string, a list of strings, or a ready
// state object) into Slack's state value object for element el.
func inputValue(el map[string]any, val any, given bool) (map[string]any, bool, error) {
	typ, _ := el["type"].(string)
	if m, ok := val.(map[string]any); ok {
		m = maps.Clone(m)
		m["type"] = typ
		return m, true, nil
	}
	if !given {
		val, given = initialValue(el)
	}
	str, _ := val.(string)
	var strs []string
	switch x := val.(type) {
	case []string:
		strs = x
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				strs = append(strs, s)
			}
		}
	case string:
		if x != "" {
			strs = []string{x}
		}
	}
	out := map[string]any{"type": typ}
	filled := given && (str != "" || len(strs) > 0)
	switch typ {
	case "plain_text_input", "email_text_input", "url_text_input", "number_input":
		out["value"] = nullIfEmpty(str)
	case "static_select", "external_select", "radio_buttons":
		out["selected_option"] = nil
		if str != "" {
			o := findOption(el, str)
			if o == nil {
				return nil, false, fmt.Errorf("no option with value %q", str)
			}
			out["selected_option"] = o
		}
	case "multi_static_select", "multi_external_select", "checkboxes":
		sel := []any{}
		for _, v := range strs {
			o := findOption(el, v)
			if o == nil {
				return nil, false, fmt.Errorf("no option with value %q", v)
			}
			sel = append(sel, o)
		}
		out["selected_options"] = sel
	case "datepicker":
		if str != "" {
			if _, err := time.Parse(time.DateOnly, str); err != nil {
				return nil, false, fmt.Errorf("date %q is not YYYY-MM-DD", str)
			}
		}
		out["selected_date"] = nullIfEmpty(str)
	case "timepicker":
		out["selected_time"] = nullIfEmpty(str)
	case "users_select":
		out["selected_user"] = nullIfEmpty(str)
	case "conversations_select":
		out["selected_conversation"] = nullIfEmpty(str)
	case "channels_select":
		out["selected_channel"] = nullIfEmpty(str)
	case "multi_users_select":
		out["selected_users"] = nonNil(strs)
	case "multi_conversations_select":
		out["selected_conversations"] = nonNil(strs)
	case "multi_channels_select":
		out["selected_channels"] = nonNil(strs)
	default:
		out["value"] = nullIfEmpty(str)
	}
	return out, filled, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func initialValue(el map[string]any) (any, bool) {
	for _, k := range []string{"initial_value", "initial_date", "initial_time", "initial_user", "initial_conversation", "initial_channel"} {
		if v, ok := el[k].(string); ok && v != "" {
			return v, true
		}
	}
	if o, ok := el["initial_option"].(map[string]any); ok {
		return o["value"], true
	}
	if list, ok := el["initial_options"].([]any); ok {
		var vals []string
		for _, o := range list {
			if om, ok := o.(map[string]any); ok {
				if v, ok := om["value"].(string); ok {
					vals = append(vals, v)
				}
			}
		}
		return vals, len(vals) > 0
	}
	return nil, false
}

func findOption(el map[string]any, value string) map[string]any {
	var all []any
	if opts, ok := el["options"].([]any); ok {
		all = append(all, opts...)
	}
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				if opts, ok := gm["options"].([]any); ok {
					all = append(all, opts...)
				}
			}
		}
	}
	for _, o := range all {
		if om, ok := o.(map[string]any); ok && om["value"] == value {
			return om
		}
	}
	return nil
}

// SubmitView submits userID's open modal with values (block_id → action_id → value; a
// string, a []string, or a ready state object), falling back to what was entered before
// and to initial values. Slack's client-side checks run first: with a required field
// empty nothing is sent and Result.ViewErrors says why. Otherwise a view_submission is
// sent and its response_action applied: errors, update, push, clear, or (none) close.
func (s *Server) SubmitView(ctx context.Context, userID string, values map[string]map[string]any) (*Result, error) {
	v := s.views.top(userID)
	if v == nil {
		return nil, fmt.Errorf("emulator: %s has no open modal", userID)
	}
	state, errs, err := stateFor(v, values)
	if err != nil {
		return nil, err
	}
	s.views.mu.Lock()
	if live := s.views.byID[v.id]; live != nil {
		live.state, live.notice = state, ""
		if len(errs) > 0 {
			live.errors = errs
		}
	}
	s.views.mu.Unlock()
	s.changed()
	if len(errs) > 0 {
		return &Result{ViewErrors: errs}, nil
	}
	v.state = state
	u, _ := s.ws.user(userID)
	o := s.newOp(kindSubmit, userID, "")
	o.viewID = v.id
	payload, err := json.Marshal(map[string]any{
		"type":                  "view_submission",
		"team":                  map[string]any{"id": s.cfg.TeamID, "domain": s.teamDomain()},
		"user":                  map[string]any{"id": userID, "username": u.Name, "name": u.Name, "team_id": s.cfg.TeamID},
		"api_app_id":            s.cfg.AppID,
		"token":                 verificationToken,
		"trigger_id":            s.newTrigger(userID, nil),
		"view":                  v.wire(s),
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: marshal view_submission: %w", err)
	}
	return s.run(ctx, o, func() {
		if !s.deliver(o, "interactive", payload, 0) {
			s.notDelivered(o)
		}
	})
}

func (s *Server) ackSubmit(o *op, e *envelope, payload json.RawMessage, at time.Time) {
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	code := ""
	if !isJSONNull(payload) {
		if err := json.Unmarshal(payload, &resp); err != nil {
			code = "invalid_payload"
		}
	}
	var viewErrs map[string]string
	vs := &s.views
	if code == "" {
		switch resp.ResponseAction {
		case "", "clear":
			vs.mu.Lock()
			if st := vs.modals[o.user]; len(st) > 0 && st[len(st)-1].id == o.viewID {
				vs.popLocked(o.user, resp.ResponseAction == "clear")
			}
			vs.mu.Unlock()
		case "errors":
			viewErrs = resp.Errors
			vs.mu.Lock()
			if v := vs.byID[o.viewID]; v != nil {
				v.errors = maps.Clone(resp.Errors)
			}
			vs.mu.Unlock()
		case "update", "push":
			nv, c, _ := parseView(resp.View, "modal")
			if c != "" {
				code = c
				break
			}
			vs.mu.Lock()
			cur := vs.byID[o.viewID]
			switch {
			case cur == nil:
			case resp.ResponseAction == "update":
				cur.replaceContent(nv)
			case len(vs.modals[o.user]) >= 3:
				code = "push_limit_reached"
			default:
				st := vs.modals[o.user]
				nv.id, nv.hash, nv.user = newViewID(), newHash(), o.user
				nv.rootID, nv.previousID = st[0].id, st[len(st)-1].id
				vs.modals[o.user] = append(st, nv)
				vs.byID[nv.id] = nv
			}
			vs.mu.Unlock()
		default:
			code = "invalid_response_action"
		}
	}
	if code != "" {
		s.stats.refusedAcks.Add(1)
		vs.setNotice(o.user, o.viewID, "We had some trouble connecting. Try again?")
	}
	s.changed()
	o.finish(func(r *Result) {
		o.markAcked(e, at)
		r.Answered, r.AnsweredAt = true, at
		r.Error, r.ViewErrors = code, viewErrs
	})
}

// CloseView closes userID's top modal as the Cancel button does (the whole stack when
// clear_on_close is set), sending view_closed when the view asked for notify_on_close.
func (s *Server) CloseView(ctx context.Context, userID string) error {
	vs := &s.views
	vs.mu.Lock()
	st := vs.modals[userID]
	if len(st) == 0 {
		vs.mu.Unlock()
		return fmt.Errorf("emulator: %s has no open modal", userID)
	}
	top := st[len(st)-1].clone()
	vs.popLocked(userID, top.clearOnClose)
	vs.mu.Unlock()
	s.changed()
	if !top.notifyOnClose {
		return nil
	}
	u, _ := s.ws.user(userID)
	payload, err := json.Marshal(map[string]any{
		"type":                  "view_closed",
		"team":                  map[string]any{"id": s.cfg.TeamID, "domain": s.teamDomain()},
		"user":                  map[string]any{"id": userID, "username": u.Name, "name": u.Name, "team_id": s.cfg.TeamID},
		"api_app_id":            s.cfg.AppID,
		"token":                 verificationToken,
		"view":                  top.wire(s),
		"is_cleared":            top.clearOnClose,
		"is_enterprise_install": false,
	})
	if err != nil {
		return fmt.Errorf("emulator: marshal view_closed: %w", err)
	}
	o := s.newOp(kindClosed, userID, "")
	r, err := s.run(ctx, o, func() {
		if !s.deliver(o, "interactive", payload, 0) {
			s.notDelivered(o)
		}
	})
	if err != nil {
		return err
	}
	if r.Error != "" {
		return fmt.Errorf("slackemu: view_closed for %s: %s", userID, r.Error)
	}
	return nil
}
