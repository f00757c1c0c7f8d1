package command

import (
	"fmt"
	"strings"

	"github.com/pathbot/pathbot/internal/progress"
)

// HelpEntry is one line of /path help: a verb, its form, an example and what it does.
type HelpEntry struct {
	Verb    Verb
	Usage   string
	Example string
	Summary string
}

// form is one way to write a command and an example of it.
type form struct{ usage, example string }

// topicDoc is everything help says about one topic. The first form is the one the help
// index shows; every example must parse (the tests check).
type topicDoc struct {
	summary string
	forms   []form
	notes   []string
}

var (
	designForms = []form{
		{"/path log design doc <link>", "/path log design doc https://docs.example.com/payments-v2"},
		{"/path log design review <reviewers>", "/path log design review @alice @bob"},
		{"/path log design feedback [note]", "/path log design feedback split the ledger into its own service"},
	}
	languagesForm  = form{"/path log languages <language>[, <language>…]", "/path log languages Go, Python"}
	messagingForm  = form{"/path log messaging <system> via <broker or queue>", "/path log messaging order-service via Kafka"}
	wireFormatForm = form{"/path log wire-format <format> [for <service>]", "/path log wire-format protobuf for payments-api"}
	deployForms    = []form{
		{"/path log deploy paas <platform>", "/path log deploy paas Heroku"},
		{"/path log deploy iaas <platform>", "/path log deploy iaas AWS EC2"},
	}
	oncallForm   = form{"/path oncall <from>..<to> [day|night]", "/path oncall 2026-01-05..2026-01-11 night"}
	loadtestForm = form{"/path loadtest rps=<n> p95=<duration> p99=<duration> max=<duration> [link]",
		"/path loadtest rps=5,000 p95=120ms p99=300ms max=1.2s https://grafana.example.com/d/checkout"}
)

