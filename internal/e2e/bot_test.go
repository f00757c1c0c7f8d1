package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/slackemu"
)

func TestReadingsRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	h.expect(t, "help", "/path status", "/path done")
	h.expect(t, "done tail-at-scale", "is done", "1/23 readings")
	h.expect(t, "status", "Readings 1/23")
	h.expect(t, "undo tail-at-scale", "no longer marked", "0/23 readings done")
	h.expect(t, "status", "Readings 0/23")
}

func TestOncallShiftCountsItsDays(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// A week that ended well in the past, wherever the bot thinks "today" is.
	from := time.Now().UTC().AddDate(0, 0, -40)
	to := from.AddDate(0, 0, 6)
	h.expect(t, "oncall "+from.Format(time.DateOnly)+".."+to.Format(time.DateOnly), "Logged on-call", "on-call 7/21 days")
	h.expect(t, "status", "on-call 7/21 days")
}

// TestBadInputIsAnsweredAtOnce: a mistake gets a friendly explanation inside Slack's 3-second
// window, never Slack's own "dispatch_failed".
func TestBadInputIsAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, text := range []string{
		"oncall 2099-01-01..2099-01-02",
		"loadtest rps=abc",
		"done no-such-reading-anywhere",
		"frobnicate",
	} {
		res, err := h.emu.SlashCommand(ctx(t, 10*time.Second), user, "", "/path", text)
		if err != nil {
			t.Fatalf("/path %s: %v", text, err)
		}
		if !res.Acked || res.Error != "" {
			t.Errorf("/path %s: acked %v, error %q; want an ack and no error", text, res.Acked, res.Error)
			continue
		}
		if res.AckLatency >= 3*time.Second {
			t.Errorf("/path %s: acked after %s, past Slack's 3 s", text, res.AckLatency)
		}
		if !res.Answered || res.AnsweredAt.Sub(res.Sent) >= 3*time.Second {
			t.Errorf("/path %s: answered %v after %s; want an answer within 3 s", text, res.Answered, res.AnsweredAt.Sub(res.Sent))
		}
		if got := shown(res); !strings.Contains(got, ":warning:") || !strings.Contains(got, "/path") {
			t.Errorf("/path %s: want a warning that shows the right form, got:\n%s", text, got)
		}
	}
	h.expect(t, "status", "Readings 0/23", "on-call 0/21 days")
}

// TestReconnectsWhenTheLinkGoes covers both ways Slack ends a link: the announced refresh and a
// connection that just drops.
func TestReconnectsWhenTheLinkGoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, tc := range []struct {
		name string
		cut  func()
		item string
	}{
		{"refresh_requested", func() { h.emu.Disconnect("refresh_requested") }, "tail-at-scale"},
		{"dropped", h.emu.DropConnections, "dynamo"},
	} {
		opened := h.emu.Stats().LinksOpened
		tc.cut()
		if err := h.emu.WaitConnections(ctx(t, 20*time.Second), 1); err != nil {
			t.Fatalf("%s: the bot did not reconnect: %v", tc.name, err)
		}
		if got := h.emu.Stats().LinksOpened; got <= opened {
			t.Fatalf("%s: links opened %d, want more than %d", tc.name, got, opened)
		}
		h.expect(t, "done "+tc.item, "is done")
	}
	h.expect(t, "status", "Readings 2/23")
}

// TestRateLimitedAnswerStillArrives: a 429 on the response_url is waited out, as Retry-After
// says, and the click's answer still reaches the user.
func TestRateLimitedAnswerStillArrives(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	next := h.expect(t, "next", slackbotActionDone)
	msg, ok := messageWith(next, slackbotActionDone)
	if !ok {
		t.Fatalf("/path next shows no Done button:\n%s", shown(next))
	}

	const retryAfter = time.Second
	h.emu.RateLimit("response_url", 1, retryAfter)
	res, err := h.emu.ClickButton(ctx(t, 15*time.Second), user, msg, slackbotActionDone)
	if err != nil {
		t.Fatalf("click Done: %v", err)
	}
	if res.Error != "" || !res.Answered {
		t.Fatalf("click Done: error %q, answered %v", res.Error, res.Answered)
	}
	if waited := res.AnsweredAt.Sub(res.Sent); waited < retryAfter {
		t.Errorf("answered %s after the click, before Retry-After (%s) had passed", waited, retryAfter)
	}
	if got := h.emu.Stats().APIResults["response_url"]["429"]; got != 1 {
		t.Errorf("response_url 429s = %d, want 1", got)
	}
	if got := shown(res); !strings.Contains(got, "is done") {
		t.Errorf("the click's answer does not say the reading is done:\n%s", got)
	}
	// replace_original: the suggestion became the confirmation, in place.
	if m, ok := findMessage(h.emu, msg); !ok || !strings.Contains(m.Text, "is done") {
		t.Errorf("the suggestion was not replaced by the confirmation: %+v", m)
	}
	h.expect(t, "status", "Readings 1/23")
}

func TestAppHomeShowsProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	h.expect(t, "done tail-at-scale", "is done")
	if err := h.emu.OpenAppHome(ctx(t, 10*time.Second), user); err != nil {
		t.Fatalf("open App Home: %v", err)
	}
	home := waitHome(t, h.emu, user)
	for _, want := range []string{"Your senior engineer path", "Readings 1/23", slackbotActionDone} {
		if !strings.Contains(home, want) {
			t.Errorf("App Home lacks %q:\n%s", want, home)
		}
	}

	// Someone who never used /path is welcomed rather than shown zeros.
	const newcomer = "U0BEN"
	if err := h.emu.OpenAppHome(ctx(t, 10*time.Second), newcomer); err != nil {
		t.Fatalf("open App Home as %s: %v", newcomer, err)
	}
	if home := waitHome(t, h.emu, newcomer); !strings.Contains(home, "Welcome to pathbot") {
		t.Errorf("App Home for a newcomer lacks the welcome:\n%s", home)
	}
}

// slackbotActionDone is the action_id of the Done button (slackbot.ActionDone); spelled out so
// that renaming it breaks this test, as it would break messages already sent.
const slackbotActionDone = "reading_done"

// messageWith returns the message of res whose blocks have an element with actionID.
func messageWith(res *slackemu.Result, actionID string) (slackemu.Message, bool) {
	for _, m := range res.Messages {
		if strings.Contains(string(m.Blocks), `"action_id":"`+actionID+`"`) {
			return m, true
		}
	}
	return slackemu.Message{}, false
}

// findMessage looks msg up again in its conversation, to see what it shows now.
func findMessage(emu *slackemu.Server, msg slackemu.Message) (slackemu.Message, bool) {
	for _, m := range emu.Messages(msg.Channel) {
		if m.TS == msg.TS {
			return m, true
		}
	}
	return slackemu.Message{}, false
}

// waitHome waits for the Home tab the bot publishes after app_home_opened was acked.
func waitHome(t *testing.T, emu *slackemu.Server, userID string) string {
	t.Helper()
	var view json.RawMessage
	err := emu.WaitFor(ctx(t, 10*time.Second), func() bool {
		v, ok := emu.HomeView(userID)
		view = v
		return ok
	})
	if err != nil {
		t.Fatalf("no Home tab published for %s: %v", userID, err)
	}
	return string(view)
}
