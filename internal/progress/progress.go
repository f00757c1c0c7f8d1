// Package progress holds pathbot's rules for the senior engineer path: when each experience
// milestone counts as done given the evidence an engineer logged, how on-call days and nights add
// up, when a load test passes, what readings and milestones are worth, which reading comes next
// and how long a weekly streak is. It is pure (no I/O, no clock: the current time is always a
// parameter) so every rule can be tested exactly and reused by the bot, the jobs and the views.
package progress

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Milestone ids, in the order the path lists them.
const (
	Design     = "design"
	Languages  = "languages"
	Messaging  = "messaging"
	WireFormat = "wire-format"
	Deploy     = "deploy"
	LoadTest   = "loadtest"
	OnCall     = "oncall"
)

var milestoneIDs = []string{Design, Languages, Messaging, WireFormat, Deploy, LoadTest, OnCall}

// MilestoneIDs lists every milestone id in path order. It returns a fresh slice each time so no
// caller can reorder the path for everyone else.
func MilestoneIDs() []string { return slices.Clone(milestoneIDs) }

// IsMilestone reports whether id is one of the milestone ids.
func IsMilestone(id string) bool { return slices.Contains(milestoneIDs, id) }

// Entry keys with a fixed vocabulary.
const (
	KeyDoc      = "doc"      // design: the design doc was written; Detail is its link
	KeyReview   = "review"   // design: it was reviewed; Detail names the reviewers
	KeyFeedback = "feedback" // design: the feedback was incorporated; Detail is an optional note
	KeyPaaS     = "paas"     // deploy: to a platform as a service; Detail is the platform
	KeyIaaS     = "iaas"     // deploy: to infrastructure as a service; Detail is the platform
)

// Entry is one piece of evidence logged for a milestone (on-call is logged as Shifts instead).
type Entry struct {
	Milestone string
	// Key is what the evidence is about: design "doc", "review" or "feedback"; languages the
	// normalized language; messaging the broker or queue; wire-format the normalized format;
	// deploy "paas" or "iaas".
	Key string
	// Detail supports Key: design the doc link, the reviewers or a note; messaging the system
	// that routes work; wire-format the service; deploy the platform ("heroku", "aws ec2").
	Detail string
	Load   *LoadResult // loadtest only
	At     time.Time   // when it was logged
}

// MilestoneStatus is where an engineer stands on one milestone.
type MilestoneStatus struct {
	ID   string
	Done bool
	// Have counts progress towards Need: design steps 2/3, languages 1/2, deploy targets 1/2,
	// on-call days 14.5/21, and 0/1 or 1/1 for milestones one piece of evidence proves. Have may
	// exceed Need (three languages, 30 days on call), so bars must clamp.
	Have, Need float64
	Summary    string    // one short line, e.g. "deploy: PaaS ✓ IaaS ✗"
	Missing    string    // one sentence on what is left to do; empty when done
	DoneAt     time.Time // the At of the entry or shift that completed it; zero if not done
}

// Evaluate applies the path's rules to everything an engineer logged and returns the status of
// every milestone in path order. Entries are read in the order they were logged (by At), so
// DoneAt is the moment the milestone first became done; entries that do not qualify (an
// unknown design step, a JSON "wire format", a failing load test) are ignored.
func Evaluate(entries []Entry, shifts []Shift, th Thresholds) []MilestoneStatus {
	// The store returns entries in logging order already, so the copy and sort are usually
	// skipped; a stable sort of a sorted slice would leave it as it is anyway.
	if !slices.IsSortedFunc(entries, entryByAt) {
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, entryByAt)
	}
	// Every rule picks its own milestone's entries out of the whole list: for the handful of
	// entries a member has, that is cheaper than grouping them into a map of slices.
	return []MilestoneStatus{
		evalDesign(entries),
		evalLanguages(entries),
		evalMessaging(entries),
		evalWireFormat(entries),
		evalDeploy(entries),
		evalLoadTest(entries, th),
		evalOncall(shifts),
	}
}

