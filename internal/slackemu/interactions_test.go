package slackemu

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func TestResponseURLSixthUseRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	urls := make(chan string, 1)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt)
			urls <- evt.Data.(slack.SlashCommand).ResponseURL
		}
	})
	s.SlashCommandAsync("U0ASHA", "", "/path", "", func(*Result) {})
	url := <-urls
	for i := range maxResponseURLUses {
		if _, _, err := bot.api.PostMessage("", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
			slack.MsgOptionText("update", false)); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	_, _, err := bot.api.PostMessage("", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("one more", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Fatalf("sixth use: %v, want HTTP 404", err)
	}
	if st := s.Stats(); st.APIResults["response_url"]["used_url"] != 1 {
		t.Errorf("results = %v", st.APIResults["response_url"])
	}
	if n := len(s.Messages(s.DMChannel("U0ASHA"))); n != maxResponseURLUses {
		t.Errorf("%d messages stored, want %d", n, maxResponseURLUses)
	}
}

func TestResponseURLReplaceAndDeleteOriginal(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	urls := make(chan string, 1)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt, map[string]any{"text": "Working on it…"})
			urls <- evt.Data.(slack.SlashCommand).ResponseURL
		}
	})
	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0EMI", "", "/path", "")
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("command: %+v %v", res, err)
	}
	url := <-urls
	if _, _, err := bot.api.PostMessage("", slack.MsgOptionReplaceOriginal(url), slack.MsgOptionText("Done: 3 steps left", false)); err != nil {
		t.Fatalf("replace_original: %v", err)
	}
	hist := s.Messages(s.DMChannel("U0EMI"))
	if len(hist) != 1 || hist[0].TS != res.Messages[0].TS || hist[0].Text != "Done: 3 steps left" || !hist[0].Updated || !hist[0].Ephemeral {
		t.Fatalf("after replace: %+v", hist)
	}
	if _, _, err := bot.api.PostMessage("", slack.MsgOptionDeleteOriginal(url)); err != nil {
		t.Fatalf("delete_original: %v", err)
	}
	if hist := s.Messages(s.DMChannel("U0EMI")); len(hist) != 0 {
		t.Errorf("after delete: %+v", hist)
	}
}

func TestBlockActionsRoundTrip(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	clicks := make(chan slack.InteractionCallback, 1)
	reqs := make(chan socketmode.Request, 1)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeInteractive {
			return
		}
		cb := evt.Data.(slack.InteractionCallback)
		clicks <- cb
		reqs <- *evt.Request
		b.ack(t, evt)
		go func() {
			_, _, err := b.api.PostMessage("", slack.MsgOptionReplaceOriginal(cb.ResponseURL),
				slack.MsgOptionText("Step 3 marked done ✅", false))
			if err != nil {
				t.Errorf("replace via response_url: %v", err)
			}
		}()
	})
	done := slack.NewButtonBlockElement("step_done", "step-3", slack.NewTextBlockObject(slack.PlainTextType, "Mark done", false, false))
	done.Style = slack.StylePrimary
	ch, ts, err := bot.api.PostMessage("U0ASHA", slack.MsgOptionText("Step 3: write a design doc", false),
		slack.MsgOptionBlocks(section("*Step 3*: write a design doc"), slack.NewActionBlock("step_actions", done)))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	msg := s.Messages(ch)[0]
	if msg.TS != ts {
		t.Fatalf("stored ts %s, returned %s", msg.TS, ts)
	}

	res, err := s.ClickButton(testCtx(t, 5*time.Second), "U0ASHA", msg, "step_done")
	if err != nil {
		t.Fatalf("ClickButton: %v", err)
	}
	cb, req := <-clicks, <-reqs
	if req.Type != "interactive" || !req.AcceptsResponsePayload {
		t.Errorf("envelope = %+v", req)
	}
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U0ASHA" || cb.User.Name != "asha" ||
		cb.Team.ID != "T0PATHBOT" || cb.APIAppID != "A0PATHBOT" || cb.TriggerID == "" || cb.ResponseURL == "" {
		t.Errorf("callback = %+v", cb)
	}
	if cb.Container.Type != "message" || cb.Container.MessageTs != ts || cb.Container.ChannelID != ch || cb.Container.IsEphemeral {
		t.Errorf("container = %+v", cb.Container)
	}
	if cb.Channel.ID != ch || cb.Message.Timestamp != ts || !strings.Contains(cb.Message.Text, "design doc") {
		t.Errorf("channel %+v message %+v", cb.Channel.ID, cb.Message.Msg)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("actions = %+v", cb.ActionCallback)
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "step_done" || a.BlockID != "step_actions" || a.Value != "step-3" || a.Type != "button" ||
		a.Text.Text != "Mark done" || a.ActionTs == "" {
		t.Errorf("action = %+v", a)
	}

	if !res.Acked || !res.Answered || len(res.Messages) == 0 {
		t.Fatalf("result = %+v", res)
	}
	last := res.Messages[len(res.Messages)-1]
	if last.TS != ts || last.Text != "Step 3 marked done ✅" || !last.Updated {
		t.Errorf("answer = %+v", last)
	}
	if stored := s.Messages(ch)[0]; stored.Text != "Step 3 marked done ✅" || len(stored.Blocks) != 0 {
		t.Errorf("stored message = %+v, want replaced", stored)
	}
	if _, err := s.ClickButton(testCtx(t, time.Second), "U0ASHA", msg, "no_such_action"); err == nil {
		t.Error("clicking a missing action succeeded")
	}
}