var topics = map[string]topicDoc{
	string(Status): {
		summary: "Shows your progress on the path, or a teammate's: milestones, readings, points and streak. /path alone does the same.",
		forms:   []form{{"/path status [@someone]", "/path status @alice"}},
	},
	string(Help): {
		summary: "Explains a command, a milestone, or how points work.",
		forms:   []form{{"/path help [topic]", "/path help oncall"}, {"/path help <milestone>", "/path help wire-format"}},
		notes:   []string{"Topics: every command, every milestone (" + strings.Join(progress.MilestoneIDs(), ", ") + ") and points."},
	},
	string(Next): {
		summary: "Shows the next reading on the path that you haven't done or skipped.",
		forms:   []form{{"/path next", "/path next"}},
	},
	string(List): {
		summary: "Lists the path's readings, or its milestones, with what you've done.",
		forms:   []form{{"/path list [trainings|talks|essays|books|milestones]", "/path list talks"}, {"/path ls", "/path ls"}},
	},
	string(Done): {
		summary: "Marks a reading done; a few words of its title are enough.",
		forms:   []form{{"/path done <reading>", "/path done The Tail at Scale"}},
	},
	string(Undo): {
		summary: "Takes back a reading you marked done or skipped.",
		forms:   []form{{"/path undo <reading>", "/path undo tail at scale"}},
	},
	string(Skip): {
		summary: "Skips a reading so /path next moves past it.",
		forms:   []form{{"/path skip <reading>", "/path skip Mythical Man-Month"}},
	},
	string(Oncall): {
		summary: fmt.Sprintf("Logs days and nights on call for a business-critical service; the milestone needs %d days + nights in total.", progress.OncallDaysNeeded),
		forms: []form{
			oncallForm,
			{"/path oncall <date> [day|night]", "/path oncall 2026-01-12 day"},
			{"/path oncall <from> to <to>", "/path oncall 2026-01-05 to 2026-01-18"},
		},
		notes: []string{
			"A range counts whole days (24h) unless you say day or night; a day or a night is half a day, and a day plus a night on the same date make one.",
			"Overlapping or repeated ranges count once. Dates are YYYY-MM-DD, at most 366 days per range, and not in the future.",
		},
	},
	string(Loadtest): {
		summary: fmt.Sprintf("Logs a load-test run; the milestone is done once a run shows more than %s req/s with p95 ≤ %v, p99 ≤ %v and max ≤ %v (your team's admins may set other limits).",
			progress.FormatNumber(progress.MinRPS), progress.DefaultThresholds.P95,
			progress.DefaultThresholds.P99, progress.DefaultThresholds.Max),
		forms: []form{loadtestForm, {"/path loadtest p99: 300ms rps: 1500 p95: 120ms max: 900ms", "/path loadtest p99: 300ms rps: 1500 p95: 120ms max: 900ms"}},
		notes: []string{
			"Keys go in any order as key=value or key: value. Durations need a unit (ms, s or us); rps may use separators like 5,000.",
			"The link to the results is optional.",
		},
	},
	string(Log): {
		summary: "Logs evidence for an experience milestone. /path help <milestone> explains each one.",
		forms: append(append(append([]form{{"/path log <milestone> <details>", "/path log languages Go, Python"}},
			designForms...), messagingForm, wireFormatForm), deployForms...),
		notes: []string{"On-call and load tests have their own commands: /path oncall and /path loadtest."},
	},
	string(Leaderboard): {
		summary: "Shows the team's leaderboard, with only the people who opted in.",
		forms:   []form{{"/path leaderboard", "/path leaderboard"}},
	},
	string(Settings): {
		summary: "Shows your settings, or changes when you're nudged and whether you're on the leaderboard.",
		forms: []form{
			{"/path settings nudge <weekday> <HH:MM>", "/path settings nudge mon 09:30"},
			{"/path settings leaderboard on|off", "/path settings leaderboard off"},
			{"/path settings", "/path settings"},
		},
		notes: []string{"Times are in your Slack time zone; 9am and 17:00 both work."},
	},
	string(Pause): {
		summary: fmt.Sprintf("Pauses your nudges for a while: a week unless you say otherwise, at most %d weeks.", MaxPauseWeeks),
		forms: []form{
			{"/path pause [<weeks>]", "/path pause 2 weeks"},
			{"/path pause until <YYYY-MM-DD>", "/path pause until 2027-01-04"},
		},
	},
	string(Resume): {
		summary: "Turns your nudges back on after pause or stop.",
		forms:   []form{{"/path resume", "/path resume"}},
	},
	string(Stop): {
		summary: "Stops pathbot's nudges until you resume; your progress is kept.",
		forms:   []form{{"/path stop", "/path stop"}},
	},
	string(Admin): {
		summary: "Workspace settings, for admins.",
		forms: []form{
			{"/path admin leaderboard-channel|post-leaderboard|nudge-now|enroll|thresholds …", "/path admin post-leaderboard"},
			{"/path admin thresholds p95=<duration> p99=<duration> max=<duration>", "/path admin thresholds p95=250ms p99=600ms max=2s"},
			{"/path admin thresholds [reset]", "/path admin thresholds reset"},
			{"/path admin leaderboard-channel <#channel>", "/path admin leaderboard-channel #engineering"},
			{"/path admin post-leaderboard", "/path admin post-leaderboard"},
			{"/path admin nudge-now [@someone]", "/path admin nudge-now @alice"},
			{"/path admin enroll <#channel>", "/path admin enroll #backend"},
		},
	},
	progress.Design: {
		summary: "Design a service, document the design, review it with your team and incorporate the feedback. Log each of the three steps, in any order.",
		forms:   designForms,
	},
	progress.Languages: {
		summary: "Build services in at least two programming languages. Log each language once; Golang and Go count as one.",
		forms:   []form{languagesForm, {"/path log languages <language>", "/path log languages rust"}},
	},
	progress.Messaging: {
		summary: "Build or significantly enhance a system that scales horizontally by routing work through a messaging system. Log the system and the broker or queue.",
		forms:   []form{messagingForm, {"/path log messaging <system> using <broker>", "/path log messaging thumbnailer using SQS"}},
	},
	progress.WireFormat: {
		summary: "Build a service that offers or uses a non-JSON/XML format on the wire (not a database's), such as protobuf, Thrift, Avro or RMI.",
		forms:   []form{wireFormatForm, {"/path log wire-format <format>", "/path log wire-format Avro"}},
		notes:   []string{"JSON, XML and formats built on them (JSON-RPC, ndjson, SOAP, GraphQL) don't count."},
	},
	progress.Deploy: {
		summary: "Deploy an application yourself to a platform as a service and to infrastructure as a service. Log one of each.",
		forms:   deployForms,
	},
	HelpPoints: {
		summary: fmt.Sprintf("Points: a training is worth %d, a book %d, an essay or paper %d, a talk %d, and each milestone %d. Your streak counts the weeks in a row with some progress.",
			progress.TrainingPoints, progress.BookPoints, progress.EssayPoints, progress.TalkPoints, progress.MilestonePoints),
		forms: []form{{"/path status", "/path status"}, {"/path leaderboard", "/path leaderboard"}},
	},
}

