package slackemu

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"unicode/utf8"
)

// Decoding an ack's blocks into maps, checking the maps and encoding them again to store the
// message was most of the emulator's CPU in a load test, and most of its garbage. scanBlocks
// does all three in one pass over the JSON for the blocks bots usually send: section, header,
// context, actions with buttons, divider, and the text objects in them. It accepts only
// blocks that pass checker's every rule, and stores exactly what checkMessageTree would
// (json.Marshal's bytes: keys sorted, strings re-escaped; ids Slack assigns filled in). For
// anything else, including every invalid input, it gives up and the blocks take the usual
// way, so errors and their messages come from checker alone.

// scanScratch is the memory a blockScan works in, kept between scans. Its arrays were
// locals once, but the scan appends to slices of them through a pointer, so they escaped:
// four allocations for every ack.
type scanScratch struct {
	out     []byte // the copy being built
	ids     [16]string
	made    [16][4]byte
	act     [8]string
	actMade [8][4]byte
}

var scanBufs = sync.Pool{New: func() any { return &scanScratch{out: make([]byte, 0, 4096)} }}

// scanMember is one member of an object being copied: its value is out[start:end].
type scanMember struct {
	key        string
	start, end int
}

// scanObject is an object being copied. Values are appended to the output as they are read;
// close then writes the object again in json.Marshal's key order, over where it began.
type scanObject struct {
	start int
	n     int
	m     [8]scanMember
}

func (o *scanObject) add(key string, start, end int) bool {
	if o.n == len(o.m) {
		return false
	}
	o.m[o.n] = scanMember{key, start, end}
	o.n++
	return true
}

// blockScan copies one blocks array.
type blockScan struct {
	r       jsonReader[string]
	out     []byte
	changed bool // an id was assigned
	ids     []string
	made    [][4]byte // block_ids assigned
	// action ids of the current block, sent and assigned
	actionIDs []string
	actMade   [][4]byte
}

// scanBlocks reads the blocks array at r (r.b[r.i] is '[') as a message's. When ok, the blocks
// pass checkMessageTree's checks, stored is what it would store for them (nil when there are
// none) and r has moved past them; otherwise r has not moved.
func scanBlocks(r *jsonReader[string]) (stored []byte, ok bool) {
	sc := scanBufs.Get().(*scanScratch)
	s := blockScan{r: *r, out: sc.out[:0], ids: sc.ids[:0], made: sc.made[:0], actionIDs: sc.act[:0], actMade: sc.actMade[:0]}
	start := r.i
	n, ok := s.blocks()
	switch {
	case !ok:
	case n == 0:
		r.i = s.r.i
	case !s.changed:
		// checkMessageTree keeps blocks it did not change as they were sent.
		stored = []byte(r.b[start:s.r.i])
		r.i = s.r.i
	default:
		stored = slices.Clone(s.out)
		r.i = s.r.i
	}
	// The ids are pieces of the input, which may be a frame's buffer: not kept alive here.
	clear(sc.ids[:])
	clear(sc.act[:])
	if cap(s.out) <= 64<<10 {
		sc.out = s.out
		scanBufs.Put(sc)
	}
	return stored, ok
}

func (s *blockScan) blocks() (int, bool) {
	r := &s.r
	if r.peek() != '[' {
		return 0, false
	}
	r.i++
	s.out = append(s.out, '[')
	n := 0
	if r.peek() == ']' {
		r.i++
		s.out = append(s.out, ']')
		return 0, true
	}
	for {
		if n > 0 {
			s.out = append(s.out, ',')
		}
		if !s.block() {
			return 0, false
		}
		if n++; n > maxMessageBlocks {
			return 0, false
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			s.out = append(s.out, ']')
			return n, true
		default:
			return 0, false
		}
	}
}

// nextKey reads the object's next key and its colon; end is true at its closing brace. Keys
// are read as plain strings: one with an escape is not a key scanBlocks knows.
func (s *blockScan) nextKey(first bool) (key string, end, ok bool) {
	r := &s.r
	c := r.peek()
	switch {
	case c == '}':
		r.i++
		return "", true, true
	case first:
	case c == ',':
		r.i++
		c = r.peek()
	default:
		return "", false, false
	}
	if c != '"' {
		return "", false, false
	}
	if key, ok = s.plain(); !ok || r.peek() != ':' {
		return "", false, false
	}
	r.i++
	return key, false, true
}

