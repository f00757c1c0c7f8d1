package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/progress"
)

// today is the date every test parses against: a Tuesday.
var today = progress.Date{Year: 2026, Month: time.February, Day: 10}

func d(y int, m time.Month, day int) progress.Date { return progress.Date{Year: y, Month: m, Day: day} }

const ms = time.Millisecond

func TestParse(t *testing.T) {
	t.Parallel()
	jan := func(from, to int, p progress.Part) progress.Shift {
		return progress.Shift{From: d(2026, time.January, from), To: d(2026, time.January, to), Part: p}
	}
	entry := func(milestone, key, detail string) progress.Entry {
		return progress.Entry{Milestone: milestone, Key: key, Detail: detail}
	}
	logged := func(topic string, entries ...progress.Entry) Command {
		return Command{Verb: Log, Topic: topic, Entry: entries[0], Entries: entries}
	}
	load := progress.LoadResult{RPS: 5000, P95: 120 * ms, P99: 300 * ms, Max: 1200 * ms}
	withLink := load
	withLink.Link = "https://grafana.example.com/d/abc?from=now-1h"
	exactly4000 := "done " + strings.Repeat("a", MaxLen-5)

	tests := []struct {
		name string
		in   string
		want Command
	}{
		// status
		{"empty is status", "", Command{Verb: Status}},
		{"only spaces is status", " \t\n ", Command{Verb: Status}},
		{"status", "status", Command{Verb: Status}},
		{"any case", "StAtUs", Command{Verb: Status}},
		{"status me", "status me", Command{Verb: Status}},
		{"escaped mention with name", "status <@U123ABC|bob>", Command{Verb: Status, User: "U123ABC"}},
		{"escaped mention without name", "status <@W0ABC>", Command{Verb: Status, User: "W0ABC"}},
		{"unescaped mention", "status @alice.smith", Command{Verb: Status, User: "@alice.smith"}},
		{"bare name", "status alice", Command{Verb: Status, User: "@alice"}},

		// help
		{"help", "help", Command{Verb: Help}},
		{"help verb", "help oncall", Command{Verb: Help, Topic: "oncall"}},
		{"help verb alias", "help ls", Command{Verb: Help, Topic: "list"}},
		{"help on-call", "help on-call", Command{Verb: Help, Topic: "oncall"}},
		{"help load", "help load", Command{Verb: Help, Topic: "loadtest"}},
		{"help milestone", "help deploy", Command{Verb: Help, Topic: progress.Deploy}},
		{"help milestone alias", "help lang", Command{Verb: Help, Topic: progress.Languages}},
		{"help two-word milestone", "help Wire Format", Command{Verb: Help, Topic: progress.WireFormat}},
		{"help log milestone", "help log design", Command{Verb: Help, Topic: progress.Design}},
		{"help points", "help points", Command{Verb: Help, Topic: HelpPoints}},
		{"help score", "help score", Command{Verb: Help, Topic: HelpPoints}},
		{"question mark", "? admin", Command{Verb: Help, Topic: "admin"}},

		// next, list, leaderboard, resume, stop
		{"next", "next", Command{Verb: Next}},
		{"list", "list", Command{Verb: List}},
		{"ls talks", "ls talks", Command{Verb: List, Topic: ListTalks}},
		{"list singular", "list Talk", Command{Verb: List, Topic: ListTalks}},
		{"list papers", "list papers", Command{Verb: List, Topic: ListEssays}},
		{"list trainings", "list training", Command{Verb: List, Topic: ListTrainings}},
		{"list books", "list books", Command{Verb: List, Topic: ListBooks}},
		{"list milestones", "list milestone", Command{Verb: List, Topic: ListMilestones}},
		{"list all", "list all", Command{Verb: List}},
		{"leaderboard", "leaderboard", Command{Verb: Leaderboard}},
		{"lb", "lb", Command{Verb: Leaderboard}},
		{"resume", "resume", Command{Verb: Resume}},
		{"unpause", "unpause", Command{Verb: Resume}},
		{"stop", "STOP", Command{Verb: Stop}},

		// done, undo, skip
		{"done title", "done The Tail at Scale", Command{Verb: Done, Item: "The Tail at Scale"}},
		{"done spaces collapse", "done   The  Tail\tat Scale ", Command{Verb: Done, Item: "The Tail at Scale"}},
		{"done smart quotes", "done “The Tail at Scale”", Command{Verb: Done, Item: "The Tail at Scale"}},
		{"done apostrophe", "done Amazon’s Dynamo", Command{Verb: Done, Item: "Amazon's Dynamo"}},
		{"undo", "undo tail", Command{Verb: Undo, Item: "tail"}},
		{"skip en dash", "skip Mythical Man–Month", Command{Verb: Skip, Item: "Mythical Man-Month"}},
		{"zero-width space dropped", "do\u200bne tail", Command{Verb: Done, Item: "tail"}},
		{"NBSP is a space", "done\u00a0tail\u00a0at", Command{Verb: Done, Item: "tail at"}},
		{"CRLF is a space", "done tail\r\nat", Command{Verb: Done, Item: "tail at"}},
		{"exactly the length limit", exactly4000, Command{Verb: Done, Item: strings.Repeat("a", MaxLen-5)}},

		// oncall
		{"range", "oncall 2026-01-01..2026-01-14", Command{Verb: Oncall, Shift: jan(1, 14, progress.PartFull)}},
		{"range nights", "oncall 2026-01-01..2026-01-14 night", Command{Verb: Oncall, Shift: jan(1, 14, progress.PartNight)}},
		{"part first", "oncall Days 2026-01-01..2026-01-14", Command{Verb: Oncall, Shift: jan(1, 14, progress.PartDay)}},
		{"single date", "oncall 2026-01-05", Command{Verb: Oncall, Shift: jan(5, 5, progress.PartFull)}},
		{"to", "oncall 2026-01-01 to 2026-01-07 day", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartDay)}},
		{"from to", "oncall from 2026-01-01 to 2026-01-07", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartFull)}},
		{"en dash spaced", "oncall 2026-01-01 – 2026-01-07", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartFull)}},
		{"em dash", "oncall 2026-01-01—2026-01-07", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartFull)}},
		{"hyphen between dates", "oncall 2026-01-01-2026-01-07", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartFull)}},
		{"ellipsis", "oncall 2026-01-01…2026-01-07", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartFull)}},
		{"short dates and 24h", "oncall 2026-1-1..2026-1-7 24h", Command{Verb: Oncall, Shift: jan(1, 7, progress.PartFull)}},
		{"repeated part word", "oncall night 2026-01-01 nights", Command{Verb: Oncall, Shift: jan(1, 1, progress.PartNight)}},
		{"today", "on-call today", Command{Verb: Oncall, Shift: progress.Shift{From: today, To: today, Part: progress.PartFull}}},
		{"yesterday..today", "oncall yesterday..today night", Command{Verb: Oncall,
			Shift: progress.Shift{From: d(2026, time.February, 9), To: today, Part: progress.PartNight}}},
		{"366 days", "oncall 2025-02-10..2026-02-10", Command{Verb: Oncall,
			Shift: progress.Shift{From: d(2025, time.February, 10), To: today, Part: progress.PartFull}}},

		// loadtest
		{"loadtest", "loadtest rps=5000 p95=120ms p99=300ms max=1.2s", Command{Verb: Loadtest, Load: load}},
		{"loadtest any order and link", "loadtest max=1.2s https://grafana.example.com/d/abc?from=now-1h p99=300ms rps=5000 p95=120ms",
			Command{Verb: Loadtest, Load: withLink}},
		{"loadtest separators", "loadtest rps=5,000 p95=120ms p99=300ms max=1,200ms", Command{Verb: Loadtest, Load: load}},
		{"loadtest underscores", "loadtest rps=5_000 p95=120ms p99=300ms max=1200ms", Command{Verb: Loadtest, Load: load}},
		{"loadtest colons and spaces", "loadtest rps: 5000 p95 : 120 ms p99 = 300ms max:1.2 s", Command{Verb: Loadtest, Load: load}},
		{"loadtest key value", "loadtest rps 5000 p95 120ms p99 300ms max 1.2s", Command{Verb: Loadtest, Load: load}},
		{"loadtest k suffix and spelled units", "loadtest rps=5k p95=120 milliseconds p99=0.3sec max=1.2seconds", Command{Verb: Loadtest, Load: load}},
		{"loadtest bare rps", "loadtest 5,000 req/s p95=120ms p99=300ms max=1.2s", Command{Verb: Loadtest, Load: load}},
		{"loadtest micro", "loadtest rps=1001 p95=500us p99=900µs max=1ms", Command{Verb: Loadtest,
			Load: progress.LoadResult{RPS: 1001, P95: 500 * time.Microsecond, P99: 900 * time.Microsecond, Max: ms}}},
		{"loadtest slack link", "loadtest rps=5000 p95=120ms p99=300ms max=1.2s link: <https://grafana.example.com/d/abc?from=now-1h|results>",
			Command{Verb: Loadtest, Load: withLink}},
		{"loadtest alias", "load-test RPS=5000 P95=120MS P99=300MS MAX=1.2S", Command{Verb: Loadtest, Load: load}},
		{"loadtest exactly 1000 is valid to log", "loadtest rps=1000 p95=120ms p99=300ms max=1.2s",
			Command{Verb: Loadtest, Load: progress.LoadResult{RPS: 1000, P95: 120 * ms, P99: 300 * ms, Max: 1200 * ms}}},

		// log
		{"design doc", "log design doc https://docs.example.com/x", logged(progress.Design, entry(progress.Design, progress.KeyDoc, "https://docs.example.com/x"))},
		{"design doc escaped", "log design doc <https://docs.example.com/x|Payments v2>", logged(progress.Design, entry(progress.Design, progress.KeyDoc, "https://docs.example.com/x"))},
		{"design review", "log design review <@U1|alice> and bob", logged(progress.Design, entry(progress.Design, progress.KeyReview, "<@U1|alice> and bob"))},
		{"design reviewed by", "log design reviewed by alice", logged(progress.Design, entry(progress.Design, progress.KeyReview, "alice"))},
		{"design feedback", "log design feedback split the ledger", logged(progress.Design, entry(progress.Design, progress.KeyFeedback, "split the ledger"))},
		{"design feedback bare", "log design feedback", logged(progress.Design, entry(progress.Design, progress.KeyFeedback, ""))},
		{"languages one", "log languages Golang", logged(progress.Languages, entry(progress.Languages, "go", ""))},
		{"languages list", "log lang Go, C++ and rust", logged(progress.Languages,
			entry(progress.Languages, "go", ""), entry(progress.Languages, "cpp", ""), entry(progress.Languages, "rust", ""))},
		{"languages spaces", "log languages go python", logged(progress.Languages,
			entry(progress.Languages, "go", ""), entry(progress.Languages, "python", ""))},
		{"languages dedup", "log languages go; golang", logged(progress.Languages, entry(progress.Languages, "go", ""))},
		{"languages unknown multiword", "log languages Visual Basic", logged(progress.Languages, entry(progress.Languages, "visual basic", ""))},
		{"messaging", "log messaging order-service via Kafka", logged(progress.Messaging, entry(progress.Messaging, "Kafka", "order-service"))},
		{"messaging via wins over on", "log messaging on-demand rides on call via SQS", logged(progress.Messaging, entry(progress.Messaging, "SQS", "on-demand rides on call"))},
		{"messaging using", "log queue thumbnailer using RabbitMQ", logged(progress.Messaging, entry(progress.Messaging, "RabbitMQ", "thumbnailer"))},
		{"wire format", "log wire-format protobuf for payments-api", logged(progress.WireFormat, entry(progress.WireFormat, "protobuf", "payments-api"))},
		{"wire format two words", "log wire format gRPC", logged(progress.WireFormat, entry(progress.WireFormat, "protobuf", ""))},
		{"wire format multiword", "log wire Cap’n Proto for billing", logged(progress.WireFormat, entry(progress.WireFormat, "capnproto", "billing"))},
		{"deploy paas", "log deploy paas Heroku", logged(progress.Deploy, entry(progress.Deploy, progress.KeyPaaS, "Heroku"))},
		{"deploy iaas to", "log deploy IaaS to AWS EC2", logged(progress.Deploy, entry(progress.Deploy, progress.KeyIaaS, "AWS EC2"))},
		{"deploy kind last", "log deployed fly.io paas", logged(progress.Deploy, entry(progress.Deploy, progress.KeyPaaS, "fly.io"))},
		{"log oncall is oncall", "log on call 2026-01-01..2026-01-14", Command{Verb: Oncall, Shift: jan(1, 14, progress.PartFull)}},
		{"log load test is loadtest", "log load test rps=5000 p95=120ms p99=300ms max=1.2s", Command{Verb: Loadtest, Load: load}},

		// settings
		{"settings", "settings", Command{Verb: Settings}},
		{"nudge", "settings nudge mon 09:30", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Monday, Clock: "09:30"}},
		{"nudge am", "settings nudge Tuesday 9am", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Tuesday, Clock: "09:00"}},
		{"nudge pm reversed", "settings nudge 5:15 pm on fridays", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Friday, Clock: "17:15"}},
		{"nudge 12am", "settings reminders sun 12am", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Sunday, Clock: "00:00"}},
		{"nudge 12pm", "settings nudge wed 12pm", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Wednesday, Clock: "12:00"}},
		{"nudge bare hour", "settings nudge thu 7", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Thursday, Clock: "07:00"}},
		{"nudge noon", "settings nudge sat noon", Command{Verb: Settings, Topic: SettingNudge, Weekday: time.Saturday, Clock: "12:00"}},
		{"leaderboard on", "settings leaderboard on", Command{Verb: Settings, Topic: SettingLeaderboard, On: true}},
		{"leaderboard off", "settings leaderboard OFF", Command{Verb: Settings, Topic: SettingLeaderboard, On: false}},

		// pause
		{"pause", "pause", Command{Verb: Pause, Weeks: 1}},
		{"pause n", "pause 3", Command{Verb: Pause, Weeks: 3}},
		{"pause n weeks", "pause 3 weeks", Command{Verb: Pause, Weeks: 3}},
		{"pause for a week", "pause for a week", Command{Verb: Pause, Weeks: 1}},
		{"pause 2w", "pause 2w", Command{Verb: Pause, Weeks: 2}},
		{"pause 52", "pause 52 weeks", Command{Verb: Pause, Weeks: 52}},
		{"pause until", "pause until 2026-03-01", Command{Verb: Pause, Until: d(2026, time.March, 1)}},
		{"pause date", "snooze 2026-02-11", Command{Verb: Pause, Until: d(2026, time.February, 11)}},
		{"pause until last day", "pause until 2027-02-09", Command{Verb: Pause, Until: d(2027, time.February, 9)}},

		// admin
		{"leaderboard channel", "admin leaderboard-channel <#C0123|engineering>", Command{Verb: Admin, Topic: AdminLeaderboardChannel, Channel: "C0123"}},
		{"leaderboard channel words", "admin leaderboard channel #engineering", Command{Verb: Admin, Topic: AdminLeaderboardChannel, Channel: "#engineering"}},
		{"post leaderboard", "admin post-leaderboard", Command{Verb: Admin, Topic: AdminPostLeaderboard}},
		{"post leaderboard words", "admin post leaderboard", Command{Verb: Admin, Topic: AdminPostLeaderboard}},
		{"nudge now", "admin nudge-now", Command{Verb: Admin, Topic: AdminNudgeNow}},
		{"nudge now user", "admin nudge now <@U42>", Command{Verb: Admin, Topic: AdminNudgeNow, User: "U42"}},
		{"enroll", "admin enroll <#C77>", Command{Verb: Admin, Topic: AdminEnroll, Channel: "C77"}},
		{"thresholds show", "admin thresholds", Command{Verb: Admin, Topic: AdminThresholds}},
		{"thresholds reset", "admin thresholds reset", Command{Verb: Admin, Topic: AdminThresholds, Args: []string{ArgReset}}},
		{"thresholds set", "admin thresholds max=3s p95=250ms p99: 600ms", Command{Verb: Admin, Topic: AdminThresholds,
			Thresholds: progress.Thresholds{P95: 250 * ms, P99: 600 * ms, Max: 3 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in, today)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantMsg string // a substring of Msg
	}{
		// anything
		{"typo of a verb", "stauts", `I don't know "stauts". Did you mean /path status?`},
		{"typo of help", "hepl oncall", "Did you mean /path help?"},
		{"unknown word", "xyzzy", `I don't know "xyzzy"; /path help lists everything`},
		{"milestone without log", "design doc https://x.example", "start with log: /path log design"},
		{"date without oncall", "2026-01-01..2026-01-02", "start with oncall"},
		{"too long", "done " + strings.Repeat("a", MaxLen), "that's too long"},
		{"invalid UTF-8", "done \xff\xfe", "isn't valid UTF-8"},
		{"NUL", "done a\x00b", "control character (U+0000)"},
		{"escape sequence", "done \x1b[31mred", "control character (U+001B)"},
		{"C1 control", "done \u0085", "control character"},
		{"bidi override", "done abc\u202edef", "direction-changing"},
		{"long echo is cut", "x" + strings.Repeat("y", 100), "…"},

		// simple verbs
		{"next with args", "next please", "next takes nothing after it"},
		{"resume with args", "resume now", "resume takes nothing"},
		{"done nothing", "done", "which reading?"},
		{"done empty quotes", `done ""`, "which reading?"},
		{"status two people", "status @alice @bob", "one person at a time"},
		{"status not a person", "status <!here>", "isn't a person"},
		{"list unknown", "list podcasts", `not "podcasts"`},
		{"help unknown", "help frobnicate", `there's no help on "frobnicate"`},
		{"help typo", "help stauts", "Did you mean /path help status?"},

		// oncall
		{"oncall nothing", "oncall", "which dates"},
		{"oncall only part", "oncall night", "which dates"},
		{"impossible date", "oncall 2026-02-30", "2026-02-30 is not a real date"},
		{"impossible end", "oncall 2026-01-01..2026-13-01", "2026-13-01 is not a real date"},
		{"reversed", "oncall 2026-01-14..2026-01-01", "the end date is before the start date"},
		{"future", "oncall 2026-02-11", "on-call in the future can't be logged yet"},
		{"over a year", "oncall 2024-01-01..2026-01-01", "at most 366 days"},
		{"before 1990", "oncall 1989-12-31", "before 1990-01-01"},
		{"day and night", "oncall day night 2026-01-01", "say day, night or full once"},
		{"words", "oncall last week", "couldn't read the dates"},
		{"other format", "oncall 01/05/2026", "couldn't read the dates"},
		{"three dates", "oncall 2026-01-01 2026-01-02 2026-01-03", "couldn't read the dates"},

		// loadtest
		{"loadtest nothing", "loadtest", "rps, p95, p99 and max missing"},
		{"loadtest missing max", "loadtest rps=5000 p95=120ms p99=300ms", "max missing"},
		{"no unit", "loadtest rps=5000 p95=200 p99=300ms max=1s", "p95 needs a unit, e.g. p95=200ms"},
		{"rps not a number", "loadtest rps=abc p95=120ms p99=300ms max=1s", "rps=abc isn't a number"},
		{"rps NaN", "loadtest rps=NaN p95=120ms p99=300ms max=1s", "isn't a number"},
		{"rps exponent", "loadtest rps=1e5 p95=120ms p99=300ms max=1s", "isn't a number"},
		{"rps negative", "loadtest rps=-5 p95=120ms p99=300ms max=1s", "rps must be above zero"},
		{"rps unicode minus", "loadtest rps=−5 p95=120ms p99=300ms max=1s", "rps must be above zero"},
		{"rps zero", "loadtest rps=0 p95=120ms p99=300ms max=1s", "requests per second must be a number above zero"},
		{"rps decimal comma", "loadtest rps=1,5 p95=120ms p99=300ms max=1s", "use commas only between thousands"},
		{"rps absurd", "loadtest rps=99,000,000 p95=120ms p99=300ms max=1s", "99,000,000 req/s is more than 10,000,000"},
		{"p95 above p99", "loadtest rps=5000 p95=300ms p99=200ms max=1s", "p95 (300ms) can't be above p99 (200ms)"},
		{"p99 above max", "loadtest rps=5000 p95=100ms p99=2s max=1s", "p99 (2s) can't be above max (1s)"},
		{"over an hour", "loadtest rps=5000 p95=100ms p99=200ms max=2h", "over an hour"},
		{"zero latency", "loadtest rps=5000 p95=0ms p99=200ms max=1s", "p95 must be above zero"},
		{"negative latency", "loadtest rps=5000 p95=-5ms p99=200ms max=1s", "p95 must be above zero"},
		{"bad duration", "loadtest rps=5000 p95=1.2.3ms p99=200ms max=1s", "p95=1.2.3ms isn't a duration"},
		{"duration with sign", "loadtest rps=5000 p95=+5ms p99=200ms max=1s", "isn't a duration"},
		{"twice", "loadtest rps=1 rps=2", "rps is given twice"},
		{"unknown key", "loadtest foo=1", `I don't know "foo"`},
		{"unknown word", "loadtest rps=5000 p95=120ms p99=300ms max=1s fast", `I don't know "fast"`},
		{"not http", "loadtest rps=5000 p95=120ms p99=300ms max=1s link=ftp://x.example/r", "must start with http:// or https://"},
		{"no host", "loadtest rps=5000 p95=120ms p99=300ms max=1s https:///path", "has no host"},
		{"link with a pipe", "loadtest rps=5000 p95=120ms p99=300ms max=1s https://x.example/a|b", "characters a link can't contain"},
		{"two links", "loadtest rps=5000 p95=120ms p99=300ms max=1s https://a.example https://b.example", "link is given twice"},
		{"empty value", "loadtest rps= p95=120ms", "rps has no value"},

		// log
		{"log nothing", "log", "Name a milestone: design, languages"},
		{"log milestone typo", "log desgin doc https://x.example", "Did you mean design?"},
		{"log unknown", "log hobbies", `I don't know the milestone "hobbies"`},
		{"design no step", "log design", "doc, review and feedback"},
		{"design unknown step", "log design brainstorm", "doc, review and feedback"},
		{"design doc no link", "log design doc", "takes the link to the doc"},
		{"design doc not a link", "log design doc payments-v2", "isn't a link"},
		{"design doc javascript", "log design doc javascript:alert(1)", "isn't a link"},
		{"design doc extra words", "log design doc https://x.example and more", "and only that"},
		{"design review nobody", "log design review", "who reviewed it?"},
		{"design review by nobody", "log design review by", "who reviewed it?"},
		{"entry too long", "log design feedback " + strings.Repeat("x", 501), "longer than I keep"},
		{"languages nothing", "log languages", "which language"},
		{"languages only commas", "log languages , ,", "which language"},
		{"languages json", "log languages JSON", "JSON is a data or markup format"},
		{"languages too many", "log languages a, b, c, d, e, f, g, h, i, j, k", "more than 10 languages"},
		{"messaging no broker", "log messaging kafka", "joined by via"},
		{"wire nothing", "log wire-format", "name a wire format"},
		{"wire json", "log wire-format JSON", "JSON is a text format like the ones the milestone asks you to go beyond"},
		{"wire soap", "log wire soap for billing", "soap is XML underneath"},
		{"wire ndjson", "log wire format ndjson", "ndjson is JSON underneath"},
		{"deploy nothing", "log deploy", "say paas or iaas"},
		{"deploy no kind", "log deploy heroku", "was heroku a PaaS or an IaaS?"},
		{"deploy no platform", "log deploy paas", "which platform"},
		{"log oncall future", "log oncall 2026-03-01", "in the future"},
		{"log loadtest missing", "log loadtest rps=5000", "p95, p99 and max missing"},

		// settings
		{"unknown setting", "settings theme dark", `the settings are nudge and leaderboard, not "theme"`},
		{"nudge nothing", "settings nudge", "which day of the week?"},
		{"nudge no time", "settings nudge mon", "at what time? e.g. settings nudge mon 09:30"},
		{"nudge two days", "settings nudge mon tue 9am", "name one day"},
		{"nudge 25h", "settings nudge mon 25:00", "isn't a time of day"},
		{"nudge 61 min", "settings nudge mon 10:61", "isn't a time of day"},
		{"nudge 13pm", "settings nudge mon 13pm", "12-hour clock"},
		{"nudge 0am", "settings nudge mon 0am", "12-hour clock"},
		{"nudge words", "settings nudge mon morning", "isn't a time of day"},
		{"leaderboard maybe", "settings leaderboard maybe", "on or off"},
		{"leaderboard nothing", "settings leaderboard", "on or off"},

		// pause
		{"pause zero", "pause 0", "1 to 52 weeks, not 0"},
		{"pause too long", "pause 53 weeks", "1 to 52 weeks, not 53"},
		{"pause days", "pause 3 days", "pauses are in weeks"},
		{"pause months", "pause 2 months", "pauses are in weeks"},
		{"pause until today", "pause until 2026-02-10", "after today (2026-02-10)"},
		{"pause until past", "pause until 2025-12-01", "after today"},
		{"pause until too far", "pause until 2027-02-10", "at most 52 weeks"},
		{"pause impossible", "pause until 2026-02-30", "not a real date"},
		{"pause until nothing", "pause until", "until when?"},
		{"pause words", "pause forever", `couldn't read "forever"`},
		{"pause huge", "pause 99999999999999999999", "couldn't read"},

		// admin
		{"admin nothing", "admin", "admin what?"},
		{"admin unknown", "admin frobnicate", `I don't know the admin command "frobnicate"`},
		{"enroll nothing", "admin enroll", "enroll takes one channel"},
		{"enroll two", "admin enroll #a #b", "enroll takes one channel"},
		{"channel is a user", "admin leaderboard-channel <@U1>", "isn't a channel"},
		{"post with args", "admin post-leaderboard now", "takes nothing after it"},
		{"nudge-now channel", "admin nudge-now <#C1>", "isn't a person"},
		{"thresholds out of order", "admin thresholds p95=300ms p99=200ms max=1s", "p95 (300ms) can't be above p99 (200ms)"},
		{"thresholds partial", "admin thresholds p95=200ms", "give all three"},
		{"thresholds unknown key", "admin thresholds rps=5", `I don't know "rps"`},
		{"thresholds no unit", "admin thresholds p95=200 p99=300ms max=1s", "p95 needs a unit"},
		{"thresholds sub-millisecond", "admin thresholds p95=500us p99=300ms max=1s", "p95 must be a whole number of milliseconds, not 500µs"},
		{"thresholds stray word", "admin thresholds p95=200ms p99=300ms max=1s please", `I don't know "please"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in, today)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) = %+v, %v; want a *UsageError", tt.in, got, err)
			}
			if !strings.Contains(ue.Msg, tt.wantMsg) {
				t.Errorf("Parse(%q) Msg = %q, want it to contain %q", tt.in, ue.Msg, tt.wantMsg)
			}
			if !strings.HasPrefix(ue.Usage, "/path ") {
				t.Errorf("Parse(%q) Usage = %q, want the right form", tt.in, ue.Usage)
			}
			if strings.Contains(ue.Msg, "\n") {
				t.Errorf("Parse(%q) Msg spans lines: %q", tt.in, ue.Msg)
			}
			if !reflect.DeepEqual(got, Command{}) {
				t.Errorf("Parse(%q) returned %+v with its error; want the zero Command", tt.in, got)
			}
		})
	}
}

func TestUsageErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *UsageError
		want string
	}{
		{&UsageError{Msg: "which reading?", Usage: "/path done <reading>"}, "which reading? (usage: /path done <reading>)"},
		{&UsageError{Msg: "which reading?"}, "which reading?"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
