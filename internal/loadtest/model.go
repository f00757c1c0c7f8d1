package loadtest

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pathbot/pathbot/internal/progress"
)

// kind is one sort of request in the mix.
type kind uint8

const (
	kStatus kind = iota
	kNext
	kList
	kDone
	kUndo
	kOncall
	kBad
	numKinds
)

var kindNames = [numKinds]string{"status", "next", "list", "done", "undo", "oncall", "bad_input"}

func (k kind) String() string { return kindNames[k] }

func (k kind) writes() bool { return k == kDone || k == kUndo || k == kOncall }

// mixPerMille is the share of each kind: half status, 15% next/list, 20% done/undo, 10% on-call
// and 5% bad input, the way a team would use /path on a busy morning.
var mixPerMille = [numKinds]int{kStatus: 500, kNext: 80, kList: 70, kDone: 140, kUndo: 60, kOncall: 100, kBad: 50}

// badInputs are mistakes users make. Each must earn a friendly :warning: answer that names the
// problem, never the internal-error sentence, and must write nothing.
var badInputs = []string{
	"frobnicate",
	"done",
	"undo",
	"oncall",
	"oncall 2024-02-30",
	"oncall 2099-01-01..2099-01-07",
	"oncall 2024-03-10..2024-03-01",
	"oncall next tuesday",
	"list podcasts",
	"next please",
	"status me and you",
	"done qqqq zzzz xyzzy",
	"undo wxyzzy plugh",
	"oncall 2024-01-01 day night",
}

// Markers of the answers the bot gives. The load test reads the same fallback text a user's
// notification shows, so a reworded reply shows up here as "unexpected_answer" rather than
// silently passing.
const (
	markInternal   = "something went wrong"
	markBusy       = "pathbot is very busy right now"
	markWarning    = ":warning:"
	markDoneNew    = " is done — "
	markDoneAgain  = " was already marked done — "
	markUndone     = " is no longer marked — "
	markNotMarked  = " wasn't marked, so there was nothing to undo"
	markOncallSave = ":pager: Logged on-call"
)

// request is one slash command of the run.
type request struct {
	user  int32
	kind  kind
	item  int16 // reading index for done and undo
	text  string
	sched time.Time
	phase *phase
}

// bitset holds one bit per reading.
type bitset []uint64

func (b bitset) has(i int16) bool { return b[i/64]&(1<<(uint(i)%64)) != 0 }
func (b bitset) set(i int16, v bool) {
	if v {
		b[i/64] |= 1 << (uint(i) % 64)
	} else {
		b[i/64] &^= 1 << (uint(i) % 64)
	}
}
func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// member is what the load test expects the database to hold for one user, derived only from the
// answers the bot gave.
type member struct {
	writing bool   // a write is in flight: the next write goes to someone else
	touched bool   // sent anything that enrols
	done    bitset // readings answered as done (and not undone since)
	unknown bitset // readings whose last write was never answered: the bot may or may not have saved it
	// shiftsMin..shiftsMax bounds the on-call rows: answered logs count in both, unanswered ones
	// only in the upper bound.
	shiftsMin, shiftsMax int
}

// model generates the requests and keeps the expected state they lead to.
type model struct {
	readings []string // reading ids in path order
	team     string
	userIDs  []string

	mu      sync.Mutex
	rng     *rand.Rand
	members []member
	today   progress.Date
}

func newModel(readings []string, team string, users int, seed uint64, today progress.Date) *model {
	m := &model{
		readings: readings,
		team:     team,
		userIDs:  make([]string, users),
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		members:  make([]member, users),
		today:    today,
	}
	words := (len(readings) + 63) / 64
	for i := range m.members {
		m.userIDs[i] = userID(i)
		m.members[i].done = make(bitset, words)
		m.members[i].unknown = make(bitset, words)
	}
	return m
}

// userID is a Slack-shaped member id: "U" and upper-case alphanumerics.
func userID(i int) string { return fmt.Sprintf("UL%07d", i) }

// next draws the next request. Writes go to members with no write in flight, so each member's
// writes are answered in the order they were sent and the expected state is exact; a real person
// does not type two commands at once either. Reads may overlap anything.
func (m *model) next(sched time.Time, ph *phase) *request {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &request{sched: sched, phase: ph}
	roll := m.rng.IntN(1000)
	for k := kind(0); k < numKinds; k++ {
		if roll < mixPerMille[k] {
			r.kind = k
			break
		}
		roll -= mixPerMille[k]
	}
	r.user = int32(m.rng.IntN(len(m.members)))
	if r.kind.writes() {
		// With every member busy the system is hopelessly overloaded; a shared member then only
		// makes that member's expected state uncertain, which freeUser records.
		for try := 0; try < 64 && m.members[r.user].writing; try++ {
			r.user = int32(m.rng.IntN(len(m.members)))
		}
	}
	mb := &m.members[r.user]
	switch r.kind {
	case kStatus:
		r.text = [...]string{"status", "status", "status", "", "me"}[m.rng.IntN(5)]
	case kNext:
		r.text = "next"
	case kList:
		r.text = [...]string{"list", "list", "list talks", "list books", "list milestones", "ls"}[m.rng.IntN(6)]
	case kDone:
		r.item = int16(m.rng.IntN(len(m.readings)))
		r.text = "done " + m.readings[r.item]
	case kUndo:
		// Mostly undo something the member did, sometimes something they didn't.
		r.item = int16(m.rng.IntN(len(m.readings)))
		if n := mb.done.count(); n > 0 && m.rng.IntN(4) > 0 {
			pick := m.rng.IntN(n)
			for i := range m.readings {
				if mb.done.has(int16(i)) {
					if pick == 0 {
						r.item = int16(i)
						break
					}
					pick--
				}
			}
		}
		r.text = "undo " + m.readings[r.item]
	case kOncall:
		r.text = m.oncallText()
	case kBad:
		r.text = badInputs[m.rng.IntN(len(badInputs))]
	}
	if r.kind.writes() {
		if mb.writing {
			// Two writes of one member in flight: the order they land in is unknown.
			m.forgetLocked(mb, r)
		}
		mb.writing = true
	}
	if r.kind != kBad {
		mb.touched = true
	}
	return r
}

