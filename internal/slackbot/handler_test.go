package slackbot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// users is a fixed directory: Slack's users.info is outside what these tests are about.
type users map[string]Profile

func (u users) Profile(_ context.Context, id string) (Profile, error) { return u[id], nil }

func (u users) ChannelMembers(context.Context, string) ([]string, error) {
	var ids []string
	for id := range u {
		ids = append(ids, id)
	}
	return ids, nil
}

type bundle struct {
	h  *Handler
	db *store.DB
}

func setup(t *testing.T) bundle {
	t.Helper()
	cur, err := curriculum.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	db := store.New(pgtest.NewPool(t))
	h := &Handler{
		Curriculum: cur,
		Store:      db,
		Users:      users{"UEVIL": {ID: "UEVIL", DisplayName: "<!channel> & <@U0BOSS> <https://evil.example|click>"}},
		Thresholds: progress.DefaultThresholds,
		Now:        func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
	}
	return bundle{h: h, db: db}
}

func slash(user, text string) slack.SlashCommand {
	return slack.SlashCommand{TeamID: "T1", UserID: user, Command: "/path", Text: text, TriggerID: "trig-" + user + "-" + text + "-" + time.Now().Format(time.RFC3339Nano)}
}

// render is what Slack would receive: the JSON of the blocks and the fallback text.
func render(t *testing.T, r Reply) string {
	t.Helper()
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.ack()); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func run(t *testing.T, b bundle, sc slack.SlashCommand) string {
	t.Helper()
	r, _, err := b.h.Slash(context.Background(), sc)
	if err != nil {
		t.Fatalf("/path %s: %v", sc.Text, err)
	}
	checkLimits(t, r)
	return render(t, r)
}

// checkLimits asserts the Block Kit limits Slack enforces on a message.
func checkLimits(t *testing.T, r Reply) {
	t.Helper()
	if len(r.Blocks) == 0 || len(r.Blocks) > 50 {
		t.Fatalf("%d blocks", len(r.Blocks))
	}
	if r.Text == "" || len(r.Text) > 4000 {
		t.Fatalf("fallback text length %d", len(r.Text))
	}
	for _, bl := range r.Blocks {
		switch b := bl.(type) {
		case *slack.SectionBlock:
			if b.Text != nil && (len([]rune(b.Text.Text)) > 3000 || b.Text.Text == "") {
				t.Fatalf("section text of %d chars", len(b.Text.Text))
			}
			if len(b.Fields) > 10 {
				t.Fatalf("%d fields", len(b.Fields))
			}
		case *slack.HeaderBlock:
			if len([]rune(b.Text.Text)) > 150 {
				t.Fatalf("header of %d chars", len(b.Text.Text))
			}
		}
	}
}

func TestDoneStatusUndo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := run(t, b, slash("U1", "done tail-at-scale"))
	if !strings.Contains(out, "The Tail at Scale") || !strings.Contains(out, "1/23") {
		t.Fatalf("done answer: %s", out)
	}
	out = run(t, b, slash("U1", "status"))
	if !strings.Contains(out, "Readings 1/23") || !strings.Contains(out, "Milestones 0/7") || !strings.Contains(out, "essays 1/12") {
		t.Fatalf("status answer: %s", out)
	}
	out = run(t, b, slash("U1", "undo 17"))
	if !strings.Contains(out, "no longer marked") || !strings.Contains(out, "0/23") {
		t.Fatalf("undo answer: %s", out)
	}
}

func TestDeliveredTwiceCountedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := slash("U1", "oncall 2026-11-01..2026-11-07")
	first := run(t, b, sc)
	second := run(t, b, sc) // Slack redelivers the very same envelope
	if !strings.Contains(first, "7/21") || !strings.Contains(second, "7/21") {
		t.Fatalf("answers:\n%s\n%s", first, second)
	}
	s, err := b.db.Snapshot(context.Background(), store.Member{TeamID: "T1", UserID: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Shifts) != 1 || progress.OncallDays(s.Shifts) != 7 {
		t.Fatalf("stored shifts = %+v", s.Shifts)
	}
}

