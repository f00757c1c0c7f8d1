package slackemu

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// checkStoredAgrees fails t when stored, what scanBlocks made of blocks, is not what
// checkMessageTree stores for them: the same bytes, but for the ids each assigns at random,
// which must be ids Slack could have assigned.
func checkStoredAgrees(t *testing.T, blocks, stored []byte) {
	t.Helper()
	var list []any
	if err := json.Unmarshal(blocks, &list); err != nil {
		t.Fatalf("scanBlocks accepted %s, encoding/json says %v", blocks, err)
	}
	// Where checker will assign ids: block i's block_id (j -1) or its element j's action_id.
	type at struct{ i, j int }
	var assigned []at
	for i, b := range list {
		m, _ := b.(map[string]any)
		if _, ok := m["block_id"]; !ok {
			assigned = append(assigned, at{i, -1})
		}
		if m["type"] != "actions" {
			continue
		}
		els, _ := m["elements"].([]any)
		for j, e := range els {
			if em, _ := e.(map[string]any); em != nil && em["action_id"] == nil {
				assigned = append(assigned, at{i, j})
			}
		}
	}
	c := checker{surf: surfMessage}
	c.blocks(list, "/blocks")
	if len(c.errs) > 0 {
		t.Fatalf("scanBlocks accepted %s, checker says %q", blocks, c.errs)
	}
	switch {
	case len(list) == 0:
		if stored != nil {
			t.Fatalf("%s: scanBlocks stored %s, checkMessageTree nothing", blocks, stored)
		}
		return
	case !c.changed:
		if !bytes.Equal(stored, blocks) {
			t.Fatalf("%s: scanBlocks stored %s, checkMessageTree the blocks as sent", blocks, stored)
		}
		return
	}
	var got []any
	if err := json.Unmarshal(stored, &got); err != nil || len(got) != len(list) {
		t.Fatalf("%s: scanBlocks stored %s (%v)", blocks, stored, err)
	}
	idOf := func(l []any, p at) (map[string]any, string) {
		m := l[p.i].(map[string]any)
		if p.j < 0 {
			return m, "block_id"
		}
		return m["elements"].([]any)[p.j].(map[string]any), "action_id"
	}
	for _, p := range assigned {
		gm, key := idOf(got, p)
		id, _ := gm[key].(string)
		if len(id) != 4 || strings.Trim(id, idAlphabet) != "" {
			t.Fatalf("%s: scanBlocks assigned %s %q", blocks, key, id)
		}
		wm, _ := idOf(list, p)
		wm[key] = id
	}
	// Assigned ids must still be unique where checker requires it.
	blockIDs := map[any]bool{}
	for _, b := range list {
		m := b.(map[string]any)
		if blockIDs[m["block_id"]] {
			t.Fatalf("%s: scanBlocks stored %s, block_id %q twice", blocks, stored, m["block_id"])
		}
		blockIDs[m["block_id"]] = true
		els, _ := m["elements"].([]any)
		actionIDs := map[any]bool{}
		for _, e := range els {
			if em, _ := e.(map[string]any); em != nil && em["action_id"] != nil {
				if actionIDs[em["action_id"]] {
					t.Fatalf("%s: scanBlocks stored %s, action_id %q twice in a block", blocks, stored, em["action_id"])
				}
				actionIDs[em["action_id"]] = true
			}
		}
	}
	want, err := json.Marshal(list)
	if err != nil || !bytes.Equal(stored, want) {
		t.Fatalf("%s: scanBlocks stored\n%s\ncheckMessageTree (same ids)\n%s (%v)", blocks, stored, want, err)
	}
}

// scanAgrees runs scanBlocks on blocks and checks what it stored; it reports whether
// scanBlocks took them.
func scanAgrees(t *testing.T, blocks string) bool {
	t.Helper()
	r := jsonReader[string]{b: blocks}
	if r.peek() != '[' {
		return false
	}
	start := r.i
	stored, ok := scanBlocks(&r)
	if !ok {
		if r.i != start {
			t.Fatalf("%s: scanBlocks gave up but moved the reader", blocks)
		}
		return false
	}
	if !r.end() {
		return false // only a prefix is blocks; they were checked like any other
	}
	checkStoredAgrees(t, []byte(blocks[start:r.i]), stored)
	return true
}

func sectionJSON(text string) string {
	return `{"type":"section","text":{"type":"mrkdwn","text":` + text + `}}`
}

func buttonJSON(extra string) string {
	return `{"type":"button","text":{"type":"plain_text","text":"Go","emoji":true}` + extra + `}`
}