// oncallText is a valid past range: up to a week, ending at least a few days ago, as a full,
// day or night shift.
func (m *model) oncallText() string {
	end := m.today.AddDays(-3 - m.rng.IntN(700))
	start := end.AddDays(-m.rng.IntN(7))
	part := [...]string{"", "", " day", " night"}[m.rng.IntN(4)]
	if start == end && m.rng.IntN(2) == 0 {
		return "oncall " + start.String() + part
	}
	return "oncall " + start.String() + ".." + end.String() + part
}

// forgetLocked marks what r would change as uncertain.
func (m *model) forgetLocked(mb *member, r *request) {
	switch r.kind {
	case kDone, kUndo:
		mb.unknown.set(r.item, true)
	case kOncall:
		mb.shiftsMax++
	}
}

// outcome is how a request ended, as the user saw it.
type outcome struct {
	failed  bool   // no usable answer: dispatch_failed, no answer, refused ack
	errKind string // "" when the answer was what was due
}

// complete updates the expected state from the answer text (or the failure) and says whether the
// answer was the one due. fail is Slack's or the emulator's error ("" when the bot answered in
// time); answered says whether a message reached the user.
func (m *model) complete(r *request, fail string, answered bool, text string) outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := &m.members[r.user]
	if r.kind.writes() {
		mb.writing = false
	}
	if fail != "" || !answered {
		kind := "no_answer"
		switch {
		case strings.HasPrefix(fail, "emulator:"):
			kind = "emulator"
		case fail != "":
			kind = fail
		}
		// The bot may still have saved it, late: Slack told the user it failed, so neither
		// outcome is wrong, and the database check skips what is uncertain.
		if r.kind.writes() {
			m.forgetLocked(mb, r)
		}
		return outcome{failed: true, errKind: kind}
	}
	if strings.Contains(text, markBusy) {
		// Shed by admission control: the bot says nothing was saved; the database check holds
		// it to that. A failure as far as the user is concerned, whatever the command.
		return outcome{errKind: "busy"}
	}
	if strings.Contains(text, markInternal) {
		// The bot says nothing was saved; the database check holds it to that.
		return outcome{errKind: "internal_error"}
	}
	if r.kind == kBad {
		if !strings.Contains(text, markWarning) {
			return outcome{errKind: "bad_input_accepted"}
		}
		return outcome{}
	}
	if strings.Contains(text, markWarning) {
		return outcome{errKind: "unexpected_warning"}
	}
	switch r.kind {
	case kDone:
		var changed bool
		switch {
		case strings.Contains(text, markDoneNew):
			changed = true
		case strings.Contains(text, markDoneAgain):
		default:
			return m.unexpected(mb, r)
		}
		return m.settle(mb, r.item, changed, true)
	case kUndo:
		var changed bool
		switch {
		case strings.Contains(text, markUndone):
			changed = true
		case strings.Contains(text, markNotMarked):
		default:
			return m.unexpected(mb, r)
		}
		return m.settle(mb, r.item, changed, false)
	case kOncall:
		if !strings.Contains(text, markOncallSave) {
			return m.unexpected(mb, r)
		}
		mb.shiftsMin++
		mb.shiftsMax++
	}
	return outcome{}
}

// unexpected records an answer the load test cannot read: whatever it did is uncertain.
func (m *model) unexpected(mb *member, r *request) outcome {
	m.forgetLocked(mb, r)
	return outcome{errKind: "unexpected_answer"}
}

// settle applies an answered done (to true) or undo (to false). changed is whether the bot said
// it changed something, which must agree with what earlier answers said: "is done" for a reading
// already answered as done means that earlier write was lost, "already marked done" for one never
// saved means a write appeared from nowhere.
func (m *model) settle(mb *member, item int16, changed, to bool) outcome {
	var o outcome
	if !mb.unknown.has(item) && changed != (mb.done.has(item) != to) {
		o.errKind = "answer_disagrees"
	}
	mb.done.set(item, to)
	return o
}

// expectation is what one member's rows must be.
type expectation struct {
	done                 bitset
	unknown              bitset
	shiftsMin, shiftsMax int
	touched              bool
}

func (m *model) expected(i int) expectation {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := &m.members[i]
	return expectation{done: mb.done, unknown: mb.unknown, shiftsMin: mb.shiftsMin, shiftsMax: mb.shiftsMax, touched: mb.touched}
}