func TestSelectAndDatePickerActions(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	actions := make(chan slack.BlockAction, 2)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeInteractive {
			cb := evt.Data.(slack.InteractionCallback)
			actions <- *cb.ActionCallback.BlockActions[0]
			b.ack(t, evt)
			_, _ = b.api.PostEphemeral(cb.Channel.ID, cb.User.ID, slack.MsgOptionText("noted", false))
		}
	})
	opt := func(v string) *slack.OptionBlockObject {
		return slack.NewOptionBlockObject(v, slack.NewTextBlockObject(slack.PlainTextType, strings.ToUpper(v), false, false), nil)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, slack.NewTextBlockObject(slack.PlainTextType, "Track", false, false), "track", opt("ic"), opt("manager"))
	date := slack.NewDatePickerBlockElement("due")
	ch, _, err := bot.api.PostMessage("U0FINN", slack.MsgOptionText("pick", false), slack.MsgOptionBlocks(slack.NewActionBlock("", sel, date)))
	if err != nil {
		t.Fatal(err)
	}
	msg := s.Messages(ch)[0]
	res, err := s.SelectOption(testCtx(t, 5*time.Second), "U0FINN", msg, "track", "manager")
	if err != nil || !res.Answered {
		t.Fatalf("SelectOption: %+v %v", res, err)
	}
	if a := <-actions; a.Type != "static_select" || a.SelectedOption.Value != "manager" || a.BlockID == "" {
		t.Errorf("select action = %+v", a)
	}
	if _, err := s.PickDate(testCtx(t, 5*time.Second), "U0FINN", msg, "due", "2026-12-01"); err != nil {
		t.Fatalf("PickDate: %v", err)
	}
	if a := <-actions; a.Type != "datepicker" || a.SelectedDate != "2026-12-01" {
		t.Errorf("date action = %+v", a)
	}
	if _, err := s.SelectOption(testCtx(t, time.Second), "U0FINN", msg, "track", "ceo"); err == nil {
		t.Error("selecting a missing option succeeded")
	}
}

func modal(title string, blocks ...slack.Block) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:     slack.NewTextBlockObject(slack.PlainTextType, "Save", false, false),
		Close:      slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		CallbackID: "goal_modal",
		Blocks:     slack.Blocks{BlockSet: blocks},
	}
}

func TestViewsPublishAndTriggers(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{TriggerTTL: time.Second})
	triggers := make(chan string, 4)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt)
			triggers <- evt.Data.(slack.SlashCommand).TriggerID
		}
	})
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("*Your path*: step 3 of 12")}}}
	v, err := bot.api.PublishView("U0GRACE", home, "")
	if err != nil || v.ID == "" || v.Hash == "" {
		t.Fatalf("views.publish: %+v %v", v, err)
	}
	raw, ok := s.HomeView("U0GRACE")
	if !ok || !strings.Contains(string(raw), "step 3 of 12") || !strings.Contains(string(raw), v.ID) {
		t.Fatalf("HomeView = %s %v", raw, ok)
	}
	if _, err := bot.api.PublishView("U0GRACE", home, "1.stale"); err == nil {
		t.Error("stale hash accepted")
	} else {
		slackErr(t, err, "hash_conflict")
	}
	tooMany := make([]slack.Block, 101)
	for i := range tooMany {
		tooMany[i] = slack.NewDividerBlock()
	}
	_, err = bot.api.PublishView("U0GRACE", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: tooMany}}, "")
	slackErr(t, err, "invalid_arguments")

	m := modal("Set a goal", section("What will you finish this week?"))
	s.SlashCommandAsync("U0GRACE", "", "/path", "goal", func(*Result) {})
	stale := <-triggers
	time.Sleep(1100 * time.Millisecond)
	_, err = bot.api.OpenView(stale, m)
	slackErr(t, err, "expired_trigger_id")
	_, err = bot.api.OpenView("12345.67890.abcdef", m)
	slackErr(t, err, "invalid_trigger_id")

	s.SlashCommandAsync("U0GRACE", "", "/path", "goal", func(*Result) {})
	fresh := <-triggers
	_, err = bot.api.OpenView(fresh, modal("A title that is far too long for Slack"))
	slackErr(t, err, "invalid_arguments")
	opened, err := bot.api.OpenView(fresh, m)
	if err != nil {
		t.Fatalf("views.open with a fresh trigger: %v", err)
	}
	if view, ok := s.OpenView("U0GRACE"); !ok || view.ID != opened.ID || view.Title != "Set a goal" || view.CallbackID != "goal_modal" {
		t.Errorf("OpenView = %+v %v", view, ok)
	}
	_, err = bot.api.OpenView(fresh, m)
	slackErr(t, err, "exchanged_trigger_id")
}

