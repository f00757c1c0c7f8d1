package loadtest

import (
	"math"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/command"
	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/progress"
)

var testToday = progress.Date{Year: 2026, Month: time.November, Day: 26}

func testModel(t *testing.T, users int) (*model, *curriculum.Curriculum) {
	t.Helper()
	cur, err := curriculum.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(cur.Readings))
	for i, it := range cur.Readings {
		ids[i] = it.ID
	}
	return newModel(ids, "T1", users, 7, testToday), cur
}

// Every generated command must mean what the mix says it means: a valid command parses to the
// verb intended (dates in the past, readings that exist), and bad input is refused, by the parser
// or, for a reading nobody has heard of, by the curriculum.
func TestGeneratedCommandsMeanWhatTheMixSays(t *testing.T) {
	m, cur := testModel(t, 50)
	wantVerb := map[kind]command.Verb{kStatus: command.Status, kNext: command.Next, kList: command.List,
		kDone: command.Done, kUndo: command.Undo, kOncall: command.Oncall}
	for i := 0; i < 20000; i++ {
		r := m.next(time.Now(), nil)
		// Answer each write so the next ones may go to anyone.
		m.complete(r, "", true, "")
		cmd, err := command.Parse(r.text, testToday)
		if r.kind == kBad {
			if err != nil {
				continue
			}
			if (cmd.Verb == command.Done || cmd.Verb == command.Undo) && cmd.Item != "" {
				if _, rerr := cur.Resolve(cmd.Item); rerr != nil {
					continue
				}
			}
			t.Fatalf("bad input %q is accepted as %+v", r.text, cmd)
		}
		if err != nil {
			t.Fatalf("%s command %q does not parse: %v", r.kind, r.text, err)
		}
		if cmd.Verb != wantVerb[r.kind] {
			t.Fatalf("%s command %q parses as %s", r.kind, r.text, cmd.Verb)
		}
		if r.kind == kDone || r.kind == kUndo {
			it, err := cur.Resolve(cmd.Item)
			if err != nil || it.ID != m.readings[r.item] {
				t.Fatalf("%q resolves to %q (%v), want %q", r.text, it.ID, err, m.readings[r.item])
			}
		}
	}
}

func TestMixProportions(t *testing.T) {
	m, _ := testModel(t, 10000)
	const n = 200000
	var got [numKinds]int
	for i := 0; i < n; i++ {
		r := m.next(time.Now(), nil)
		got[r.kind]++
		m.complete(r, "", true, "")
	}
	for k := range numKinds {
		share := float64(got[k]) / n * 1000
		if math.Abs(share-float64(mixPerMille[k])) > 5 {
			t.Errorf("%s: %.1f‰ of requests, want %d‰", k, share, mixPerMille[k])
		}
	}
}

// A member never has two writes in flight while someone else is free, so their writes are
// answered in the order they were sent.
func TestWritesGoToIdleMembers(t *testing.T) {
	m, _ := testModel(t, 8)
	inflight := map[int32]bool{}
	var open []*request
	for len(open) < 6 {
		r := m.next(time.Now(), nil)
		if !r.kind.writes() {
			continue
		}
		if inflight[r.user] {
			t.Fatalf("second write for member %d while %d of 8 are busy", r.user, len(inflight))
		}
		inflight[r.user] = true
		open = append(open, r)
	}
	for _, r := range open {
		m.complete(r, "", true, "")
	}
	for i := range m.members {
		if m.members[i].writing {
			t.Errorf("member %d still marked writing after every answer", i)
		}
	}
}

func TestExpectedStateFollowsTheAnswers(t *testing.T) {
	m, _ := testModel(t, 1)
	req := func(k kind, item int16) *request { return &request{user: 0, kind: k, item: item} }
	check := func(o outcome, want string) {
		t.Helper()
		if o.errKind != want {
			t.Errorf("outcome %q, want %q", o.errKind, want)
		}
	}
	check(m.complete(req(kDone, 1), "", true, ":white_check_mark: X is done — 1/23 readings."), "")
	check(m.complete(req(kDone, 1), "", true, ":white_check_mark: X was already marked done — 1/23 readings."), "")
	// Saying "is done" for a reading already answered as done means the first write was lost.
	check(m.complete(req(kDone, 1), "", true, ":white_check_mark: X is done — 1/23 readings."), "answer_disagrees")
	check(m.complete(req(kUndo, 1), "", true, ":leftwards_arrow_with_hook: X is no longer marked — 0/23 readings done."), "")
	check(m.complete(req(kUndo, 1), "", true, "X wasn't marked, so there was nothing to undo."), "")
	// "Already marked" for a reading that was undone means a write appeared from nowhere.
	check(m.complete(req(kDone, 2), "", true, ":white_check_mark: Y was already marked done — 1/23 readings."), "answer_disagrees")
	check(m.complete(req(kOncall, 0), "", true, ":pager: Logged on-call 2026-01-01 (days and nights).\nOn call: 1 of 21"), "")
	check(m.complete(req(kStatus, 0), "", true, "Your senior engineer path"), "")
	check(m.complete(req(kStatus, 0), "", true, "Sorry, something went wrong on our side and nothing was saved."), "internal_error")
	check(m.complete(req(kStatus, 0), "", true, ":hourglass_flowing_sand: pathbot is very busy right now and did not run this command — *nothing was saved*."), "busy")
	check(m.complete(req(kBad, 0), "", true, ":hourglass_flowing_sand: pathbot is very busy right now and did not run this command — *nothing was saved*."), "busy")
	check(m.complete(req(kNext, 0), "", true, ":warning: oops"), "unexpected_warning")
	check(m.complete(req(kBad, 0), "", true, ":warning: I couldn't read that"), "")
	check(m.complete(req(kBad, 0), "", true, "Your senior engineer path"), "bad_input_accepted")
	check(m.complete(req(kDone, 3), "", true, "Something new"), "unexpected_answer")

	// Unanswered writes leave their target uncertain instead of expected.
	o := m.complete(req(kDone, 4), "dispatch_failed", false, "")
	if !o.failed || o.errKind != "dispatch_failed" {
		t.Errorf("dispatch_failed gives %+v", o)
	}
	m.complete(req(kOncall, 0), "", false, "")

	e := m.expected(0)
	if !e.done.has(2) || e.done.has(1) || e.done.count() != 1 {
		t.Errorf("done readings %b, want only reading 2", e.done)
	}
	if !e.unknown.has(3) || !e.unknown.has(4) || e.unknown.count() != 2 {
		t.Errorf("uncertain readings %b, want 3 and 4", e.unknown)
	}
	if e.shiftsMin != 1 || e.shiftsMax != 2 {
		t.Errorf("shifts %d..%d, want 1..2", e.shiftsMin, e.shiftsMax)
	}
}