// plain reads a string with no escapes, as it is; ok is false for any other value.
func (s *blockScan) plain() (string, bool) {
	r := &s.r
	if r.peek() != '"' {
		return "", false
	}
	b := r.b
	ascii := true
	for i := r.i + 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			v := b[r.i+1 : i]
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			r.i = i + 1
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// str copies a string value as json.Marshal writes what jsonReader.str decodes, and counts
// its runes. ok is false where str gives up (invalid UTF-8, surrogate escapes). It is
// appendJSONChars fused with decoding, in one pass: most of an ack's bytes are in strings.
func (s *blockScan) str() (runes int, ok bool) {
	r := &s.r
	if r.peek() != '"' {
		return 0, false
	}
	b := r.b
	out := append(s.out, '"')
	start := r.i + 1 // of the bytes not yet copied
	for i := start; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf && jsonSafe[c] {
			i++
			runes++
			continue
		}
		if c >= utf8.RuneSelf {
			ru, size := utf8.DecodeRuneInString(b[i:])
			if ru == utf8.RuneError && size == 1 {
				return 0, false
			}
			runes++
			if ru != '\u2028' && ru != '\u2029' {
				i += size
				continue
			}
			out = appendJSONChars(append(out, b[start:i]...), b[i:i+size])
			i += size
			start = i
			continue
		}
		out = append(out, b[start:i]...)
		switch {
		case c == '"':
			s.out = append(out, '"')
			r.i = i + 1
			return runes, true
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			var ru rune
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				ru = rune(e)
			case 'b':
				ru = '\b'
			case 'f':
				ru = '\f'
			case 'n':
				ru = '\n'
			case 'r':
				ru = '\r'
			case 't':
				ru = '\t'
			case 'u':
				if i+6 > len(b) {
					return 0, false
				}
				for j := i + 2; j < i+6; j++ {
					v, ok := hexVal(b[j])
					if !ok {
						return 0, false
					}
					ru = ru<<4 | v
				}
				if ru >= 0xD800 && ru < 0xE000 {
					return 0, false
				}
				i += 4
			default:
				return 0, false
			}
			i += 2
			var enc [utf8.UTFMax]byte
			out = appendJSONChars(out, string(utf8.AppendRune(enc[:0], ru)))
		case c < 0x20:
			return 0, false
		default: // a byte appendJSONChars escapes
			out = appendJSONChars(out, b[i:i+1])
			i++
		}
		runes++
		start = i
	}
	return 0, false
}

// boolean copies true or false.
func (s *blockScan) boolean() bool {
	r := &s.r
	switch r.peek() {
	case 't':
		if r.literal("true") {
			s.out = append(s.out, "true"...)
			return true
		}
	case 'f':
		if r.literal("false") {
			s.out = append(s.out, "false"...)
			return true
		}
	}
	return false
}

// open starts copying the object at r.
func (s *blockScan) open(o *scanObject) bool {
	if s.r.peek() != '{' {
		return false
	}
	s.r.i++
	o.start = len(s.out)
	return true
}

// close writes o's members in key order where o began.
func (s *blockScan) close(o *scanObject) {
	m := o.m[:o.n]
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].key < m[j-1].key; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
	at := len(s.out)
	s.out = append(s.out, '{')
	for i, mb := range m {
		if i > 0 {
			s.out = append(s.out, ',')
		}
		s.out = appendJSONString(s.out, mb.key)
		s.out = append(s.out, ':')
		s.out = append(s.out, s.out[mb.start:mb.end]...)
	}
	s.out = append(s.out, '}')
	n := copy(s.out[o.start:], s.out[at:])
	s.out = s.out[:o.start+n]
}

// scanTypes are the block types scanBlocks copies.
var scanTypes = setOf("section", "header", "context", "actions", "divider")

