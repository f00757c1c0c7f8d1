package slackemu

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The Socket Mode ack is the emulator's hottest input: at thousands of commands per second
// decoding it with encoding/json three times over (the frame, the message, the blocks) and
// encoding the blocks again cost more CPU than the rest of the emulator together. jsonReader
// validates and decodes a frame in one pass, and appendJSON encodes decoded blocks without
// reflection. Both give up (ok false) on anything they are not certain to handle exactly as
// encoding/json does: invalid JSON, numbers out of range, surrogate escapes, invalid UTF-8,
// keys that only match a field case-insensitively, unusual value types. The caller then takes
// the encoding/json path, so every input gets the same result, error messages included, as
// before; the fast path only covers what bots really send.

// maxFastDepth bounds the reader's recursion; deeper input goes to encoding/json, whose own
// limit is 10,000.
const maxFastDepth = 200

// jsonReader reads one JSON text from a string or bytes. Strings it reads from bytes are
// copies; from a string they share its memory, which saves an allocation each.
type jsonReader[T string | []byte] struct {
	b     T
	i     int
	depth int
}

func (r *jsonReader[T]) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, 0 at the end.
func (r *jsonReader[T]) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// end reports whether only whitespace is left.
func (r *jsonReader[T]) end() bool {
	r.ws()
	return r.i == len(r.b)
}

func (r *jsonReader[T]) literal(word string) bool {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return false
	}
	r.i += len(word)
	return true
}

// number consumes a number as JSON's grammar defines it and returns its text.
func (r *jsonReader[T]) number() (T, bool) {
	var none T
	b, i := r.b, r.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return none, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return none, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return none, false
		}
	}
	r.i = i
	return b[start:i], true
}

func hexVal(c byte) (rune, bool) {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0'), true
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10), true
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}

// Block Kit's own words come back as these shared strings, and as values ready in an any,
// instead of a fresh allocation each.
var (
	internedKeys = setOfStrings("type", "text", "emoji", "verbatim", "block_id", "elements", "element",
		"action_id", "value", "style", "url", "fields", "accessory", "alt_text", "image_url", "title",
		"placeholder", "options", "initial_option", "confirm", "label", "hint", "optional")
	internedValues = func() map[string]any {
		m := map[string]any{}
		for _, v := range []string{"section", "header", "context", "actions", "divider", "image", "input",
			"markdown", "rich_text", "mrkdwn", "plain_text", "button", "primary", "danger", "static_select",
			"overflow", "checkboxes", "radio_buttons", "datepicker", "timepicker", "plain_text_input"} {
			m[v] = v
		}
		return m
	}()
)

// maxInternedKey is the length of the longest internedKeys entry.
var maxInternedKey = func() (n int) {
	for k := range internedKeys {
		n = max(n, len(k))
	}
	return n
}()

func setOfStrings(vs ...string) map[string]string {
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		m[v] = v
	}
	return m
}