func TestSubmitViewValidationAndResponseActions(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	submissions := make(chan slack.InteractionCallback, 4)
	replies := make(chan any, 4)
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			b.ack(t, evt)
			goal := slack.NewInputBlock("goal", slack.NewTextBlockObject(slack.PlainTextType, "Goal", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "goal_text"))
			opt := func(v string) *slack.OptionBlockObject {
				return slack.NewOptionBlockObject(v, slack.NewTextBlockObject(slack.PlainTextType, v, false, false), nil)
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "size_pick", opt("small"), opt("large"))
			sel.InitialOption = opt("small")
			size := slack.NewInputBlock("size", slack.NewTextBlockObject(slack.PlainTextType, "Size", false, false), nil, sel)
			if _, err := b.api.OpenView(evt.Data.(slack.SlashCommand).TriggerID, modal("Set a goal", goal, size)); err != nil {
				t.Errorf("views.open: %v", err)
			}
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			submissions <- cb
			b.ack(t, evt, <-replies)
		}
	})
	// A modal opened with the command's trigger_id is its answer.
	cmd, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0DIEGO", "", "/path", "goal")
	if err != nil || !cmd.Answered || len(cmd.Messages) != 0 {
		t.Fatalf("command: %+v %v", cmd, err)
	}
	if _, ok := s.OpenView("U0DIEGO"); !ok {
		t.Fatal("no modal open")
	}

	res, err := s.SubmitView(testCtx(t, 5*time.Second), "U0DIEGO", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ViewErrors["goal"] == "" || res.EnvelopeID != "" {
		t.Fatalf("empty required field: %+v, want a client-side error and no envelope", res)
	}
	if v, _ := s.OpenView("U0DIEGO"); v.Errors["goal"] == "" {
		t.Errorf("view errors not shown: %+v", v.Errors)
	}

	replies <- slack.NewErrorsViewSubmissionResponse(map[string]string{"goal": "Make it measurable"})
	res, err = s.SubmitView(testCtx(t, 5*time.Second), "U0DIEGO", map[string]map[string]any{"goal": {"goal_text": "ship"}})
	if err != nil || res.ViewErrors["goal"] != "Make it measurable" || !res.Acked {
		t.Fatalf("errors response: %+v %v", res, err)
	}
	sub := <-submissions
	st := sub.View.State.Values
	if sub.Type != slack.InteractionTypeViewSubmission || sub.View.CallbackID != "goal_modal" ||
		st["goal"]["goal_text"].Value != "ship" || st["size"]["size_pick"].SelectedOption.Value != "small" {
		t.Errorf("submission = %+v state %+v", sub.View, st)
	}
	if v, ok := s.OpenView("U0DIEGO"); !ok || v.Errors["goal"] != "Make it measurable" {
		t.Errorf("view after errors = %+v %v", v, ok)
	}

	replies <- nil
	res, err = s.SubmitView(testCtx(t, 5*time.Second), "U0DIEGO", map[string]map[string]any{
		"goal": {"goal_text": "ship the RFC by Friday"}, "size": {"size_pick": "large"},
	})
	if err != nil || res.Error != "" {
		t.Fatalf("final submit: %+v %v", res, err)
	}
	sub = <-submissions
	if got := sub.View.State.Values["size"]["size_pick"].SelectedOption.Value; got != "large" {
		t.Errorf("size = %q", got)
	}
	if _, ok := s.OpenView("U0DIEGO"); ok {
		t.Error("modal still open after an empty ack")
	}
	if _, err := s.SubmitView(testCtx(t, time.Second), "U0DIEGO", nil); err == nil {
		t.Error("submitting with no modal open succeeded")
	}
}

func TestAppHomeOpenedCarriesPublishedView(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	events := make(chan []byte, 2)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeEventsAPI {
			events <- evt.Request.Payload
			b.ack(t, evt)
		}
	})
	if err := s.OpenAppHome(testCtx(t, 5*time.Second), "U0ASHA"); err != nil {
		t.Fatal(err)
	}
	var first map[string]any
	_ = json.Unmarshal(<-events, &first)
	if ev := first["event"].(map[string]any); ev["view"] != nil || first["type"] != "event_callback" || first["team_id"] != "T0PATHBOT" {
		t.Errorf("first open = %v", first)
	}
	if _, err := bot.api.PublishView("U0ASHA", slack.HomeTabViewRequest{Type: slack.VTHomeTab,
		Blocks: slack.Blocks{BlockSet: []slack.Block{section("hello")}}}, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenAppHome(testCtx(t, 5*time.Second), "U0ASHA"); err != nil {
		t.Fatal(err)
	}
	var second map[string]any
	_ = json.Unmarshal(<-events, &second)
	if view, _ := second["event"].(map[string]any)["view"].(map[string]any); view == nil || view["type"] != "home" {
		t.Errorf("second open event = %v, want the published view", second["event"])
	}
}
