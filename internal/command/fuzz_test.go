package command

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pathbot/pathbot/internal/progress"
)

var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// maxFuzzLen bounds fuzz inputs. Longer text takes no new path through Parse, only more turns
// of the same loops, yet the fuzzer counts those as new coverage and spends up to a minute
// minimizing each such input (quadratic in its length) instead of exploring. The length limit
// itself is covered by TestParse and TestParseErrors.
const maxFuzzLen = 512

// FuzzParse checks that no input makes Parse panic, that every refusal is a *UsageError, and
// that every accepted command satisfies what its handler will rely on.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "status", "status <@U123|bob>", "status @alice", "help", "help wire format", "? load",
		"next", "list talks", "ls", "done The Tail at Scale", "undo “tail”", "skip x",
		"oncall 2026-01-01..2026-01-14 night", "oncall 2026-01-01 – 2026-01-07", "oncall 2026-01-01-2026-01-07",
		"oncall 2026-02-30", "oncall 2026-01-14..2026-01-01", "oncall yesterday..today day", "oncall 1989-12-31",
		"loadtest rps=5,000 p95=120ms p99=300ms max=1.2s https://x.example/r",
		"loadtest rps: 5000 p95 = 120 ms p99=300ms max=1s link: <https://x.example|my results>",
		"loadtest rps=1e309 p95=1ms p99=1ms max=1ms", "loadtest rps= p95=", "loadtest rps=1 rps=2",
		"log design doc <https://docs.example.com/x|doc>", "log design review by alice", "log design feedback",
		"log languages Go, C++ and Rust", "log languages go python", "log messaging orders via kafka",
		"log wire-format protobuf for payments", "log wire json", "log deploy paas heroku", "log deploy heroku",
		"log on call 2026-01-05", "log load test rps=2000 p95=1ms p99=2ms max=3ms",
		"settings", "settings nudge mon 9:30am", "settings nudge 12pm sun", "settings leaderboard off",
		"pause", "pause 3 weeks", "pause until 2026-03-01", "pause 2026-02-30", "resume", "stop",
		"admin enroll <#C123|eng>", "admin thresholds p95=1ms p99=2ms max=3ms", "admin thresholds reset",
		"admin nudge now <@U1>", "admin post leaderboard",
		"stauts", "done a\x00b", "done \xff", "done \u202e", "\u00a0status\u00a0", "do\u200bne x",
		"oncall " + strings.Repeat("2026-01-01..", 5), "loadtest " + strings.Repeat("p95=1ms ", 5),
		"log languages " + strings.Repeat("go, ", 12),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > maxFuzzLen {
			t.Skip()
		}
		cmd, err := Parse(text, today)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Msg == "" || !strings.HasPrefix(ue.Usage, "/path") {
				t.Fatalf("Parse(%q) error %#v is not a UsageError with a message and a usage", text, err)
			}
			if !reflect.DeepEqual(cmd, Command{}) {
				t.Fatalf("Parse(%q) returned %+v with an error", text, cmd)
			}
			return
		}
		again, err := Parse(text, today)
		if err != nil || !reflect.DeepEqual(cmd, again) {
			t.Fatalf("Parse(%q) is not deterministic: %+v then %+v, %v", text, cmd, again, err)
		}
		checkCommand(t, text, cmd)
	})
}

