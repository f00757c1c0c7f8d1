package slackemu

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// slackErr asserts err is the Slack API error code want and returns it.
func slackErr(t *testing.T, err error, want string) slack.SlackErrorResponse {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != want {
		t.Fatalf("error = %v, want Slack error %q", err, want)
	}
	return se
}

func TestAppTokenOnBotMethodRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	api := slack.New(s.Config().AppToken, slack.OptionAPIURL(s.APIURL()))
	_, _, err := api.PostMessage(GeneralChannelID, slack.MsgOptionText("hi", false))
	slackErr(t, err, "not_allowed_token_type")
	if len(s.Messages(GeneralChannelID)) != 0 {
		t.Error("refused message was stored")
	}
}

func TestBotTokenOnConnectionsOpenRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	api := slack.New(s.Config().BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.Config().BotToken))
	_, _, err := api.StartSocketModeContext(testCtx(t, 5*time.Second))
	slackErr(t, err, "invalid_auth")
}

func TestConnectionsOpenTokenOnlyAsFormParamRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	resp, err := http.PostForm(s.APIURL()+"apps.connections.open", url.Values{"token": {s.Config().AppToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || body.OK || body.Error != "not_authed" {
		t.Errorf("status %d body %+v, want 200 not_authed", resp.StatusCode, body)
	}
}

func TestWebAPIAuthErrors(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	for token, want := range map[string]string{"": "not_authed", "xoxb-wrong": "invalid_auth"} {
		_, err := slack.New(token, slack.OptionAPIURL(s.APIURL())).AuthTest()
		slackErr(t, err, want)
	}
	resp, err := http.PostForm(s.APIURL()+"chat.scheduleMessage", url.Values{"token": {s.Config().BotToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if body["error"] != "unknown_method" {
		t.Errorf("unknown method answered %v", body)
	}
	who, err := botAPI(s).AuthTest()
	if err != nil || who.UserID != "U0PATHBOT" || who.BotID != "B0PATHBOT" || who.TeamID != "T0PATHBOT" {
		t.Errorf("auth.test = %+v, %v", who, err)
	}
}

func TestMessageOverFiftyBlocksRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	blocks := make([]slack.Block, 51)
	for i := range blocks {
		blocks[i] = section("step")
	}
	_, _, err := botAPI(s).PostMessage(GeneralChannelID, slack.MsgOptionBlocks(blocks...))
	se := slackErr(t, err, "invalid_blocks")
	if len(se.ResponseMetadata.Messages) == 0 || !strings.Contains(se.ResponseMetadata.Messages[0], "[json-pointer:/blocks]") {
		t.Errorf("response_metadata = %+v", se.ResponseMetadata)
	}
	if _, _, err := botAPI(s).PostMessage(GeneralChannelID, slack.MsgOptionBlocks(blocks[:50]...)); err != nil {
		t.Errorf("50 blocks refused: %v", err)
	}
}

func TestSectionTextOver3000Refused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	_, _, err := botAPI(s).PostMessage(GeneralChannelID, slack.MsgOptionBlocks(section(strings.Repeat("é", 3001))))
	se := slackErr(t, err, "invalid_blocks")
	if !strings.Contains(se.ResponseMetadata.Messages[0], "/blocks/0/text/text") {
		t.Errorf("messages = %v", se.ResponseMetadata.Messages)
	}
	if _, _, err := botAPI(s).PostMessage(GeneralChannelID, slack.MsgOptionBlocks(section(strings.Repeat("é", 3000)))); err != nil {
		t.Errorf("3000 characters refused: %v", err)
	}
}

func TestBlockKitRulesRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := map[string]string{
		"unknown block":      `[{"type":"carousel_of_doom"}]`,
		"header too long":    `[{"type":"header","text":{"type":"plain_text","text":"` + long(151) + `"}}]`,
		"header mrkdwn":      `[{"type":"header","text":{"type":"mrkdwn","text":"hi"}}]`,
		"bad text type":      `[{"type":"section","text":{"type":"markdown","text":"hi"}}]`,
		"empty section":      `[{"type":"section"}]`,
		"eleven fields":      `[{"type":"section","fields":[` + strings.Repeat(`{"type":"mrkdwn","text":"f"},`, 10) + `{"type":"mrkdwn","text":"f"}]}]`,
		"duplicate block_id": `[{"type":"divider","block_id":"a"},{"type":"divider","block_id":"a"}]`,
		"long block_id":      `[{"type":"divider","block_id":"` + long(256) + `"}]`,
		"button text":        `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"` + long(76) + `"}}]}]`,
		"button style":       `[{"type":"actions","elements":[{"type":"button","style":"green","text":{"type":"plain_text","text":"Go"}}]}]`,
		"button value":       `[{"type":"actions","elements":[{"type":"button","value":"` + long(2001) + `","text":{"type":"plain_text","text":"Go"}}]}]`,
		"duplicate action":   `[{"type":"actions","elements":[{"type":"button","action_id":"x","text":{"type":"plain_text","text":"A"}},{"type":"button","action_id":"x","text":{"type":"plain_text","text":"B"}}]}]`,
		"26 actions":         `[{"type":"actions","elements":[` + strings.Repeat(`{"type":"button","text":{"type":"plain_text","text":"A"}},`, 25) + `{"type":"button","text":{"type":"plain_text","text":"A"}}]}]`,
		"11 context":         `[{"type":"context","elements":[` + strings.Repeat(`{"type":"mrkdwn","text":"c"},`, 10) + `{"type":"mrkdwn","text":"c"}]}]`,
		"select initial":     `[{"type":"actions","elements":[{"type":"static_select","options":[{"text":{"type":"plain_text","text":"A"},"value":"a"}],"initial_option":{"text":{"type":"plain_text","text":"B"},"value":"b"}}]}]`,
		"bad date":           `[{"type":"actions","elements":[{"type":"datepicker","initial_date":"2026-13-40"}]}]`,
		"image no alt":       `[{"type":"image","image_url":"https://example.com/a.png"}]`,
	}
	for name, blocks := range cases {
		body := rawCall(t, s, "chat.postMessage", url.Values{
			"token": {s.Config().BotToken}, "channel": {GeneralChannelID}, "text": {"fallback"}, "blocks": {blocks},
		})
		if body["ok"] != false || body["error"] != "invalid_blocks" {
			t.Errorf("%s: answered %v, want invalid_blocks", name, body)
		}
	}
	_, _, err := botAPI(s).PostMessage(GeneralChannelID)
	slackErr(t, err, "no_text")
	_, _, err = botAPI(s).PostMessage(GeneralChannelID, slack.MsgOptionText(long(40001), false))
	slackErr(t, err, "msg_too_long")
	if n := len(s.Messages(GeneralChannelID)); n != 0 {
		t.Errorf("%d refused messages stored", n)
	}
}

// rawCall posts a form to a Web API method, for arguments slack-go would not build.
func rawCall(t *testing.T, s *Server, method string, form url.Values) map[string]any {
	t.Helper()
	resp, err := http.PostForm(s.APIURL()+method, form)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return body
}

func TestChatMethodsAndConversations(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	api := botAPI(s)
	ch, ts, err := api.PostMessage("U0ASHA", slack.MsgOptionText("Welcome <@U0ASHA> &amp; friends", false))
	if err != nil || ch != s.DMChannel("U0ASHA") || ts == "" {
		t.Fatalf("post to user id: %s %s %v", ch, ts, err)
	}
	if ch2, _, err := api.PostMessage("#path-leaderboard", slack.MsgOptionText("Top 3", false)); err != nil || ch2 != LeaderboardChannelID {
		t.Errorf("post to #name: %s %v", ch2, err)
	}
	if _, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText("Welcome back", false)); err != nil {
		t.Fatalf("chat.update: %v", err)
	}
	if m := s.Messages(ch); len(m) != 1 || m[0].Text != "Welcome back" || !m[0].Updated || m[0].Source != "chat.update" {
		t.Errorf("after update: %+v", m)
	}
	if _, _, _, err := api.UpdateMessage(ch, "1.000001", slack.MsgOptionText("x", false)); err == nil {
		t.Error("update of a missing message accepted")
	} else {
		slackErr(t, err, "message_not_found")
	}
	if _, err := api.PostEphemeral(GeneralChannelID, "U0BEN", slack.MsgOptionText("psst", false)); err != nil {
		t.Fatalf("chat.postEphemeral: %v", err)
	}
	if m := s.Messages(GeneralChannelID); len(m) != 1 || !m[0].Ephemeral || m[0].VisibleTo != "U0BEN" {
		t.Errorf("ephemeral = %+v", m)
	}
	private := s.AddChannel("#staff-only", "U0BEN")
	_, err = api.PostEphemeral(private, "U0ASHA", slack.MsgOptionText("psst", false))
	slackErr(t, err, "user_not_in_channel")
	_, _, err = api.PostMessage("C0NOPE", slack.MsgOptionText("x", false))
	slackErr(t, err, "channel_not_found")

	im, noOp, already, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U0CLARA"}, ReturnIM: true})
	if err != nil || im.ID != s.DMChannel("U0CLARA") || !im.IsIM || im.User != "U0CLARA" {
		t.Fatalf("conversations.open: %+v %v %v %v", im, noOp, already, err)
	}
	_, err = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C0NOPE"})
	slackErr(t, err, "channel_not_found")
	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: GeneralChannelID, IncludeNumMembers: true})
	if err != nil || info.Name != "general" || !info.IsGeneral || info.NumMembers != 8 {
		t.Errorf("conversations.info = %+v, %v", info, err)
	}
	var members []string
	cursor := ""
	pages := 0
	for {
		page, next, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: GeneralChannelID, Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatalf("conversations.members: %v", err)
		}
		members, cursor, pages = append(members, page...), next, pages+1
		if cursor == "" {
			break
		}
	}
	if len(members) != 8 || pages != 3 {
		t.Errorf("members %v over %d pages", members, pages)
	}
	_, _, err = api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: GeneralChannelID, Cursor: "garbage"})
	slackErr(t, err, "invalid_cursor")
}