func TestHostileDisplayNameIsEscaped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run(t, b, slash("UEVIL", "done dynamo"))
	r, _, err := b.h.Slash(context.Background(), slash("U1", "status <@UEVIL|evil>"))
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, r)
	for _, bad := range []string{"<!channel>", "<@U0BOSS>", "<https://evil"} {
		if strings.Contains(out, bad) || strings.Contains(r.Text, bad) {
			t.Fatalf("answer contains %q unescaped: %s", bad, out)
		}
	}
	if !strings.Contains(out, "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;") {
		t.Fatalf("display name not rendered escaped: %s", out)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := []string{
		"done no-such-thing",
		"oncall 2026-02-30..2026-03-02",
		"oncall 2026-03-10..2026-03-01",
		"oncall 2024-01-01..2025-06-01",
		"oncall 2027-01-01..2027-01-02",
		"loadtest rps=abc p95=1ms p99=2ms max=3ms",
		"loadtest rps=-5 p95=1ms p99=2ms max=3ms",
		"loadtest rps=2000 p95=100 p99=200ms max=1s",
		"loadtest rps=2000 p95=600ms p99=200ms max=1s",
		"log wire-format json",
		"log wire-format XML",
		strings.Repeat("x", 10*1024),
		"done \x00\x07 dynamo",
		"frobnicate",
	}
	for _, text := range bad {
		r, _, err := b.h.Slash(context.Background(), slash("U9", text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		checkLimits(t, r)
		if !strings.Contains(r.Text, ":warning:") {
			t.Errorf("%.40q: answer is not an error: %s", text, r.Text)
		}
	}
	s, err := b.db.Snapshot(context.Background(), store.Member{TeamID: "T1", UserID: "U9"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Readings)+len(s.Entries)+len(s.Shifts) != 0 {
		t.Fatalf("bad input wrote something: %+v", s)
	}
}

func TestMilestonesThroughCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	steps := []struct{ text, want string }{
		{"loadtest rps=1000 p95=100ms p99=200ms max=1s", "doesn't clear the bar"},
		{"loadtest rps=1001 p95=100ms p99=200ms max=1s", "milestone complete"},
		{"log languages go", "1/2"},
		{"log languages python", "milestone complete"},
		{"oncall 2026-11-01..2026-11-20", "20/21"},
		{"oncall 2026-11-21 day", "20.5/21"},
		{"oncall 2026-11-21 night", "milestone complete"},
	}
	for _, s := range steps {
		out := run(t, b, slash("U5", s.text))
		if !strings.Contains(out, s.want) {
			t.Fatalf("/path %s: want %q in %s", s.text, s.want, out)
		}
	}
	out := run(t, b, slash("U5", "status"))
	if !strings.Contains(out, "Milestones 3/7") {
		t.Fatalf("status: %s", out)
	}
}

func TestHelpListNext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range []struct{ text, want string }{
		{"help", "/path done"},
		{"help oncall", "oncall"},
		{"list", "tail-at-scale"},
		{"list books", "Release It"},
		{"list milestones", "wire-format"},
		{"next", "Networking for Web Developers"},
		{"", "Readings 0/23"},
	} {
		out := run(t, b, slash("U6", c.text))
		if !strings.Contains(out, c.want) {
			t.Errorf("/path %s: want %q in %s", c.text, c.want, out)
		}
	}
}

func TestButtonsAreIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	r1, err := b.h.Action(ctx, "T1", "U7", "click-1", ActionDone, "dynamo")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.h.Action(ctx, "T1", "U7", "click-2", ActionDone, "dynamo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r1.Text, "is done") || !strings.Contains(r2.Text, "already marked done") {
		t.Fatalf("clicks: %q / %q", r1.Text, r2.Text)
	}
	s, _ := b.db.Snapshot(ctx, store.Member{TeamID: "T1", UserID: "U7"})
	if len(s.Done()) != 1 {
		t.Fatalf("done = %v", s.Done())
	}
}