func checkCommand(t *testing.T, text string, cmd Command) {
	t.Helper()
	if len(text) > MaxLen || !utf8.ValidString(text) {
		t.Fatalf("Parse accepted %d bytes of text, valid UTF-8 %v", len(text), utf8.ValidString(text))
	}
	for _, s := range append([]string{cmd.Topic, cmd.Item, cmd.User, cmd.Channel, cmd.Load.Link, cmd.Clock}, entryStrings(cmd.Entries)...) {
		if strings.IndexFunc(s, unicode.IsControl) >= 0 || s != strings.TrimSpace(s) {
			t.Fatalf("Parse(%q) kept control characters or outer spaces in %q", text, s)
		}
	}
	switch cmd.Verb {
	case Status, Help, Next, List, Leaderboard, Resume, Stop, Settings, Admin, Pause:
	case Done, Undo, Skip:
		if cmd.Item == "" {
			t.Fatalf("Parse(%q) = %s with no item", text, cmd.Verb)
		}
	case Oncall:
		s := cmd.Shift
		if err := progress.ValidateShift(s, today); err != nil || s.To.Before(s.From) || s.To.After(today) || s.Part == "" {
			t.Fatalf("Parse(%q) gave an invalid shift %+v: %v", text, s, err)
		}
	case Loadtest:
		if err := progress.ValidateLoad(cmd.Load); err != nil {
			t.Fatalf("Parse(%q) gave an invalid load test %+v: %v", text, cmd.Load, err)
		}
		if l := cmd.Load.Link; l != "" && !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
			t.Fatalf("Parse(%q) kept a non-http link %q", text, l)
		}
	case Log:
		checkLog(t, text, cmd)
	default:
		t.Fatalf("Parse(%q) gave unknown verb %q", text, cmd.Verb)
	}
	switch {
	case cmd.Verb == Help:
		if _, ok := HelpFor(cmd.Topic); !ok {
			t.Fatalf("Parse(%q) gave help topic %q that has no help", text, cmd.Topic)
		}
	case cmd.Verb == Pause:
		weeks := cmd.Weeks >= 1 && cmd.Weeks <= MaxPauseWeeks && cmd.Until == (progress.Date{})
		until := cmd.Weeks == 0 && cmd.Until.After(today) && progress.DaysBetween(today, cmd.Until) <= 7*MaxPauseWeeks
		if !weeks && !until {
			t.Fatalf("Parse(%q) gave a bad pause: %d weeks, until %s", text, cmd.Weeks, cmd.Until)
		}
	case cmd.Verb == Settings && cmd.Topic == SettingNudge:
		if !clockRe.MatchString(cmd.Clock) {
			t.Fatalf("Parse(%q) gave clock %q", text, cmd.Clock)
		}
	case cmd.Verb == Admin && cmd.Thresholds != (progress.Thresholds{}):
		if err := progress.ValidateThresholds(cmd.Thresholds); err != nil {
			t.Fatalf("Parse(%q) gave invalid thresholds %+v: %v", text, cmd.Thresholds, err)
		}
	}
}

func checkLog(t *testing.T, text string, cmd Command) {
	t.Helper()
	if len(cmd.Entries) == 0 || cmd.Entry != cmd.Entries[0] || !progress.IsMilestone(cmd.Topic) {
		t.Fatalf("Parse(%q) gave log %q with entries %+v, entry %+v", text, cmd.Topic, cmd.Entries, cmd.Entry)
	}
	for _, e := range cmd.Entries {
		if e.Milestone != cmd.Topic {
			t.Fatalf("Parse(%q) entry %+v is not for %s", text, e, cmd.Topic)
		}
		var ok bool
		switch e.Milestone {
		case progress.Design:
			ok = e.Key == progress.KeyFeedback || ((e.Key == progress.KeyDoc || e.Key == progress.KeyReview) && e.Detail != "")
		case progress.Languages:
			id, err := progress.NormalizeLanguage(e.Key)
			ok = err == nil && id == e.Key
		case progress.Messaging:
			ok = e.Key != "" && e.Detail != ""
		case progress.WireFormat:
			id, err := progress.NormalizeWireFormat(e.Key)
			ok = err == nil && id == e.Key
		case progress.Deploy:
			ok = (e.Key == progress.KeyPaaS || e.Key == progress.KeyIaaS) && e.Detail != ""
		}
		if !ok {
			t.Fatalf("Parse(%q) gave an entry the rules would not count: %+v", text, e)
		}
	}
}

func entryStrings(entries []progress.Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Key, e.Detail)
	}
	return out
}