func TestUsersInfoAndList(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	api := botAPI(s)
	u, err := api.GetUserInfo("U0ASHA")
	if err != nil {
		t.Fatal(err)
	}
	if u.TZ != "Asia/Kolkata" || u.TZLabel != "India Standard Time" || u.TZOffset != 19800 ||
		u.Profile.DisplayName != "Asha" || u.RealName != "Asha Iyer" || u.IsAdmin || u.Deleted {
		t.Errorf("users.info = %+v", u)
	}
	la, err := api.GetUserInfo("U0BEN")
	if err != nil || !la.IsAdmin || (la.TZOffset != -28800 && la.TZOffset != -25200) {
		t.Errorf("admin = %+v, %v", la, err)
	}
	_, err = api.GetUserInfo("U0NOBODY")
	slackErr(t, err, "user_not_found")

	s.SetUser(User{ID: "U0ASHA", Name: "asha", RealName: "Asha Iyer", DisplayName: "Asha", TZ: "Europe/Berlin", Deleted: true})
	u, err = api.GetUserInfo("U0ASHA")
	if err != nil || !u.Deleted || u.TZ != "Europe/Berlin" || (u.TZOffset != 3600 && u.TZOffset != 7200) {
		t.Errorf("after SetUser: %+v, %v", u, err)
	}

	all, err := api.GetUsersContext(testCtx(t, 5*time.Second), slack.GetUsersOptionLimit(3))
	if err != nil || len(all) != 8 {
		t.Fatalf("users.list: %d users, %v", len(all), err)
	}
	if all[0].ID != "U0PATHBOT" || !all[0].IsBot {
		t.Errorf("first member = %+v, want the bot", all[0])
	}
}