func entryByAt(a, b Entry) int { return a.At.Compare(b.At) }

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// sentence joins clauses as "a, b and c", capitalised and ended with a period.
func sentence(clauses []string) string {
	size := len(" and .")
	for _, c := range clauses {
		size += len(c) + len(", ")
	}
	var b strings.Builder
	b.Grow(size)
	for i, c := range clauses {
		switch {
		case i == 0:
			// ASCII is capitalised in place; anything else as strings.ToUpper does it.
			if 'a' <= c[0] && c[0] <= 'z' {
				b.WriteByte(c[0] - 'a' + 'A')
			} else {
				b.WriteString(strings.ToUpper(c[:1]))
			}
			c = c[1:]
		case i == len(clauses)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(c)
	}
	b.WriteByte('.')
	return b.String()
}

// designSteps are the design milestone's steps in the order the summary lists them.
var designSteps = [...]struct{ key, todo string }{
	{KeyDoc, "write up the design in a doc"},
	{KeyReview, "review it with at least one teammate"},
	{KeyFeedback, "incorporate the feedback"},
}

// designStep is the index of key in designSteps, or -1 when it is not a design step.
func designStep(key string) int {
	for i, st := range designSteps {
		if st.key == key {
			return i
		}
	}
	return -1
}

func evalDesign(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: Design, Need: float64(len(designSteps))}
	var seen [len(designSteps)]bool // by index in designSteps
	have := 0
	for i := range entries {
		e := &entries[i]
		if e.Milestone != Design {
			continue
		}
		step := designStep(e.Key)
		if step < 0 || seen[step] {
			continue
		}
		// A doc without its link or a review without a reviewer is not evidence of the step.
		if (e.Key == KeyDoc || e.Key == KeyReview) && strings.TrimSpace(e.Detail) == "" {
			continue
		}
		seen[step] = true
		have++
		if have == len(designSteps) {
			s.Done, s.DoneAt = true, e.At
		}
	}
	s.Have = float64(have)
	var summary strings.Builder
	summary.Grow(64)
	summary.WriteString("design:")
	todo := make([]string, 0, len(designSteps))
	for i, st := range designSteps {
		summary.WriteByte(' ')
		summary.WriteString(st.key)
		summary.WriteByte(' ')
		summary.WriteString(mark(seen[i]))
		if !seen[i] {
			todo = append(todo, st.todo)
		}
	}
	s.Summary = summary.String()
	if !s.Done {
		s.Missing = sentence(todo)
	}
	return s
}

func evalLanguages(entries []Entry) MilestoneStatus {
	const need = 2
	s := MilestoneStatus{ID: Languages, Need: need}
	// ids and names stay on the stack for the few languages anyone logs.
	ids := make([]string, 0, 4)
	names := make([]string, 0, 4)
	for i := range entries {
		e := &entries[i]
		if e.Milestone != Languages {
			continue
		}
		id, err := NormalizeLanguage(e.Key)
		if err != nil || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
		names = append(names, LanguageName(id))
		if len(ids) == need {
			s.Done, s.DoneAt = true, e.At
		}
	}
	s.Have = float64(len(ids))
	list := strings.Join(names, ", ")
	switch {
	case s.Done:
		s.Summary = "languages: " + list + " ✓"
	case len(names) == 0:
		s.Summary = "languages: none yet (0/" + strconv.Itoa(need) + ")"
		s.Missing = "Build services in two programming languages."
	default:
		s.Summary = "languages: " + list + " (" + strconv.Itoa(len(names)) + "/" + strconv.Itoa(need) + ")"
		s.Missing = "Build a service in a second programming language besides " + list + "."
	}
	return s
}

func evalMessaging(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: Messaging, Need: 1}
	for i := range entries {
		e := &entries[i]
		if e.Milestone != Messaging {
			continue
		}
		system, broker := strings.TrimSpace(e.Detail), strings.TrimSpace(e.Key)
		if system == "" || broker == "" {
			continue
		}
		s.Done, s.DoneAt, s.Have = true, e.At, 1
		s.Summary = "messaging: " + system + " via " + broker + " ✓"
		return s
	}
	s.Summary = "messaging: nothing logged yet"
	s.Missing = "Build or significantly enhance a system that scales horizontally by routing work through a message broker or queue."
	return s
}