func (s *blockScan) block() bool {
	var o scanObject
	if !s.open(&o) {
		return false
	}
	// Which keys a block may have depends on its type, so it must come first (as every
	// SDK writes it).
	if k, end, ok := s.nextKey(true); !ok || end || k != "type" {
		return false
	}
	vs := len(s.out)
	typ, ok := s.plain()
	if !ok || !scanTypes[typ] {
		return false
	}
	s.out = appendJSONString(s.out, typ)
	o.add("type", vs, len(s.out))
	s.actionIDs, s.actMade = s.actionIDs[:0], s.actMade[:0]
	var hasID, hasText, hasFields, hasElems bool
	for {
		k, end, ok := s.nextKey(false)
		if !ok {
			return false
		}
		if end {
			break
		}
		vs := len(s.out)
		switch {
		case k == "block_id" && !hasID:
			hasID = true
			id, ok := s.plain()
			if !ok || id == "" || runes(id) > maxBlockID || slices.Contains(s.ids, id) || assigned(s.made, id) {
				return false
			}
			s.ids = append(s.ids, id)
			s.out = appendJSONString(s.out, id)
		case k == "text" && !hasText && typ == "section":
			hasText = true
			if !s.text(maxSectionText, textAny) {
				return false
			}
		case k == "text" && !hasText && typ == "header":
			hasText = true
			if !s.text(maxHeaderText, textPlain) {
				return false
			}
		case k == "fields" && !hasFields && typ == "section":
			hasFields = true
			if !s.texts(0, maxFields, maxFieldText) {
				return false
			}
		case k == "elements" && !hasElems && typ == "context":
			hasElems = true
			if !s.texts(1, maxContextElems, maxSectionText) {
				return false
			}
		case k == "elements" && !hasElems && typ == "actions":
			hasElems = true
			if !s.buttons() {
				return false
			}
		default:
			return false
		}
		if !o.add(k, vs, len(s.out)) {
			return false
		}
	}
	switch typ {
	case "section":
		if !hasText && !hasFields {
			return false
		}
	case "header":
		if !hasText {
			return false
		}
	case "context", "actions":
		if !hasElems {
			return false
		}
	}
	if !hasID && !s.assignID(&o, "block_id", s.ids, &s.made) {
		return false
	}
	s.close(&o)
	return true
}

// assignID fills in the id Slack would assign under key, one not in sent or made, and records
// it in made.
func (s *blockScan) assignID(o *scanObject, key string, sent []string, made *[][4]byte) bool {
	vs := len(s.out)
	id := newID(sent, *made)
	*made = append(*made, id)
	s.out = append(append(append(s.out, '"'), id[:]...), '"')
	s.changed = true
	return o.add(key, vs, len(s.out))
}

// texts copies an array of minN to maxN text objects.
func (s *blockScan) texts(minN, maxN, maxLen int) bool {
	r := &s.r
	if r.peek() != '[' {
		return false
	}
	r.i++
	s.out = append(s.out, '[')
	n := 0
	if r.peek() == ']' {
		r.i++
		s.out = append(s.out, ']')
		return n >= minN
	}
	for {
		if n > 0 {
			s.out = append(s.out, ',')
		}
		if !s.text(maxLen, textAny) {
			return false
		}
		if n++; n > maxN {
			return false
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			s.out = append(s.out, ']')
			return n >= minN
		default:
			return false
		}
	}
}

// text copies a composition text object.
func (s *blockScan) text(maxLen int, plainOnly bool) bool {
	var o scanObject
	if !s.open(&o) {
		return false
	}
	var hasType, hasText, hasEmoji, hasVerbatim bool
	for first := true; ; first = false {
		k, end, ok := s.nextKey(first)
		if !ok {
			return false
		}
		if end {
			break
		}
		vs := len(s.out)
		switch {
		case k == "type" && !hasType:
			hasType = true
			t, ok := s.plain()
			if !ok || (t != "plain_text" && (t != "mrkdwn" || plainOnly)) {
				return false
			}
			s.out = appendJSONString(s.out, t)
		case k == "text" && !hasText:
			hasText = true
			if n, ok := s.str(); !ok || n == 0 || n > maxLen {
				return false
			}
		case k == "emoji" && !hasEmoji:
			hasEmoji = true
			if !s.boolean() {
				return false
			}
		case k == "verbatim" && !hasVerbatim:
			hasVerbatim = true
			if !s.boolean() {
				return false
			}
		default:
			return false
		}
		o.add(k, vs, len(s.out))
	}
	if !hasType || !hasText {
		return false
	}
	s.close(&o)
	return true
}

