package slackemu

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Block Kit limits, from Slack's published schema (node-slack-sdk types) and docs.
const (
	maxMessageText    = 40000
	maxMessageBlocks  = 50
	maxViewBlocks     = 100
	maxSectionText    = 3000
	maxFields         = 10
	maxFieldText      = 2000
	maxHeaderText     = 150
	maxActionElements = 25
	maxContextElems   = 10
	maxBlockID        = 255
	maxActionID       = 255
	maxButtonText     = 75
	maxButtonValue    = 2000
	maxURL            = 3000
	maxSelectOptions  = 100
	maxOptionText     = 75
	maxOptionValue    = 150
	maxPlaceholder    = 150
	maxLabel          = 2000
	maxModalText      = 24
	maxPrivateMeta    = 3000
	maxCallbackID     = 255
	maxMarkdownTotal  = 12000
	maxAltText        = 2000
)

type surface uint8

const (
	surfMessage surface = iota
	surfModal
	surfHome
)

// checker walks decoded Block Kit JSON, collecting Slack-style errors and filling in the
// block_id and action_id values Slack assigns when an app leaves them out.
type checker struct {
	surf          surface
	errs          []string
	markdownTotal int
	tables        int
	changed       bool
	hasInput      bool
}

func (c *checker) fail(ptr, format string, args ...any) {
	if len(c.errs) < 10 {
		c.errs = append(c.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
	}
}

func (c *checker) messages() []string {
	out := make([]string, len(c.errs))
	for i, e := range c.errs {
		out[i] = "[ERROR] " + e
	}
	return out
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// maxLen checks s at ptr+"/"+key; the pointer is only built for an error, and the runes
// only counted when the bytes could be too many (a rune is at least one byte).
func (c *checker) maxLen(ptr, key, s string, max int) {
	if len(s) > max && runes(s) > max {
		c.fail(ptr+"/"+key, "must be less than %d characters", max+1)
	}
}

// str checks an optional string field; required adds the presence check.
func (c *checker) str(m map[string]any, key, ptr string, max int, required bool) (string, bool) {
	v, present := m[key]
	if !present || v == nil {
		if required {
			c.fail(ptr+"/"+key, "must provide a value")
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.fail(ptr+"/"+key, "must be a string")
		return "", false
	}
	if required && s == "" {
		c.fail(ptr+"/"+key, "must be more than 0 characters")
	}
	if max > 0 {
		c.maxLen(ptr, key, s, max)
	}
	return s, true
}

const (
	textAny   = false
	textPlain = true
)

// text checks a composition text object.
func (c *checker) text(v any, ptr string, max int, plainOnly bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be a text object")
		return
	}
	switch t, _ := m["type"].(string); t {
	case "plain_text":
	case "mrkdwn":
		if plainOnly {
			c.fail(ptr+"/type", "must be plain_text")
		}
	default:
		c.fail(ptr+"/type", "must be one of plain_text, mrkdwn")
	}
	s, ok := m["text"].(string)
	if !ok {
		c.fail(ptr+"/text", "must provide a string")
		return
	}
	if s == "" {
		c.fail(ptr+"/text", "must be more than 0 characters")
	}
	c.maxLen(ptr, "text", s, max)
}

func (c *checker) optText(m map[string]any, key, ptr string, max int, plainOnly bool) {
	if v, ok := m[key]; ok && v != nil {
		c.text(v, ptr+"/"+key, max, plainOnly)
	}
}

func (c *checker) array(m map[string]any, key, ptr string, minN, maxN int) []any {
	v, present := m[key]
	if !present || v == nil {
		if minN > 0 {
			c.fail(ptr+"/"+key, "must provide an array")
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		c.fail(ptr+"/"+key, "must be an array")
		return nil
	}
	if len(a) < minN {
		c.fail(ptr+"/"+key, "must provide at least %d items", minN)
	}
	if maxN > 0 && len(a) > maxN {
		c.fail(ptr+"/"+key, "no more than %d items allowed", maxN)
	}
	return a
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// freshID invents an id like the short random ones Slack assigns, unique within taken.
func freshID(taken map[string]bool) string {
	for {
		b := make([]byte, 4)
		for i := range b {
			b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
		}
		if id := string(b); !taken[id] {
			taken[id] = true
			return id
		}
	}
}

// blocks checks a blocks array for the current surface and returns it, normalized.
func (c *checker) blocks(v any, ptr string) []any {
	list, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil
		}
		c.fail(ptr, "must be an array")
		return nil
	}
	max := maxMessageBlocks
	if c.surf != surfMessage {
		max = maxViewBlocks
	}
	if len(list) > max {
		c.fail(ptr, "no more than %d items allowed", max)
	}
	ids := make(map[string]bool, len(list))
	// p is the block's pointer, built only for an error.
	p := func(i int) string { return ptr + "/" + strconv.Itoa(i) }
	for i, b := range list {
		m, ok := b.(map[string]any)
		if !ok {
			c.fail(p(i), "must be an object")
			continue
		}
		raw, present := m["block_id"]
		if !present {
			continue
		}
		id, ok := raw.(string)
		switch {
		case !ok:
			c.fail(p(i)+"/block_id", "must be a string")
		case id == "":
			c.fail(p(i)+"/block_id", "must be more than 0 characters")
		case runes(id) > maxBlockID:
			c.fail(p(i)+"/block_id", "must be less than %d characters", maxBlockID+1)
		case ids[id]:
			c.fail(p(i)+"/block_id", "duplicate block_id %q", id)
		default:
			ids[id] = true
		}
	}
	for i, b := range list {
		m, ok := b.(map[string]any)
		if !ok {
			continue
		}
		if _, present := m["block_id"]; !present {
			m["block_id"] = freshID(ids)
			c.changed = true
		}
		c.block(m, ptr+"/"+strconv.Itoa(i))
	}
	return list
}

func (c *checker) block(m map[string]any, ptr string) {
	typ, _ := m["type"].(string)
	actionIDs := map[string]bool{}
	switch typ {
	case "section":
		_, hasText := m["text"]
		_, hasFields := m["fields"]
		if !hasText && !hasFields {
			c.fail(ptr, "must provide either text or fields")
		}
		c.optText(m, "text", ptr, maxSectionText, textAny)
		for i, f := range c.array(m, "fields", ptr, 0, maxFields) {
			c.text(f, ptr+"/fields/"+strconv.Itoa(i), maxFieldText, textAny)
		}
		if acc, ok := m["accessory"]; ok {
			c.element(acc, ptr+"/accessory", accessoryElements, actionIDs)
		}
	case "divider":
	case "header":
		if _, ok := m["text"]; !ok {
			c.fail(ptr+"/text", "must provide a text object")
		}
		c.optText(m, "text", ptr, maxHeaderText, textPlain)
	case "context":
		for i, e := range c.array(m, "elements", ptr, 1, maxContextElems) {
			p := ptr + "/elements/" + strconv.Itoa(i)
			em, _ := e.(map[string]any)
			switch t, _ := em["type"].(string); t {
			case "image":
				c.image(em, p)
			case "plain_text", "mrkdwn":
				c.text(em, p, maxSectionText, textAny)
			default:
				c.fail(p+"/type", "must be one of image, plain_text, mrkdwn")
			}
		}
	case "actions":
		for i, e := range c.array(m, "elements", ptr, 1, maxActionElements) {
			c.element(e, ptr+"/elements/"+strconv.Itoa(i), actionsElements, actionIDs)
		}
	case "image":
		c.image(m, ptr)
		c.optText(m, "title", ptr, maxAltText, textPlain)
	case "input":
		c.hasInput = true
		if _, ok := m["label"]; !ok {
			c.fail(ptr+"/label", "must provide a text object")
		}
		c.optText(m, "label", ptr, maxLabel, textPlain)
		c.optText(m, "hint", ptr, maxLabel, textPlain)
		if el, ok := m["element"]; ok {
			c.element(el, ptr+"/element", inputElements, actionIDs)
		} else {
			c.fail(ptr+"/element", "must provide an element")
		}
		if v, ok := m["optional"]; ok {
			if _, isBool := v.(bool); !isBool {
				c.fail(ptr+"/optional", "must be a boolean")
			}
		}
	case "markdown":
		s, _ := c.str(m, "text", ptr, 0, true)
		c.markdownTotal += runes(s)
		if c.markdownTotal > maxMarkdownTotal {
			c.fail(ptr+"/text", "markdown blocks must be less than %d characters in total", maxMarkdownTotal+1)
		}
	case "rich_text":
		c.array(m, "elements", ptr, 1, 0)
	case "video":
		c.str(m, "alt_text", ptr, maxAltText, true)
		c.str(m, "video_url", ptr, maxURL, true)
		c.str(m, "thumbnail_url", ptr, maxURL, true)
		if _, ok := m["title"]; !ok {
			c.fail(ptr+"/title", "must provide a text object")
		}
		c.optText(m, "title", ptr, 200, textPlain)
	case "file":
		if c.surf != surfMessage {
			c.fail(ptr+"/type", "file blocks are only allowed in messages")
		}
		c.str(m, "external_id", ptr, 0, true)
		c.str(m, "source", ptr, 0, true)
	case "table":
		if c.surf != surfMessage {
			c.fail(ptr+"/type", "table blocks are only allowed in messages")
		}
		c.tables++
		if c.tables > 1 {
			c.fail(ptr, "only one table block is allowed per message")
		}
		c.array(m, "rows", ptr, 1, 100)
	case "":
		c.fail(ptr+"/type", "must provide a block type")
	default:
		c.fail(ptr+"/type", "unsupported type %q", typ)
	}
}

func (c *checker) image(m map[string]any, ptr string) {
	_, hasURL := m["image_url"]
	_, hasFile := m["slack_file"]
	switch {
	case hasURL:
		c.str(m, "image_url", ptr, maxURL, true)
	case !hasFile:
		c.fail(ptr, "must provide either image_url or slack_file")
	}
	c.str(m, "alt_text", ptr, maxAltText, true)
}

var (
	selectTypes = []string{"static_select", "external_select", "users_select", "conversations_select", "channels_select"}
	multiTypes  = []string{"multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select", "multi_channels_select"}

	accessoryElements = setOf(append(append([]string{"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons", "timepicker", "workflow_button"}, selectTypes...), multiTypes...)...)
	actionsElements   = setOf(append(append([]string{"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons", "timepicker", "workflow_button", "rich_text_input"}, selectTypes...), multiTypes...)...)
	inputElements     = setOf(append(append([]string{"checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "number_input", "plain_text_input", "radio_buttons", "rich_text_input", "timepicker", "url_text_input"}, selectTypes...), multiTypes...)...)

	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timePattern = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
)

func setOf(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func (c *checker) element(v any, ptr string, allowed map[string]bool, actionIDs map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be an object")
		return
	}
	typ, _ := m["type"].(string)
	if !allowed[typ] {
		c.fail(ptr+"/type", "unsupported element type %q here", typ)
		return
	}
	if typ != "image" {
		if raw, present := m["action_id"]; present {
			id, ok := raw.(string)
			switch {
			case !ok:
				c.fail(ptr+"/action_id", "must be a string")
			case id == "":
				c.fail(ptr+"/action_id", "must be more than 0 characters")
			case runes(id) > maxActionID:
				c.fail(ptr+"/action_id", "must be less than %d characters", maxActionID+1)
			case actionIDs[id]:
				c.fail(ptr+"/action_id", "duplicate action_id %q in block", id)
			default:
				actionIDs[id] = true
			}
		} else {
			m["action_id"] = freshID(actionIDs)
			c.changed = true
		}
	}
	c.optText(m, "placeholder", ptr, maxPlaceholder, textPlain)
	if conf, ok := m["confirm"]; ok {
		c.confirm(conf, ptr+"/confirm")
	}
	switch typ {
	case "button":
		if _, ok := m["text"]; !ok {
			c.fail(ptr+"/text", "must provide a text object")
		}
		c.optText(m, "text", ptr, maxButtonText, textPlain)
		c.str(m, "value", ptr, maxButtonValue, false)
		c.str(m, "url", ptr, maxURL, false)
		c.str(m, "accessibility_label", ptr, maxButtonText, false)
		if st, ok := c.str(m, "style", ptr, 0, false); ok && st != "primary" && st != "danger" {
			c.fail(ptr+"/style", "must be one of primary, danger")
		}
	case "static_select", "multi_static_select":
		opts := c.options(m, ptr, maxSelectOptions)
		if _, hasGroups := m["option_groups"]; hasGroups {
			for i, g := range c.array(m, "option_groups", ptr, 1, maxSelectOptions) {
				gm, _ := g.(map[string]any)
				gp := ptr + "/option_groups/" + strconv.Itoa(i)
				c.optText(gm, "label", gp, maxOptionText, textPlain)
				opts = append(opts, c.optionList(gm, gp, maxSelectOptions, true)...)
			}
		} else if _, hasOpts := m["options"]; !hasOpts {
			c.fail(ptr, "must provide either options or option_groups")
		}
		c.initialOptions(m, ptr, opts)
	case "overflow":
		c.optionList(m, ptr, 5, true)
	case "checkboxes", "radio_buttons":
		opts := c.optionList(m, ptr, 10, false)
		c.initialOptions(m, ptr, opts)
	case "datepicker":
		if d, ok := c.str(m, "initial_date", ptr, 0, false); ok {
			if _, err := time.Parse(time.DateOnly, d); err != nil || !datePattern.MatchString(d) {
				c.fail(ptr+"/initial_date", "must be a date in the format YYYY-MM-DD")
			}
		}
	case "timepicker":
		if t, ok := c.str(m, "initial_time", ptr, 0, false); ok && !timePattern.MatchString(t) {
			c.fail(ptr+"/initial_time", "must be a time in the format HH:mm")
		}
	case "plain_text_input":
		minL, maxL := intField(m, "min_length", 0), intField(m, "max_length", 3000)
		if minL < 0 || minL > 3000 {
			c.fail(ptr+"/min_length", "must be between 0 and 3000")
		}
		if maxL < 1 || maxL > 3000 {
			c.fail(ptr+"/max_length", "must be between 1 and 3000")
		}
		if minL > maxL {
			c.fail(ptr+"/min_length", "must not be greater than max_length")
		}
		if iv, ok := c.str(m, "initial_value", ptr, 0, false); ok && runes(iv) > maxL {
			c.fail(ptr+"/initial_value", "must be less than %d characters", maxL+1)
		}
	case "number_input":
		if _, ok := m["is_decimal_allowed"].(bool); !ok {
			c.fail(ptr+"/is_decimal_allowed", "must provide a boolean")
		}
	case "image":
		c.image(m, ptr)
	case "workflow_button":
		c.optText(m, "text", ptr, maxButtonText, textPlain)
		if _, ok := m["workflow"]; !ok {
			c.fail(ptr+"/workflow", "must provide a workflow object")
		}
	}
}

func intField(m map[string]any, key string, def int) int {
	if f, ok := m[key].(float64); ok {
		return int(f)
	}
	return def
}

func (c *checker) options(m map[string]any, ptr string, max int) []map[string]any {
	if _, ok := m["options"]; !ok {
		return nil
	}
	return c.optionList(m, ptr, max, true)
}

func (c *checker) optionList(m map[string]any, ptr string, max int, plainOnly bool) []map[string]any {
	var out []map[string]any
	for i, o := range c.array(m, "options", ptr, 1, max) {
		p := ptr + "/options/" + strconv.Itoa(i)
		om, ok := o.(map[string]any)
		if !ok {
			c.fail(p, "must be an option object")
			continue
		}
		if _, ok := om["text"]; !ok {
			c.fail(p+"/text", "must provide a text object")
		}
		c.optText(om, "text", p, maxOptionText, plainOnly)
		c.str(om, "value", p, maxOptionValue, true)
		c.optText(om, "description", p, maxOptionText, plainOnly)
		c.str(om, "url", p, maxURL, false)
		out = append(out, om)
	}
	return out
}

// initialOptions: Slack refuses an initial option that is not one of the options.
func (c *checker) initialOptions(m map[string]any, ptr string, opts []map[string]any) {
	check := func(v any, p string) {
		om, _ := v.(map[string]any)
		val, _ := om["value"].(string)
		for _, o := range opts {
			if o["value"] == val {
				return
			}
		}
		c.fail(p, "must match one of the provided options")
	}
	if v, ok := m["initial_option"]; ok && v != nil {
		check(v, ptr+"/initial_option")
	}
	if v, ok := m["initial_options"].([]any); ok {
		for i, o := range v {
			check(o, ptr+"/initial_options/"+strconv.Itoa(i))
		}
	}
}

func (c *checker) confirm(v any, ptr string) {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be a confirmation dialog object")
		return
	}
	for _, k := range []string{"title", "text", "confirm", "deny"} {
		if _, ok := m[k]; !ok {
			c.fail(ptr+"/"+k, "must provide a text object")
		}
	}
	c.optText(m, "title", ptr, 100, textPlain)
	c.optText(m, "text", ptr, 300, textAny)
	c.optText(m, "confirm", ptr, 30, textPlain)
	c.optText(m, "deny", ptr, 30, textPlain)
}

// checkMessage applies chat.postMessage's rules to a message's text and blocks. It returns
// the blocks as stored (with assigned ids), or a Slack error code and its detail lines.
func (s *Server) checkMessage(text string, blocks json.RawMessage, hasAttachments bool) (json.RawMessage, string, []string) {
	return s.checkMessageTree(text, blocks, nil, false, hasAttachments)
}

// checkMessageTree is checkMessage given, when haveTree is true, what json.Unmarshal of blocks
// into an any gives (see decodeAckFast). Blocks returned unchanged are a copy of blocks.
func (s *Server) checkMessageTree(text string, blocks json.RawMessage, tree any, haveTree, hasAttachments bool) (json.RawMessage, string, []string) {
	if runes(text) > maxMessageText {
		return nil, "msg_too_long", nil
	}
	if isJSONNull(blocks) {
		if text == "" && !hasAttachments {
			return nil, "no_text", nil
		}
		return nil, "", nil
	}
	decoded := tree
	if !haveTree {
		if err := json.Unmarshal(blocks, &decoded); err != nil {
			return nil, "invalid_blocks_format", []string{"[ERROR] " + err.Error()}
		}
	}
	list, ok := decoded.([]any)
	if !ok {
		return nil, "invalid_blocks_format", []string{"[ERROR] blocks must be an array"}
	}
	c := checker{surf: surfMessage}
	c.blocks(list, "/blocks")
	if len(c.errs) > 0 {
		return nil, "invalid_blocks", c.messages()
	}
	if len(list) == 0 {
		if text == "" && !hasAttachments {
			return nil, "no_text", nil
		}
		return nil, "", nil
	}
	if !c.changed {
		return slices.Clone(blocks), "", nil
	}
	out, err := marshalTree(list, len(blocks)+len(list)*32+64) // room for the ids added
	if err != nil {
		return nil, "invalid_blocks", []string{"[ERROR] " + err.Error()}
	}
	return out, "", nil
}