// str reads a string (r.b[r.i] must be '"') and returns it unescaped. It gives up on invalid
// UTF-8 and on \u escapes of surrogates, which encoding/json replaces in ways not worth
// copying here.
func (r *jsonReader[T]) str() (string, bool) {
	b := r.b
	i := r.i + 1
	start := i
	ascii := true
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			s := b[start:i]
			// Checked once for the whole string: much cheaper than rune by rune. (For a
			// []byte reader the conversion may copy; only string readers decode strings.)
			if !ascii && !utf8.ValidString(string(s)) {
				return "", false
			}
			r.i = i + 1
			// Only short strings can be keys worth sharing; hashing long texts to find out
			// cost more than the copy it could save.
			if len(s) <= maxInternedKey {
				if k, ok := internedKeys[string(s)]; ok {
					return k, true
				}
			}
			return string(s), true
		case c == '\\':
			return r.strEscaped(start, i)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// plainStrEnd is the index of the closing quote of the string at r.i when it is short and
// plain ASCII, else 0.
func (r *jsonReader[T]) plainStrEnd() int {
	b := r.b
	for i := r.i + 1; i < len(b) && i < r.i+20; i++ {
		switch c := b[i]; {
		case c == '"':
			return i
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return 0
		}
	}
	return 0
}

// strEscaped finishes a string from i, the first backslash; b[start:i] is plain. Runs of
// plain bytes are copied whole, and the result's UTF-8 is checked once at the end: escapes
// only ever add whole runes, so it is valid exactly when every raw run is.
func (r *jsonReader[T]) strEscaped(start, i int) (string, bool) {
	b := r.b
	// The string ends at the first quote not escaped; unescaped it is no longer.
	end := i
	for end < len(b) && b[end] != '"' {
		if b[end] == '\\' {
			end++
		}
		end++
	}
	var out strings.Builder // its String() is the buffer itself, not a second copy
	out.Grow(min(end, len(b)) - start)
	out.WriteString(string(b[start:i]))
	for i < len(b) {
		j := i
		for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		out.WriteString(string(b[i:j]))
		if i = j; i >= len(b) {
			return "", false
		}
		switch c := b[i]; {
		case c == '"':
			s := out.String()
			if !utf8.ValidString(s) {
				return "", false
			}
			r.i = i + 1
			return s, true
		case c == '\\':
			if i+1 >= len(b) {
				return "", false
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out.WriteByte(e)
			case 'b':
				out.WriteByte('\b')
			case 'f':
				out.WriteByte('\f')
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			case 'u':
				if i+6 > len(b) {
					return "", false
				}
				var ru rune
				for j := i + 2; j < i+6; j++ {
					v, ok := hexVal(b[j])
					if !ok {
						return "", false
					}
					ru = ru<<4 | v
				}
				if ru >= 0xD800 && ru < 0xE000 {
					return "", false
				}
				out.WriteRune(ru)
				i += 4
			default:
				return "", false
			}
			i += 2
		default: // a control character
			return "", false
		}
	}
	return "", false
}

// skipStr validates a string without decoding it; like encoding/json it accepts any bytes
// of 0x20 and above, valid UTF-8 or not.
func (r *jsonReader[T]) skipStr() bool {
	b := r.b
	i := r.i + 1
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			r.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return false
				}
				for j := i + 2; j < i+6; j++ {
					if _, ok := hexVal(b[j]); !ok {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			i++
		}
	}
	return false
}

// skip validates one value without building it.
func (r *jsonReader[T]) skip() bool {
	switch r.peek() {
	case '{':
		if r.depth++; r.depth > maxFastDepth {
			return false
		}
		r.i++
		if r.peek() == '}' {
			r.i++
			r.depth--
			return true
		}
		for {
			if r.peek() != '"' || !r.skipStr() || r.peek() != ':' {
				return false
			}
			r.i++
			if !r.skip() {
				return false
			}
			switch r.peek() {
			case ',':
				r.i++
			case '}':
				r.i++
				r.depth--
				return true
			default:
				return false
			}
		}
	case '[':
		if r.depth++; r.depth > maxFastDepth {
			return false
		}
		r.i++
		if r.peek() == ']' {
			r.i++
			r.depth--
			return true
		}
		for {
			if !r.skip() {
				return false
			}
			switch r.peek() {
			case ',':
				r.i++
			case ']':
				r.i++
				r.depth--
				return true
			default:
				return false
			}
		}
	case '"':
		return r.skipStr()
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	default:
		_, ok := r.number()
		return ok
	}
}

// value decodes one value the way json.Unmarshal into an any does: map[string]any, []any
// (never nil), string, float64, bool or nil.
func (r *jsonReader[T]) value() (any, bool) {
	switch r.peek() {
	case '{':
		if r.depth++; r.depth > maxFastDepth {
			return nil, false
		}
		r.i++
		m := make(map[string]any, 8) // one allocation for up to 8 keys, most objects
		if r.peek() == '}' {
			r.i++
			r.depth--
			return m, true
		}
		for {
			if r.peek() != '"' {
				return nil, false
			}
			k, ok := r.str()
			if !ok || r.peek() != ':' {
				return nil, false
			}
			r.i++
			v, ok := r.value()
			if !ok {
				return nil, false
			}
			m[k] = v
			switch r.peek() {
			case ',':
				r.i++
			case '}':
				r.i++
				r.depth--
				return m, true
			default:
				return nil, false
			}
		}
	case '[':
		if r.depth++; r.depth > maxFastDepth {
			return nil, false
		}
		r.i++
		a := make([]any, 0, 4)
		if r.peek() == ']' {
			r.i++
			r.depth--
			return a, true
		}
		for {
			v, ok := r.value()
			if !ok {
				return nil, false
			}
			a = append(a, v)
			switch r.peek() {
			case ',':
				r.i++
			case ']':
				r.i++
				r.depth--
				return a, true
			default:
				return nil, false
			}
		}
	case '"':
		if end := r.plainStrEnd(); end > 0 {
			if v, ok := internedValues[string(r.b[r.i+1:end])]; ok {
				r.i = end + 1
				return v, true
			}
		}
		return r.str()
	case 't':
		return true, r.literal("true")
	case 'f':
		return false, r.literal("false")
	case 'n':
		return nil, r.literal("null")
	default:
		num, ok := r.number()
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return nil, false
		}
		return f, true
	}
}