func evalWireFormat(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: WireFormat, Need: 1}
	for i := range entries {
		e := &entries[i]
		if e.Milestone != WireFormat {
			continue
		}
		id, err := NormalizeWireFormat(e.Key)
		if err != nil {
			continue
		}
		s.Done, s.DoneAt, s.Have = true, e.At, 1
		if svc := strings.TrimSpace(e.Detail); svc != "" {
			s.Summary = "wire format: " + WireFormatName(id) + " for " + svc + " ✓"
		} else {
			s.Summary = "wire format: " + WireFormatName(id) + " ✓"
		}
		return s
	}
	s.Summary = "wire format: nothing logged yet"
	s.Missing = "Build a service that offers or uses a non-JSON/XML format on the wire, such as protobuf or Thrift."
	return s
}

// What the deploy milestone asks for, as constants so its Missing sentence costs nothing.
const (
	deployTodo = "Deploy an application yourself to "
	deployPaaS = "a platform as a service (e.g. Heroku)"
	deployIaaS = "infrastructure as a service (e.g. a VM on AWS EC2)"
)

func evalDeploy(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: Deploy, Need: 2}
	paas, iaas := false, false
	for i := range entries {
		e := &entries[i]
		if e.Milestone != Deploy {
			continue
		}
		switch {
		case e.Key == KeyPaaS && !paas:
			paas = true
		case e.Key == KeyIaaS && !iaas:
			iaas = true
		default:
			continue
		}
		s.Have++
		if paas && iaas {
			s.Done, s.DoneAt = true, e.At
		}
	}
	s.Summary = "deploy: PaaS " + mark(paas) + " IaaS " + mark(iaas)
	switch {
	case !paas && !iaas:
		s.Missing = deployTodo + deployPaaS + " and to " + deployIaaS + "."
	case !paas:
		s.Missing = deployTodo + deployPaaS + "."
	case !iaas:
		s.Missing = deployTodo + deployIaaS + "."
	}
	return s
}

func evalLoadTest(entries []Entry, th Thresholds) MilestoneStatus {
	s := MilestoneStatus{ID: LoadTest, Need: 1}
	th = th.withDefaults()
	var best *LoadResult // the strongest run so far, passing runs first
	bestPasses := false
	for i := range entries {
		e := &entries[i]
		if e.Milestone != LoadTest || e.Load == nil || ValidateLoad(*e.Load) != nil {
			continue // not a measurement, so neither evidence nor a "best so far"
		}
		ok := passes(*e.Load, th)
		if ok && !s.Done {
			s.Done, s.DoneAt, s.Have = true, e.At, 1
		}
		if best == nil || (ok && !bestPasses) || (ok == bestPasses && stronger(*e.Load, *best)) {
			best, bestPasses = e.Load, ok
		}
	}
	switch {
	case best == nil:
		s.Summary = "load test: nothing logged yet"
	case bestPasses:
		s.Summary = "load test: " + FormatNumber(best.RPS) + " req/s, p95 " + best.P95.String() +
			", p99 " + best.P99.String() + ", max " + best.Max.String() + " ✓"
	default:
		_, why := LoadPasses(*best, th)
		s.Summary = "load test: best " + FormatNumber(best.RPS) + " req/s but " + why
	}
	if !s.Done {
		s.Missing = "Load-test a service you built and show it handles more than " + FormatNumber(MinRPS) +
			" req/s with p95 ≤ " + th.P95.String() + ", p99 ≤ " + th.P99.String() + " and max ≤ " + th.Max.String() + "."
	}
	return s
}

// stronger ranks runs for "best so far": more throughput first, then the lower p99.
func stronger(a, b LoadResult) bool {
	if a.RPS != b.RPS {
		return a.RPS > b.RPS
	}
	return a.P99 < b.P99
}