// buttons copies an actions block's elements, all buttons.
func (s *blockScan) buttons() bool {
	r := &s.r
	if r.peek() != '[' {
		return false
	}
	r.i++
	if r.peek() == ']' {
		return false // at least one element is required
	}
	s.out = append(s.out, '[')
	for n := 0; ; {
		if n > 0 {
			s.out = append(s.out, ',')
		}
		if !s.button() {
			return false
		}
		if n++; n > maxActionElements {
			return false
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			s.out = append(s.out, ']')
			return true
		default:
			return false
		}
	}
}

func (s *blockScan) button() bool {
	var o scanObject
	if !s.open(&o) {
		return false
	}
	if k, end, ok := s.nextKey(true); !ok || end || k != "type" {
		return false
	}
	vs := len(s.out)
	if t, ok := s.plain(); !ok || t != "button" {
		return false
	}
	s.out = append(s.out, `"button"`...)
	o.add("type", vs, len(s.out))
	var hasText, hasID, hasValue, hasURL, hasStyle, hasLabel bool
	for {
		k, end, ok := s.nextKey(false)
		if !ok {
			return false
		}
		if end {
			break
		}
		vs := len(s.out)
		switch {
		case k == "text" && !hasText:
			hasText = true
			if !s.text(maxButtonText, textPlain) {
				return false
			}
		case k == "action_id" && !hasID:
			hasID = true
			id, ok := s.plain()
			if !ok || id == "" || runes(id) > maxActionID || slices.Contains(s.actionIDs, id) || assigned(s.actMade, id) {
				return false
			}
			s.actionIDs = append(s.actionIDs, id)
			s.out = appendJSONString(s.out, id)
		case k == "value" && !hasValue:
			hasValue = true
			if n, ok := s.str(); !ok || n > maxButtonValue {
				return false
			}
		case k == "url" && !hasURL:
			hasURL = true
			if n, ok := s.str(); !ok || n > maxURL {
				return false
			}
		case k == "accessibility_label" && !hasLabel:
			hasLabel = true
			if n, ok := s.str(); !ok || n > maxButtonText {
				return false
			}
		case k == "style" && !hasStyle:
			hasStyle = true
			st, ok := s.plain()
			if !ok || (st != "primary" && st != "danger") {
				return false
			}
			s.out = appendJSONString(s.out, st)
		default:
			return false
		}
		if !o.add(k, vs, len(s.out)) {
			return false
		}
	}
	if !hasText {
		return false
	}
	if !hasID && !s.assignID(&o, "action_id", s.actionIDs, &s.actMade) {
		return false
	}
	s.close(&o)
	return true
}

// newID is freshID for ids that are sent, in sent, or assigned, in made. Unlike checker,
// scanBlocks assigns an id before it has seen every id sent; a later one equal to it makes
// it give up (see assigned).
func newID(sent []string, made [][4]byte) [4]byte {
	for {
		var id [4]byte
		for i := range id {
			id[i] = idAlphabet[rand.IntN(len(idAlphabet))]
		}
		if !slices.Contains(sent, string(id[:])) && !assigned(made, string(id[:])) {
			return id
		}
	}
}

func assigned(made [][4]byte, id string) bool {
	if len(id) != 4 {
		return false
	}
	for _, m := range made {
		if string(m[:]) == id {
			return true
		}
	}
	return false
}

// checkDecoded is checkMessageTree for a message decoded by readMessage.
func (s *Server) checkDecoded(m *decodedMessage) (json.RawMessage, string, []string) {
	if !m.scanned {
		return s.checkMessageTree(m.Text, m.Blocks, m.blocks, true, m.Attachments != nil)
	}
	if runes(m.Text) > maxMessageText {
		return nil, "msg_too_long", nil
	}
	if m.stored == nil && m.Text == "" && m.Attachments == nil {
		return nil, "no_text", nil
	}
	return m.stored, "", nil
}