// decodedAck is an ack frame read in one pass.
type decodedAck struct {
	// envelopeID aliases the frame: it must not outlive it.
	envelopeID string
	// payload is the payload value as sent (nil when absent); it aliases the frame.
	payload []byte
	// msg is the payload read as a message, with blocks decoded, when it is an object, a
	// string, null or absent; nil otherwise (the caller then decodes payload itself).
	msg *decodedMessage
}

// decodedMessage is what parseMessagePayload and json.Unmarshal of the blocks would give.
type decodedMessage struct {
	ackMessage     // Blocks aliases the frame
	blocks     any // the decoded blocks, when Blocks is set and not scanned
	// scanned says scanBlocks found the blocks valid; stored is then what checkMessageTree
	// stores for them.
	scanned bool
	stored  []byte
}

// ackFields are ackMessage's JSON names: a key that matches one only case-insensitively
// would be honoured by encoding/json, so the fast path leaves such payloads to it.
var ackFields = []string{"text", "blocks", "attachments", "response_type", "replace_original", "delete_original", "thread_ts"}

// decodeAckFast reads an ack frame as handleFrame's json.Unmarshal into
// {envelope_id string; payload json.RawMessage} does, plus the payload as a message. ok is
// false when the frame must go the encoding/json way (including every invalid frame).
func decodeAckFast(data []byte) (decodedAck, bool) {
	m := new(decodedMessage)
	a, isMsg, ok := decodeAck(data, m)
	if isMsg {
		a.msg = m
	}
	return a, ok
}

// decodeAck is decodeAckFast reading the message into m, which must be zero, and leaving
// a.msg nil: isMsg says whether m is the payload's message. handleFrame's m is on its stack,
// one allocation fewer for every ack; a pointer to it in a would make it escape.
func decodeAck(data []byte, m *decodedMessage) (a decodedAck, isMsg, ok bool) {
	// The frame read in place, not copied: copying it was a quarter of this function's CPU.
	// Its bytes are not changed while it is read, and readMessage copies whatever of it is
	// kept; the buffer is reused only after the ack has been handled.
	r := jsonReader[string]{b: unsafe.String(unsafe.SliceData(data), len(data))}
	if r.peek() != '{' {
		return a, false, false
	}
	r.i++
	r.depth = 1
	if r.peek() == '}' {
		r.i++
		return a, isMsg || a.payload == nil, r.end()
	}
	for {
		if r.peek() != '"' {
			return a, false, false
		}
		k, ok := r.str()
		if !ok || r.peek() != ':' {
			return a, false, false
		}
		r.i++
		switch k {
		case "envelope_id":
			if r.peek() != '"' {
				return a, false, false
			}
			if a.envelopeID, ok = r.str(); !ok {
				return a, false, false
			}
		case "payload":
			r.peek()
			start := r.i
			*m = decodedMessage{} // a second payload key: the last one counts
			if isMsg, ok = readMessage(&r, data, true, m); !ok {
				return a, false, false
			}
			// Exactly the value's bytes, as json.RawMessage gets them.
			a.payload = data[start:r.i]
		default:
			if strings.EqualFold(k, "envelope_id") || strings.EqualFold(k, "payload") {
				return a, false, false
			}
			if !r.skip() {
				return a, false, false
			}
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return a, isMsg || a.payload == nil, r.end()
		default:
			return a, false, false
		}
	}
}

// decodeMessageFast reads a response_url body as parseMessagePayload does, with the blocks
// decoded. ok is false when the body must go the encoding/json way.
func decodeMessageFast(body []byte) (*decodedMessage, bool) {
	if len(body) == 0 || body[0] == ' ' || body[0] == '\t' || body[0] == '\n' || body[0] == '\r' {
		// parseMessagePayload only reads a bare string when it comes first.
		return nil, false
	}
	r := jsonReader[string]{b: string(body)}
	m := new(decodedMessage)
	isMsg, ok := readMessage(&r, body, false, m)
	if !ok || !isMsg || !r.end() {
		return nil, false
	}
	return m, true
}