func TestSustainedMethodLimit(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	s.SetMethodLimit("chat.postMessage", 2)
	api := botAPI(s)
	for i := range 2 {
		if _, _, err := api.PostMessage(GeneralChannelID, slack.MsgOptionText("hi", false)); err != nil {
			t.Fatalf("call %d within the limit: %v", i+1, err)
		}
	}
	_, _, err := api.PostMessage(GeneralChannelID, slack.MsgOptionText("hi", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < 29*time.Second || rl.RetryAfter > 30*time.Second {
		t.Fatalf("third call: %v, want 429 with Retry-After about 30s", err)
	}
	if _, err := api.AuthTest(); err != nil {
		t.Errorf("other methods must stay unlimited: %v", err)
	}
	if s.Calls("chat.postMessage") != 3 || s.Stats().APIResults["chat.postMessage"]["429"] != 1 {
		t.Errorf("calls %d, results %v", s.Calls("chat.postMessage"), s.Stats().APIResults["chat.postMessage"])
	}
}

func TestHistoryIsBounded(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{HistoryLimit: 8, MaxMessages: 12})
	api := botAPI(s)
	var last string
	for i := range 30 {
		ch := GeneralChannelID
		if i%2 == 1 {
			ch = LeaderboardChannelID
		}
		_, ts, err := api.PostMessage(ch, slack.MsgOptionText("msg", false))
		if err != nil {
			t.Fatal(err)
		}
		last = ts
	}
	if n := len(s.Messages(GeneralChannelID)); n > 10 {
		t.Errorf("#general keeps %d messages, want at most HistoryLimit plus slack", n)
	}
	err := s.WaitFor(testCtx(t, 5*time.Second), func() bool {
		return len(s.Messages(GeneralChannelID))+len(s.Messages(LeaderboardChannelID)) <= 12
	})
	if err != nil {
		t.Fatalf("workspace history not trimmed to MaxMessages: %v", err)
	}
	lb := s.Messages(LeaderboardChannelID)
	if len(lb) == 0 || lb[len(lb)-1].TS != last {
		t.Errorf("newest message lost: %+v", lb)
	}
}

func TestConversationsHistorySkipsEphemerals(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	api := botAPI(s)
	var stamps []string
	for _, text := range []string{"one", "two", "three"} {
		_, ts, err := api.PostMessage(LeaderboardChannelID, slack.MsgOptionText(text, false))
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, ts)
	}
	if _, err := api.PostEphemeral(LeaderboardChannelID, "U0ASHA", slack.MsgOptionText("secret", false)); err != nil {
		t.Fatal(err)
	}
	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: LeaderboardChannelID, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[0].Text != "three" || h.Messages[1].Text != "two" || !h.HasMore {
		t.Errorf("history = %+v (has_more %v)", h.Messages, h.HasMore)
	}
	h, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: LeaderboardChannelID, Oldest: stamps[0]})
	if err != nil || len(h.Messages) != 2 || h.Messages[1].Timestamp != stamps[1] {
		t.Errorf("history after the first message = %+v, %v", h, err)
	}
}