// scanCases are blocks, and whether scanBlocks must take them. Those it must not are invalid
// (checker reports them, and only checker may) or of kinds it leaves to checker.
var scanCases = []struct {
	blocks string
	scan   bool
}{
	{`[]`, true},
	{` [ ] `, true},
	{`[` + sectionJSON(`"hi"`) + `]`, true},
	{`[ {"type" : "section", "text" : {"text":"hi", "type":"plain_text", "verbatim":false} } ]`, true},
	{`[` + sectionJSON(`"a\u003cb\u0026c\u003e \"q\" \\ \/ \b\f\n\r\t \u00e9 é \u2028 `+"\u2029"+` <>&"`) + `]`, true},
	{`[` + sectionJSON(`"`+strings.Repeat("é", maxSectionText)+`"`) + `]`, true},
	{`[` + sectionJSON(`"`+strings.Repeat("é", maxSectionText+1)+`"`) + `]`, false},
	{`[` + sectionJSON(`"`+strings.Repeat(`\n`, maxSectionText+1)+`"`) + `]`, false},
	{`[` + sectionJSON(`""`) + `]`, false},
	{`[` + sectionJSON(`"\ud83d\ude00"`) + `]`, false},
	{`[` + sectionJSON(`"bad \x"`) + `]`, false},
	{`[` + sectionJSON(`"bad \u12"`) + `]`, false},
	{"[" + sectionJSON("\"\xff\"") + "]", false},
	{"[" + sectionJSON("\"\x01\"") + "]", false},
	{`[` + sectionJSON(`1`) + `]`, false},
	{`[` + sectionJSON(`null`) + `]`, false},
	{`[{"type":"section","text":{"type":"mrkdwn","text":"x"},"block_id":"b1"}]`, true},
	{`[{"type":"section","block_id":"b1","text":{"type":"mrkdwn","text":"x"}},{"type":"divider","block_id":"b1"}]`, false},
	{`[{"type":"section","block_id":"","text":{"type":"mrkdwn","text":"x"}}]`, false},
	{`[{"type":"section","block_id":"` + strings.Repeat("b", maxBlockID) + `","text":{"type":"mrkdwn","text":"x"}}]`, true},
	{`[{"type":"section","block_id":"` + strings.Repeat("b", maxBlockID+1) + `","text":{"type":"mrkdwn","text":"x"}}]`, false},
	{`[{"type":"section","block_id":1,"text":{"type":"mrkdwn","text":"x"}}]`, false},
	{`[{"type":"section","block_id":"a","block_id":"b","text":{"type":"mrkdwn","text":"x"}}]`, false},
	{`[{"type":"section","text":{"type":"mrkdwn","text":"x"},"text":{"type":"mrkdwn","text":"y"}}]`, false},
	{`[{"type":"section"}]`, false},
	{`[{"type":"section","fields":[]}]`, true},
	{`[{"type":"section","fields":[{"type":"mrkdwn","text":"a"},{"type":"plain_text","text":"b"}]}]`, true},
	{`[{"type":"section","fields":[` + strings.Repeat(`{"type":"mrkdwn","text":"a"},`, maxFields-1) + `{"type":"mrkdwn","text":"a"}]}]`, true},
	{`[{"type":"section","fields":[` + strings.Repeat(`{"type":"mrkdwn","text":"a"},`, maxFields) + `{"type":"mrkdwn","text":"a"}]}]`, false},
	{`[{"type":"section","fields":[{"type":"mrkdwn","text":"` + strings.Repeat("a", maxFieldText+1) + `"}]}]`, false},
	{`[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":` + buttonJSON("") + `}]`, false},
	{`[{"type":"section","text":{"type":"mrkdwn","text":"x"},"unknown":1}]`, false},
	{`[{"text":{"type":"mrkdwn","text":"x"},"type":"section"}]`, false},
	{`[{"type":"header","text":{"type":"plain_text","text":"Title","emoji":true}}]`, true},
	{`[{"type":"header","text":{"type":"mrkdwn","text":"Title"}}]`, false},
	{`[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("a", maxHeaderText+1) + `"}}]`, false},
	{`[{"type":"header"}]`, false},
	{`[{"type":"header","fields":[]}]`, false},
	{`[{"type":"context","elements":[{"type":"mrkdwn","text":"a"},{"text":"b","type":"plain_text"}]}]`, true},
	{`[{"type":"context","elements":[]}]`, false},
	{`[{"type":"context"}]`, false},
	{`[{"type":"context","elements":[` + strings.Repeat(`{"type":"mrkdwn","text":"a"},`, maxContextElems) + `{"type":"mrkdwn","text":"a"}]}]`, false},
	{`[{"type":"context","elements":[{"type":"image","image_url":"http://x/y.png","alt_text":"y"}]}]`, false},
	{`[{"type":"context","elements":[{"type":"button","text":"b"}]}]`, false},
	{`[{"type":"context","elements":[{"type":"mrkdwn"}]}]`, false},
	{`[{"type":"context","elements":[{"type":"mrkdwn","text":"a","emoji":"yes"}]}]`, false},
	{`[{"type":"divider"},{"type":"divider","block_id":"d"}]`, true},
	{`[ {"type":"divider", "block_id":"d"}, {"type":"header","block_id":"h","text":{"text":"\u00e9", "type":"plain_text"}} ]`, true},
	{`[{"type":"divider","text":{"type":"mrkdwn","text":"x"}}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"action_id":"go","value":"v \u003c","style":"primary"`) + `,` + buttonJSON(`,"url":"https://x.test/?a=1&b=2","accessibility_label":"L"`) + `]}]`, true},
	{`[{"type":"actions","block_id":"acts","elements":[` + buttonJSON(`,"action_id":"a"`) + `,` + buttonJSON(`,"action_id":"b","style":"danger"`) + `]}]`, true},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"action_id":"a"`) + `,` + buttonJSON(`,"action_id":"a"`) + `]},{"type":"divider"}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"action_id":"a"`) + `]},{"type":"actions","elements":[` + buttonJSON(`,"action_id":"a"`) + `]}]`, true},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"action_id":""`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"action_id":"`+strings.Repeat("a", maxActionID+1)+`"`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"style":"ok"`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"style":""`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"value":"`+strings.Repeat("v", maxButtonValue)+`"`) + `]}]`, true},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"value":"`+strings.Repeat("v", maxButtonValue+1)+`"`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"value":""`) + `]}]`, true},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"value":1`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"url":"`+strings.Repeat("u", maxURL+1)+`"`) + `]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"accessibility_label":"`+strings.Repeat("l", maxButtonText+1)+`"`) + `]}]`, false},
	{`[{"type":"actions","elements":[{"type":"button","text":{"type":"mrkdwn","text":"Go"}}]}]`, false},
	{`[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"` + strings.Repeat("g", maxButtonText+1) + `"}}]}]`, false},
	{`[{"type":"actions","elements":[{"type":"button"}]}]`, false},
	{`[{"type":"actions","elements":[{"text":{"type":"plain_text","text":"Go"},"type":"button"}]}]`, false},
	{`[{"type":"actions","elements":[` + buttonJSON(`,"confirm":{}`) + `]}]`, false},
	{`[{"type":"actions","elements":[{"type":"static_select","options":[]}]}]`, false},
	{`[{"type":"actions","elements":[]}]`, false},
	{`[{"type":"actions"}]`, false},
	{`[{"type":"actions","elements":[` + strings.Repeat(buttonJSON("")+`,`, maxActionElements) + buttonJSON("") + `]}]`, false},
	{`[{"type":"image","image_url":"http://x/y.png","alt_text":"y"}]`, false},
	{`[{"type":"nonsense"}]`, false},
	{`[{"type":1}]`, false},
	{`[{}]`, false},
	{`[1]`, false},
	{`[` + sectionJSON(`"x"`) + `,]`, false},
	{`[` + sectionJSON(`"x"`), false},
	{`[` + strings.Repeat(sectionJSON(`"x"`)+`,`, maxMessageBlocks-1) + sectionJSON(`"x"`) + `]`, true},
	{`[` + strings.Repeat(sectionJSON(`"x"`)+`,`, maxMessageBlocks) + sectionJSON(`"x"`) + `]`, false},
	{`[{"type":"sec\u0074ion","text":{"type":"mrkdwn","text":"x"}}]`, false},
	{`[{"type":"section","te\u0078t":{"type":"mrkdwn","text":"x"}}]`, false},
}