// readMessage reads the payload value from r, which reads raw as a string, into m (zero). A
// payload that is not an object, string or null is only validated (isMsg false):
// parseMessagePayload refuses it, and ackSubmit reads it itself. The message's strings are
// copies and its raw parts slices of raw; the decoded blocks share r's string unless
// borrowed says that string is raw's memory, which its owner will reuse.
func readMessage(r *jsonReader[string], raw []byte, borrowed bool, m *decodedMessage) (isMsg, ok bool) {
	switch r.peek() {
	case 'n':
		return true, r.literal("null")
	case '"':
		s, ok := r.str()
		m.Text = strings.Clone(s)
		return true, ok
	case '{':
	default:
		return false, r.skip()
	}
	r.i++
	r.depth++
	if r.peek() == '}' {
		r.i++
		r.depth--
		return true, true
	}
	for {
		if r.peek() != '"' {
			return false, false
		}
		k, ok := r.str()
		if !ok || r.peek() != ':' {
			return false, false
		}
		r.i++
		c := r.peek()
		switch k {
		case "text", "response_type", "thread_ts":
			var s string
			switch c {
			case 'n':
				ok = r.literal("null")
			case '"':
				s, ok = r.str()
			default:
				return false, false
			}
			if !ok {
				return false, false
			}
			if c == '"' {
				switch k {
				case "text":
					m.Text = strings.Clone(s) // kept with the message; r's string is not
				case "response_type":
					m.ResponseType = responseType(s)
				default:
					m.ThreadTS = strings.Clone(s)
				}
			}
		case "replace_original", "delete_original":
			var v bool
			switch c {
			case 'n':
				ok = r.literal("null")
			case 't':
				v, ok = true, r.literal("true")
			case 'f':
				ok = r.literal("false")
			default:
				return false, false
			}
			if !ok {
				return false, false
			}
			if c != 'n' {
				if k == "replace_original" {
					m.ReplaceOriginal = v
				} else {
					m.DeleteOriginal = v
				}
			}
		case "blocks":
			start := r.i
			m.scanned, m.stored, m.blocks = false, nil, nil
			if c == '[' {
				m.stored, m.scanned = scanBlocks(r)
			}
			if !m.scanned {
				vr := r
				if borrowed {
					// Read from a copy, so that no string of the tree, wherever it ends up,
					// changes when the frame's buffer is reused. Rare: bots mostly send
					// blocks scanBlocks takes.
					vr = &jsonReader[string]{b: strings.Clone(r.b[start:]), depth: r.depth}
				}
				if m.blocks, ok = vr.value(); !ok {
					return false, false
				}
				if borrowed {
					r.i = start + vr.i
				}
			}
			if c == 'n' {
				m.Blocks = nil
			} else {
				m.Blocks = raw[start:r.i]
			}
		case "attachments":
			start := r.i
			if !r.skip() {
				return false, false
			}
			if c == 'n' {
				m.Attachments = nil
			} else {
				m.Attachments = raw[start:r.i]
			}
		default:
			for _, f := range ackFields {
				if strings.EqualFold(k, f) {
					return false, false
				}
			}
			if !r.skip() {
				return false, false
			}
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			return true, true
		default:
			return false, false
		}
	}
}

// responseType is s kept: the two response types Slack knows are shared, not copied.
func responseType(s string) string {
	switch s {
	case "ephemeral":
		return "ephemeral"
	case "in_channel":
		return "in_channel"
	}
	return strings.Clone(s)
}

// appendJSON appends v as json.Marshal would encode it, for the values json.Unmarshal puts in
// an any (plus the strings the checker adds). ok is false for anything else.
func appendJSON(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendJSONString(b, v), true
	case bool:
		return strconv.AppendBool(b, v), true
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return b, false
		}
		format := byte('f')
		if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			format = 'e'
		}
		b = strconv.AppendFloat(b, v, format, -1, 64)
		if format == 'e' {
			// e-09 becomes e-9, as encoding/json writes it
			if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
				b[n-2] = b[n-1]
				b = b[:n-1]
			}
		}
		return b, true
	case []any:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSON(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		if v == nil {
			return append(b, "null"...), true
		}
		var buf [16]string
		keys := buf[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSON(b, v[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

// marshalTree is json.Marshal for decoded JSON, fast when appendJSON can do it.
func marshalTree(v any, sizeHint int) ([]byte, error) {
	if b, ok := appendJSON(make([]byte, 0, sizeHint), v); ok {
		return b, nil
	}
	return json.Marshal(v)
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes json.Marshal writes as they are (HTML escaping on).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted exactly as json.Marshal quotes strings: HTML-escaped,
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by \ufffd.
func appendJSONString(b []byte, s string) []byte {
	return append(appendJSONChars(append(b, '"'), s), '"')
}

// appendJSONChars is appendJSONString without the quotes.
func appendJSONChars(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		ru, size := utf8.DecodeRuneInString(s[i:])
		if ru == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if ru == '\u2028' || ru == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[ru&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
