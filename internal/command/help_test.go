package command

import (
	"slices"
	"strings"
	"testing"

	"github.com/pathbot/pathbot/internal/progress"
)

func TestHelpIndex(t *testing.T) {
	t.Parallel()
	index := HelpIndex()
	var got []Verb
	for _, e := range index {
		got = append(got, e.Verb)
	}
	if !slices.Equal(got, Verbs()) {
		t.Fatalf("HelpIndex verbs = %v, want %v", got, Verbs())
	}
	for _, e := range index {
		t.Run(string(e.Verb), func(t *testing.T) {
			t.Parallel()
			if !strings.HasPrefix(e.Usage, "/path "+string(e.Verb)) || e.Summary == "" {
				t.Errorf("entry %+v: want a usage starting /path %s and a summary", e, e.Verb)
			}
			cmd, err := Parse(strings.TrimPrefix(e.Example, "/path"), today)
			if err != nil || cmd.Verb != e.Verb {
				t.Errorf("example %q parses to %+v, %v; want verb %s", e.Example, cmd, err, e.Verb)
			}
		})
	}
}

// TestHelpExamplesParse keeps help honest: every example it shows must be accepted, and lead
// where its topic says.
func TestHelpExamplesParse(t *testing.T) {
	t.Parallel()
	for key, doc := range topics {
		for _, f := range doc.forms {
			t.Run(key+": "+f.example, func(t *testing.T) {
				t.Parallel()
				if !strings.HasPrefix(f.usage, "/path") || !strings.HasPrefix(f.example, "/path") {
					t.Errorf("form %+v must start with /path", f)
				}
				cmd, err := Parse(strings.TrimPrefix(f.example, "/path"), today)
				if err != nil {
					t.Fatalf("example %q: %v", f.example, err)
				}
				switch {
				case progress.IsMilestone(key) && key != progress.OnCall && key != progress.LoadTest:
					if cmd.Verb != Log || cmd.Topic != key {
						t.Errorf("example %q parses to %s %s, want log %s", f.example, cmd.Verb, cmd.Topic, key)
					}
				case key == HelpPoints:
				default:
					if string(cmd.Verb) != key {
						t.Errorf("example %q parses to verb %s, want %s", f.example, cmd.Verb, key)
					}
				}
			})
		}
	}
}

func TestHelpFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		topic    string
		wantOK   bool
		contains string
	}{
		{"", true, "/path status [@someone]"},
		{"oncall", true, "/path oncall 2026-01-05..2026-01-11 night"},
		{"ON-CALL", true, "a day plus a night on the same date make one"},
		{"load", true, "more than 1,000 req/s with p95 ≤ 200ms, p99 ≤ 500ms and max ≤ 2s"},
		{"log", true, "/path log wire-format <format> [for <service>]"},
		{"ls", true, "/path list talks"},
		{"/path done", true, "/path done The Tail at Scale"},
		{"design", true, "/path log design review @alice @bob"},
		{"log design", true, "/path log design feedback"},
		{"wire format", true, "JSON, XML and formats built on them"},
		{"wire", true, "protobuf"},
		{"languages", true, "/path log languages Go, Python"},
		{"messaging", true, "/path log messaging order-service via Kafka"},
		{"deploy", true, "/path log deploy iaas AWS EC2"},
		{"points", true, "a training is worth 8, a book 5, an essay or paper 3, a talk 2, and each milestone 20"},
		{"streak", true, "weeks in a row"},
		{"admin", true, "/path admin thresholds p95=250ms p99=600ms max=2s"},
		{"settings", true, "/path settings leaderboard off"},
		{"pause", true, "at most 52 weeks"},
		{"frobnicate", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			t.Parallel()
			text, ok := HelpFor(tt.topic)
			if ok != tt.wantOK || !strings.Contains(text, tt.contains) {
				t.Errorf("HelpFor(%q) = %q, %v; want ok %v and text containing %q", tt.topic, text, ok, tt.wantOK, tt.contains)
			}
		})
	}
}

func TestEveryVerbAndMilestoneHasHelp(t *testing.T) {
	t.Parallel()
	var topicsWanted []string
	for _, v := range Verbs() {
		topicsWanted = append(topicsWanted, string(v))
	}
	topicsWanted = append(topicsWanted, progress.MilestoneIDs()...)
	topicsWanted = append(topicsWanted, HelpPoints)
	for _, topic := range topicsWanted {
		t.Run(topic, func(t *testing.T) {
			t.Parallel()
			text, ok := HelpFor(topic)
			if !ok || !strings.Contains(text, "e.g. /path") {
				t.Errorf("HelpFor(%q) = %q, %v; want help with an example", topic, text, ok)
			}
			if cmd, err := Parse("help "+topic, today); err != nil || cmd.Topic != topic {
				t.Errorf("Parse(help %s) = %+v, %v; want topic %s", topic, cmd, err, topic)
			}
		})
	}
}

func TestUsageFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		topic string
		want  string
	}{
		{"next", "/path next"},
		{"done", "/path done <reading>, e.g. /path done The Tail at Scale"},
		{"log", "/path log <milestone> <details>, e.g. /path log languages Go, Python; " +
			"/path log design doc <link>, e.g. /path log design doc https://docs.example.com/payments-v2; " +
			"/path log design review <reviewers>, e.g. /path log design review @alice @bob; /path help log shows the rest"},
		{"nonsense", ""},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			t.Parallel()
			if got := usageFor(tt.topic); got != tt.want {
				t.Errorf("usageFor(%q) = %q, want %q", tt.topic, got, tt.want)
			}
		})
	}
}
