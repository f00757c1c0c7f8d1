package slackemu

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// findChrome returns a Chrome or Chromium binary, or "" when none is installed.
func findChrome() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// uiBot is a small pathbot stand-in exercising every surface the web UI renders.
func uiBot(t *testing.T, s *Server) {
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			cmd := evt.Data.(slack.SlashCommand)
			switch cmd.Text {
			case "ignore":
				return // no ack: Slack shows dispatch_failed
			case "goal":
				b.ack(t, evt)
				input := slack.NewInputBlock("goal", slack.NewTextBlockObject(slack.PlainTextType, "Goal", false, false), nil,
					slack.NewPlainTextInputBlockElement(nil, "goal_text"))
				if _, err := b.api.OpenView(cmd.TriggerID, modal("Set a goal", input)); err != nil {
					t.Errorf("views.open: %v", err)
				}
			default:
				btn := slack.NewButtonBlockElement("done", "s3", slack.NewTextBlockObject(slack.PlainTextType, "Mark done", false, false))
				b.ack(t, evt, map[string]any{"text": "Step 3", "blocks": []slack.Block{
					section("Hi *" + cmd.UserName + "* &amp; welcome: <https://example.com/path|the path docs>"),
					slack.NewActionBlock("acts", btn),
				}})
			}
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			b.ack(t, evt)
			switch cb.Type {
			case slack.InteractionTypeBlockActions:
				_, _, _ = b.api.PostMessage("", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Step 3 done ✅", false))
			case slack.InteractionTypeViewSubmission:
				goal := cb.View.State.Values["goal"]["goal_text"].Value
				_, _, _ = b.api.PostMessage(cb.User.ID, slack.MsgOptionText("Goal saved: "+goal, false))
			}
		case socketmode.EventTypeEventsAPI:
			b.ack(t, evt)
			if h := parseHome(evt); h != nil {
				_, _ = b.api.PublishView(h.User, slack.HomeTabViewRequest{Type: slack.VTHomeTab,
					Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Your path", false, false))}}}, "")
			}
		}
	})
}

func TestWebUIInBrowser(t *testing.T) {
	t.Parallel()
	chrome := findChrome()
	if chrome == "" || testing.Short() {
		t.Skip("no Chrome/Chromium installed (or -short)")
	}
	// A generous ack deadline: a loaded machine must not turn real answers into failures.
	s := startEmu(t, Config{AckTimeout: 1500 * time.Millisecond})
	uiBot(t, s)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU)...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first Do starts the browser, which lives as long as that context, so only the
	// later steps get timeouts.
	if err := chromedp.Do(browser, chromedp.Navigate(s.URL())); err != nil {
		t.Fatalf("open the UI: %v", err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("read page: %v", err)
		}
		return v
	}
	send := func(text string) {
		t.Helper()
		do("send "+text, chromedp.SetValue(chromedp.CSS("#composer"), text), chromedp.Click(chromedp.CSS("#send")))
	}

	do("pick a user",
		chromedp.WaitReady(chromedp.CSS(`#user-select option[value="U0ASHA"]`)),
		chromedp.SetValue(chromedp.CSS("#user-select"), "U0ASHA"),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[any](`document.querySelector("#user-select").dispatchEvent(new Event("change"))`)(ctx, tg)
			return chromedp.Void{}, err
		},
		chromedp.WaitVisible(chromedp.CSS(`#channel-pathbot.active`)),
	)

	send("/path status")
	do("see the answer", chromedp.WaitVisible(chromedp.CSS(`.message.ephemeral .block-button[data-action-id="done"]`)))
	answer := get(chromedp.Text(chromedp.CSS(`.message.ephemeral`)))
	bold := get(chromedp.Text(chromedp.CSS(`.message.ephemeral b`)))
	link, err := func() (chromedp.AttributeResult, error) {
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		return chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.message.ephemeral a`), "href"))
	}()
	if err != nil || link.Value != "https://example.com/path" {
		t.Errorf("link = %+v, %v", link, err)
	}
	if !strings.Contains(answer, "Only visible to you") || !strings.Contains(answer, "Hi asha & welcome: the path docs") || bold != "asha" {
		t.Errorf("answer rendered as %q (bold %q)", answer, bold)
	}

	do("click the button",
		chromedp.Click(chromedp.CSS(`.block-button[data-action-id="done"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"message")][contains(., "Step 3 done")]`)),
	)

	do("open App Home",
		chromedp.Click(chromedp.CSS("#tab-home")),
		chromedp.WaitVisible(chromedp.Search(`//div[@id="home-view"][contains(., "Your path")]`)),
	)

	do("back to the DM", chromedp.Click(chromedp.CSS("#channel-pathbot")), chromedp.WaitVisible(chromedp.CSS("#composer")))
	send("/path ignore")
	do("see dispatch_failed", chromedp.WaitVisible(chromedp.CSS(`.message.system-error`)))
	if line := get(chromedp.Text(chromedp.CSS(`.message.system-error`))); !strings.Contains(line, `/path failed with the error "dispatch_failed"`) {
		t.Errorf("error line = %q", line)
	}

	send("/path goal")
	do("submit the modal empty",
		chromedp.WaitVisible(chromedp.CSS(`#modal-overlay .block-input [data-action-id="goal_text"]`)),
		chromedp.Click(chromedp.CSS("#modal-submit")),
		chromedp.WaitVisible(chromedp.CSS(`.field-error`)),
	)
	do("submit the modal filled in",
		chromedp.SetValue(chromedp.CSS(`[data-action-id="goal_text"]`), "ship the RFC"),
		chromedp.Click(chromedp.CSS("#modal-submit")),
		chromedp.WaitNotVisible(chromedp.CSS(`#modal`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"message")][contains(., "Goal saved: ship the RFC")]`)),
	)
}