func TestScanBlocks(t *testing.T) {
	for _, tc := range scanCases {
		if got := scanAgrees(t, tc.blocks); got != tc.scan {
			t.Errorf("scanBlocks took %.120s: %v, want %v", tc.blocks, got, tc.scan)
		}
	}
	// What pathbot really answers with is scanned.
	for _, p := range ackPayloads(t) {
		var m struct{ Blocks json.RawMessage }
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatal(err)
		}
		if !scanAgrees(t, string(m.Blocks)) {
			t.Errorf("real blocks left the scan: %.80s…", m.Blocks)
		}
	}
}

// TestScanBlocksSentIDTaken: scanBlocks assigns an id before it has seen every id sent, so a
// block or button sending one it assigned already makes it give up (checker, seeing them
// all first, would have assigned another).
func TestScanBlocksSentIDTaken(t *testing.T) {
	taken := [][4]byte{{'a', 'b', 'c', 'd'}}
	s := blockScan{r: jsonReader[string]{b: `[{"type":"divider","block_id":"abcd"}]`}, made: taken}
	if _, ok := s.blocks(); ok {
		t.Error("block_id assigned earlier accepted")
	}
	s = blockScan{r: jsonReader[string]{b: `[{"type":"divider","block_id":"abce"}]`}, made: taken}
	if _, ok := s.blocks(); !ok {
		t.Error("block_id not assigned refused")
	}
	s = blockScan{r: jsonReader[string]{b: buttonJSON(`,"action_id":"abcd"`)}, actMade: taken}
	if s.button() {
		t.Error("action_id assigned earlier accepted")
	}
	s = blockScan{r: jsonReader[string]{b: buttonJSON(`,"action_id":"abce"`)}, actMade: taken}
	if !s.button() {
		t.Error("action_id not assigned refused")
	}
}

func FuzzScanBlocks(f *testing.F) {
	for _, tc := range scanCases {
		f.Add(tc.blocks)
	}
	for _, p := range ackPayloads(f) {
		var m struct{ Blocks json.RawMessage }
		_ = json.Unmarshal(p, &m)
		f.Add(string(m.Blocks))
	}
	f.Fuzz(func(t *testing.T, blocks string) { scanAgrees(t, blocks) })
}
