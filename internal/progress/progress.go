// Package progress holds pathbot's rules for the senior engineer path: when each experience
// milestone counts as done given the evidence an engineer logged, how on-call days and nights add
// up, when a load test passes, what readings and milestones are worth, which reading comes next
// and how long a weekly streak is. It is pure (no I/O, no clock: the current time is always a
// parameter) so every rule can be tested exactly and reused by the bot, the jobs and the views.
package progress

import (
	"fmt"
	"slices"
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
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entry) int { return a.At.Compare(b.At) })
	by := map[string][]Entry{}
	for _, e := range sorted {
		by[e.Milestone] = append(by[e.Milestone], e)
	}
	return []MilestoneStatus{
		evalDesign(by[Design]),
		evalLanguages(by[Languages]),
		evalMessaging(by[Messaging]),
		evalWireFormat(by[WireFormat]),
		evalDeploy(by[Deploy]),
		evalLoadTest(by[LoadTest], th),
		evalOncall(shifts),
	}
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// sentence joins clauses as "a, b and c", capitalised and ended with a period.
func sentence(clauses []string) string {
	s := clauses[0]
	if n := len(clauses); n > 1 {
		s = strings.Join(clauses[:n-1], ", ") + " and " + clauses[n-1]
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func evalDesign(entries []Entry) MilestoneStatus {
	steps := []struct{ key, todo string }{
		{KeyDoc, "write up the design in a doc"},
		{KeyReview, "review it with at least one teammate"},
		{KeyFeedback, "incorporate the feedback"},
	}
	s := MilestoneStatus{ID: Design, Need: float64(len(steps))}
	seen := map[string]bool{}
	for _, e := range entries {
		// A doc without its link or a review without a reviewer is not evidence of the step.
		needsDetail := e.Key == KeyDoc || e.Key == KeyReview
		if seen[e.Key] || (needsDetail && strings.TrimSpace(e.Detail) == "") {
			continue
		}
		if e.Key != KeyDoc && e.Key != KeyReview && e.Key != KeyFeedback {
			continue
		}
		seen[e.Key] = true
		if len(seen) == len(steps) {
			s.Done, s.DoneAt = true, e.At
		}
	}
	s.Have = float64(len(seen))
	var marks, todo []string
	for _, st := range steps {
		marks = append(marks, st.key+" "+mark(seen[st.key]))
		if !seen[st.key] {
			todo = append(todo, st.todo)
		}
	}
	s.Summary = "design: " + strings.Join(marks, " ")
	if !s.Done {
		s.Missing = sentence(todo)
	}
	return s
}

func evalLanguages(entries []Entry) MilestoneStatus {
	const need = 2
	s := MilestoneStatus{ID: Languages, Need: need}
	var names []string
	seen := map[string]bool{}
	for _, e := range entries {
		id, err := NormalizeLanguage(e.Key)
		if err != nil || seen[id] {
			continue
		}
		seen[id] = true
		names = append(names, LanguageName(id))
		if len(seen) == need {
			s.Done, s.DoneAt = true, e.At
		}
	}
	s.Have = float64(len(seen))
	switch {
	case s.Done:
		s.Summary = "languages: " + strings.Join(names, ", ") + " ✓"
	case len(names) == 0:
		s.Summary = fmt.Sprintf("languages: none yet (0/%d)", need)
		s.Missing = "Build services in two programming languages."
	default:
		s.Summary = fmt.Sprintf("languages: %s (%d/%d)", strings.Join(names, ", "), len(names), need)
		s.Missing = "Build a service in a second programming language besides " + strings.Join(names, ", ") + "."
	}
	return s
}

func evalMessaging(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: Messaging, Need: 1}
	for _, e := range entries {
		system, broker := strings.TrimSpace(e.Detail), strings.TrimSpace(e.Key)
		if system == "" || broker == "" {
			continue
		}
		s.Done, s.DoneAt, s.Have = true, e.At, 1
		s.Summary = fmt.Sprintf("messaging: %s via %s ✓", system, broker)
		return s
	}
	s.Summary = "messaging: nothing logged yet"
	s.Missing = "Build or significantly enhance a system that scales horizontally by routing work through a message broker or queue."
	return s
}

func evalWireFormat(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: WireFormat, Need: 1}
	for _, e := range entries {
		id, err := NormalizeWireFormat(e.Key)
		if err != nil {
			continue
		}
		s.Done, s.DoneAt, s.Have = true, e.At, 1
		s.Summary = "wire format: " + WireFormatName(id)
		if svc := strings.TrimSpace(e.Detail); svc != "" {
			s.Summary += " for " + svc
		}
		s.Summary += " ✓"
		return s
	}
	s.Summary = "wire format: nothing logged yet"
	s.Missing = "Build a service that offers or uses a non-JSON/XML format on the wire, such as protobuf or Thrift."
	return s
}

func evalDeploy(entries []Entry) MilestoneStatus {
	s := MilestoneStatus{ID: Deploy, Need: 2}
	seen := map[string]bool{}
	for _, e := range entries {
		if (e.Key != KeyPaaS && e.Key != KeyIaaS) || seen[e.Key] {
			continue
		}
		seen[e.Key] = true
		if len(seen) == 2 {
			s.Done, s.DoneAt = true, e.At
		}
	}
	s.Have = float64(len(seen))
	s.Summary = fmt.Sprintf("deploy: PaaS %s IaaS %s", mark(seen[KeyPaaS]), mark(seen[KeyIaaS]))
	var todo []string
	if !seen[KeyPaaS] {
		todo = append(todo, "a platform as a service (e.g. Heroku)")
	}
	if !seen[KeyIaaS] {
		todo = append(todo, "infrastructure as a service (e.g. a VM on AWS EC2)")
	}
	if len(todo) > 0 {
		s.Missing = "Deploy an application yourself to " + strings.Join(todo, " and to ") + "."
	}
	return s
}

func evalLoadTest(entries []Entry, th Thresholds) MilestoneStatus {
	s := MilestoneStatus{ID: LoadTest, Need: 1}
	var best *LoadResult // the strongest run so far, passing runs first
	bestPasses := false
	for _, e := range entries {
		if e.Load == nil || ValidateLoad(*e.Load) != nil {
			continue // not a measurement, so neither evidence nor a "best so far"
		}
		ok, _ := LoadPasses(*e.Load, th)
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
		s.Summary = fmt.Sprintf("load test: %s req/s, p95 %v, p99 %v, max %v ✓",
			FormatNumber(best.RPS), best.P95, best.P99, best.Max)
	default:
		_, why := LoadPasses(*best, th)
		s.Summary = fmt.Sprintf("load test: best %s req/s but %s", FormatNumber(best.RPS), why)
	}
	if !s.Done {
		th = th.withDefaults()
		s.Missing = fmt.Sprintf("Load-test a service you built and show it handles more than %s req/s with p95 ≤ %v, p99 ≤ %v and max ≤ %v.",
			FormatNumber(MinRPS), th.P95, th.P99, th.Max)
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
