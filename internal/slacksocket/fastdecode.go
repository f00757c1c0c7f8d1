package slacksocket

import (
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeSlashFast decodes b when it is a slash_commands envelope of the usual shape, giving the
// Request decode would give, in a fraction of the time: one pass over b, no reflection, and every
// string sliced out of a single copy of b (the Request must not alias b, which the caller reuses).
//
// ok is false whenever anything is unusual, and the caller then decodes b with encoding/json,
// which knows what to make of it: not a JSON object, a type other than "slash_commands", a known
// field holding an unexpected JSON type, a duplicate key, a key that encoding/json would match to
// a field only case-insensitively (or that is escaped or not ASCII, so might), invalid UTF-8
// (which encoding/json replaces rather than rejects), values nested deeper than maxSkipDepth, and
// invalid JSON anywhere in b. So a true ok never disagrees with encoding/json; a false one costs
// only time.
func decodeSlashFast(b []byte) (*Request, bool) {
	d := fastDecoder{s: string(b)}
	req := new(Request)
	d.space()
	if !d.envelope(req) {
		return nil, false
	}
	d.space()
	if d.i != len(d.s) || req.Type != TypeSlashCommands {
		return nil, false
	}
	return req, true
}

// maxSkipDepth bounds the nesting of unknown values skipped (encoding/json allows 10,000);
// Slack's slash command envelopes nest nothing in them.
const maxSkipDepth = 32

// fastDecoder reads JSON from s; i is the next byte to read.
type fastDecoder struct {
	s string
	i int
}

// Bits of the envelope's fields, to notice duplicates.
const (
	seenEnvelopeID = 1 << iota
	seenType
	seenPayload
	seenAcceptsResponsePayload
	seenRetryAttempt
	seenRetryReason
	seenReason
)

// envelopeKeys are frame's JSON keys.
var envelopeKeys = []string{
	"envelope_id", "type", "payload", "accepts_response_payload", "retry_attempt", "retry_reason", "reason",
}

// envelope reads the envelope object into req.
func (d *fastDecoder) envelope(req *Request) bool {
	if !d.consume('{') {
		return false
	}
	return d.members(func(key string) (bit uint, ok bool) {
		switch key {
		case "envelope_id":
			return seenEnvelopeID, d.stringOrNull(&req.EnvelopeID)
		case "type":
			return seenType, d.stringOrNull(&req.Type)
		case "payload":
			return seenPayload, d.payload(req)
		case "accepts_response_payload":
			return seenAcceptsResponsePayload, d.boolOrNull(&req.AcceptsResponsePayload)
		case "retry_attempt":
			return seenRetryAttempt, d.intOrNull(&req.RetryAttempt)
		case "retry_reason":
			return seenRetryReason, d.stringOrNull(&req.RetryReason)
		case "reason":
			// decode does not keep a slash command's reason (only a disconnect has one), so
			// neither does this: read it to check its type, and drop it.
			var reason string
			return seenReason, d.stringOrNull(&reason)
		}
		return 0, d.unknown(key, envelopeKeys)
	})
}

// members reads an object's members after its '{', up to and including its '}': field reads the
// value of each key and returns the key's bit (0 for a key it skipped), so that a key seen twice
// fails the object, as a duplicate must (encoding/json would keep the last value).
func (d *fastDecoder) members(field func(key string) (bit uint, ok bool)) bool {
	var seen uint
	for first := true; ; first = false {
		key, done, ok := d.nextKey(first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		bit, ok := field(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}

// slashKeys are slashPayload's JSON keys.
var slashKeys = []string{
	"token", "team_id", "team_domain", "enterprise_id", "enterprise_name", "channel_id", "channel_name",
	"user_id", "user_name", "command", "text", "response_url", "trigger_id", "api_app_id",
}

// payload reads the payload, an object (or null, which encoding/json leaves as nothing), into
// req.Slash.
func (d *fastDecoder) payload(req *Request) bool {
	if d.literal("null") {
		return true
	}
	if !d.consume('{') {
		return false
	}
	sc := &req.Slash
	return d.members(func(key string) (uint, bool) {
		var dst *string
		var bit uint
		switch key {
		case "token":
			dst, bit = &sc.Token, 1<<0
		case "team_id":
			dst, bit = &sc.TeamID, 1<<1
		case "team_domain":
			dst, bit = &sc.TeamDomain, 1<<2
		case "enterprise_id":
			dst, bit = &sc.EnterpriseID, 1<<3
		case "enterprise_name":
			dst, bit = &sc.EnterpriseName, 1<<4
		case "channel_id":
			dst, bit = &sc.ChannelID, 1<<5
		case "channel_name":
			dst, bit = &sc.ChannelName, 1<<6
		case "user_id":
			dst, bit = &sc.UserID, 1<<7
		case "user_name":
			dst, bit = &sc.UserName, 1<<8
		case "command":
			dst, bit = &sc.Command, 1<<9
		case "text":
			dst, bit = &sc.Text, 1<<10
		case "response_url":
			dst, bit = &sc.ResponseURL, 1<<11
		case "trigger_id":
			dst, bit = &sc.TriggerID, 1<<12
		case "api_app_id":
			dst, bit = &sc.APIAppID, 1<<13
		}
		if dst == nil {
			// Such as is_enterprise_install, which slashPayload leaves out.
			return 0, d.unknown(key, slashKeys)
		}
		return bit, d.stringOrNull(dst)
	})
}

// unknown skips the value of a key that is none of known. encoding/json would match a key to a
// field case-insensitively (folding some non-ASCII letters to ASCII ones, and after unescaping):
// such keys are refused rather than matched, as they never occur in what Slack sends.
func (d *fastDecoder) unknown(key string, known []string) bool {
	for _, k := range known {
		// Keys are ASCII, so of the same length when equal but for case.
		if len(key) == len(k) && strings.EqualFold(key, k) {
			return false
		}
	}
	return d.skip(0)
}

// nextKey reads up to and including the colon after the object's next key; done reports the end
// of the object instead (its '}' read). first is whether this is the object's first key.
func (d *fastDecoder) nextKey(first bool) (key string, done, ok bool) {
	d.space()
	switch d.peek() {
	case '}':
		d.i++
		return "", true, true
	case ',':
		if first {
			return "", false, false
		}
		d.i++
		d.space()
	default:
		if !first {
			return "", false, false
		}
	}
	key, ok = d.key()
	if !ok {
		return "", false, false
	}
	d.space()
	if !d.consume(':') {
		return "", false, false
	}
	d.space()
	return key, false, true
}

// key reads an object key. It refuses keys with escapes, control characters or bytes outside
// ASCII, so that the key read is the one encoding/json matches fields with, and compares as
// ASCII.
func (d *fastDecoder) key() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start, j := d.i, plainEnd(d.s, d.i)
	if j == len(d.s) || d.s[j] != '"' {
		return "", false
	}
	d.i = j + 1
	return d.s[start:j], true
}

// stringOrNull reads a string into dst, or null, which encoding/json reads as leaving dst as it
// is.
func (d *fastDecoder) stringOrNull(dst *string) bool {
	if d.literal("null") {
		return true
	}
	s, ok := d.str()
	if ok {
		*dst = s
	}
	return ok
}

// boolOrNull reads true or false into dst, or null.
func (d *fastDecoder) boolOrNull(dst *bool) bool {
	switch {
	case d.literal("true"):
		*dst = true
	case d.literal("false"):
		*dst = false
	case d.literal("null"):
	default:
		return false
	}
	return true
}

// intOrNull reads a number into dst, or null. Like encoding/json it takes only numbers written
// as integers (no fraction or exponent) that fit in an int.
func (d *fastDecoder) intOrNull(dst *int) bool {
	if d.literal("null") {
		return true
	}
	num, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(num, 10, strconv.IntSize)
	if err != nil {
		return false
	}
	*dst = int(n)
	return true
}

// str reads a string. One without escapes is a substring of d.s, so costs no allocation; one
// with escapes is left to unescape.
func (d *fastDecoder) str() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	for j := plainEnd(d.s, start); j < len(d.s); j = plainEnd(d.s, j) {
		switch c := d.s[j]; {
		case c == '"':
			d.i = j + 1
			return d.s[start:j], true
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return "", false // invalid JSON
		default: // from 0x80 on
			r, n := utf8.DecodeRuneInString(d.s[j:])
			if r == utf8.RuneError && n == 1 {
				return "", false // encoding/json would replace it; let it
			}
			j += n
		}
	}
	return "", false // unterminated
}

// plain[c] is whether byte c stands for itself in a JSON string, with nothing to check: it is
// ASCII from the space on, but a quote or a backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainEnd is the index of the first byte of s from j on that is not plain.
func plainEnd(s string, j int) int {
	// Eight bytes at a time: a byte at a time was most of the decoder's work. Strings are
	// followed by more JSON, so a string's end is nearly always found in this loop.
	for ; j+8 <= len(s); j += 8 {
		b := s[j : j+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if m := notPlain(w); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for j < len(s) && plain[s[j]] {
		j++
	}
	return j
}

// notPlain sets the high bit of the first byte of w (in little-endian order) that is not plain,
// and perhaps of bytes after it, and of no byte before it: it is 0 if all of w is plain. It uses
// the word tricks "has a zero byte" and "has a byte less than n" (Bit Twiddling Hacks), whose
// only false positives are bytes after a true one, because they come from a borrow out of it.
func notPlain(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	control := (w - 0x20*ones) &^ w // bytes below 0x20
	quote := w ^ '"'*ones           // a zero byte where w has a quote
	backslash := w ^ '\\'*ones      // a zero byte where w has a backslash
	// w itself flags the bytes from 0x80 on.
	return (w | control | (quote-ones)&^quote | (backslash-ones)&^backslash) & highs
}

// unescape reads the rest of the string begun at start (after its quote), which has escapes.
// It decodes them as encoding/json does, down to turning a \u escape of a surrogate that is not
// the first of a valid pair into U+FFFD.
func (d *fastDecoder) unescape(start int) (string, bool) {
	s := d.s
	buf := make([]byte, 0, 64)
	for j := start; j < len(s); {
		c := s[j]
		switch {
		case c == '"':
			d.i = j + 1
			return string(buf), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if j+1 >= len(s) {
				return "", false
			}
			switch e := s[j+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := u4(s[j:])
				if r < 0 {
					return "", false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					if pair := utf16.DecodeRune(r, u4(s[j:])); pair != unicode.ReplacementChar {
						r = pair
						j += 6
					} else {
						r = unicode.ReplacementChar
					}
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				return "", false
			}
			j += 2
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			j++
		default:
			r, n := utf8.DecodeRuneInString(s[j:])
			if r == utf8.RuneError && n == 1 {
				return "", false
			}
			buf = append(buf, s[j:j+n]...)
			j += n
		}
	}
	return "", false
}

// u4 is the rune of the \uXXXX escape s begins with, or -1 if it begins with none.
func u4(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a JSON number and returns its text.
func (d *fastDecoder) number() (string, bool) {
	s, i := d.s, d.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return "", false
		}
		i = digits(s, i)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return "", false
		}
		i = digits(s, i)
	}
	num := s[d.i:i]
	d.i = i
	return num, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits is the index of the first byte from i on that is not a digit.
func digits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// skip reads any JSON value, checking it is valid, and drops it. depth is how deep in skipped
// values it is.
func (d *fastDecoder) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	switch d.peek() {
	case '"':
		_, ok := d.str()
		return ok
	case '{':
		d.i++
		for first := true; ; first = false {
			_, done, ok := d.nextKey(first)
			if !ok {
				return false
			}
			if done {
				return true
			}
			if !d.skip(depth + 1) {
				return false
			}
		}
	case '[':
		d.i++
		d.space()
		if d.consume(']') {
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			d.space()
			if d.consume(']') {
				return true
			}
			if !d.consume(',') {
				return false
			}
			d.space()
		}
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, ok := d.number()
		return ok
	}
}

// literal reads lit if it comes next. What follows it is checked by whoever reads on, as for
// every value.
func (d *fastDecoder) literal(lit string) bool {
	if strings.HasPrefix(d.s[d.i:], lit) {
		d.i += len(lit)
		return true
	}
	return false
}

// consume reads c if it comes next.
func (d *fastDecoder) consume(c byte) bool {
	if d.peek() == c {
		d.i++
		return true
	}
	return false
}

// peek is the next byte, or 0 at the end (0 is never valid outside a string).
func (d *fastDecoder) peek() byte {
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// space skips JSON white space.
func (d *fastDecoder) space() {
	for d.i < len(d.s) && isSpace(d.s[d.i]) {
		d.i++
	}
}

// isSpace is whether c is JSON white space. Slack sends none, so c <= ' ' is the test that
// counts, and comes first.
func isSpace(c byte) bool {
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r')
}