// topicAliases are other names for help topics beyond the verb and milestone aliases.
var topicAliases = map[string]string{"point": HelpPoints, "score": HelpPoints, "scoring": HelpPoints, "streak": HelpPoints}

// canonicalTopic maps what follows /path help to a topic key.
func canonicalTopic(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "/path")))
	if s == "" {
		return "", true
	}
	if rest, ok := strings.CutPrefix(s, "log "); ok { // "help log design" means the design milestone
		if id, _, ok := cutMilestone(rest); ok {
			return id, true
		}
	}
	if v, ok := verbAliases[s]; ok {
		return string(v), true
	}
	if id, ok := milestoneAlias(strings.ReplaceAll(s, " ", "-")); ok {
		return id, true
	}
	if t, ok := topicAliases[s]; ok {
		return t, true
	}
	_, ok := topics[s]
	return s, ok
}

func parseHelp(rest string, _ progress.Date) (Command, error) {
	topic, ok := canonicalTopic(rest)
	if ok {
		return Command{Topic: topic}, nil
	}
	all := map[string]string{}
	for k := range topics {
		all[k] = k
	}
	if t, near := closest(strings.ToLower(rest), all); near {
		return Command{}, usageErr(string(Help), "there's no help on %q. Did you mean /path help %s?", quote(rest), t)
	}
	return Command{}, usageErr(string(Help), "there's no help on %q; try a command, a milestone or points", quote(rest))
}

// HelpIndex lists every verb with its main form, an example and what it does, in the order
// /path help shows them.
func HelpIndex() []HelpEntry {
	entries := make([]HelpEntry, 0, len(verbs))
	for _, v := range verbs {
		d := topics[string(v)]
		entries = append(entries, HelpEntry{Verb: v, Usage: d.forms[0].usage, Example: d.forms[0].example, Summary: d.summary})
	}
	return entries
}

// HelpFor is the help text for a topic: a verb or one of its aliases, a milestone id or alias,
// "points", or "" for the overview. ok is false for anything else. The text is plain, with
// <placeholders>, so escape it before sending it as Slack mrkdwn.
func HelpFor(topic string) (text string, ok bool) {
	key, ok := canonicalTopic(topic)
	if !ok {
		return "", false
	}
	var b strings.Builder
	if key == "" {
		b.WriteString("pathbot coaches you along the senior engineer path. Commands:\n")
		for _, e := range HelpIndex() {
			fmt.Fprintf(&b, "• %s: %s e.g. %s\n", e.Usage, e.Summary, e.Example)
		}
		b.WriteString("/path help <command or milestone> tells you more.")
		return b.String(), true
	}
	d := topics[key]
	fmt.Fprintf(&b, "%s: %s\n", key, d.summary)
	for _, f := range d.forms {
		fmt.Fprintf(&b, "• %s  e.g. %s\n", f.usage, f.example)
	}
	for _, n := range d.notes {
		b.WriteString(n + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n"), true
}

// maxUsageForms keeps a UsageError short; help has room for the rest.
const maxUsageForms = 3

// usageFor is the Usage of a UsageError about topic: its forms, each with an example.
func usageFor(topic string) string {
	d, ok := topics[topic]
	if !ok {
		return ""
	}
	var parts []string
	for i, f := range d.forms {
		if i == maxUsageForms {
			parts = append(parts, "/path help "+topic+" shows the rest")
			break
		}
		if f.usage == f.example {
			parts = append(parts, f.usage)
			continue
		}
		parts = append(parts, f.usage+", e.g. "+f.example)
	}
	return strings.Join(parts, "; ")
}
