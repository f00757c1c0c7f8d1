package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser is the one scripts/ensure-chromium.sh installs; elsewhere any Chromium on PATH.
var chromiumCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

func findChromium() (string, bool) {
	for _, c := range chromiumCandidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, true
		}
	}
	return "", false
}

// startBrowser starts one headless Chromium for the test and its subtests; each subtest opens
// its own tab, on its own emulator (so its own origin and localStorage).
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, ok := findChromium()
	if !ok {
		if os.Getenv("PATHBOT_SKIP_BROWSER") == "1" {
			t.Skip("no Chromium installed, and PATHBOT_SKIP_BROWSER=1")
		}
		t.Fatalf("no Chromium found (looked for %s): run scripts/ensure-chromium.sh to install it, "+
			"or set PATHBOT_SKIP_BROWSER=1 to skip the browser tests", strings.Join(chromiumCandidates, ", "))
	}
	out := &syncBuffer{}
	// chromedp's defaults bring headless, --no-first-run, --disable-background-networking and
	// --disable-sync, and a fresh temporary --user-data-dir that it removes, leftover helper
	// processes included. Root needs --no-sandbox; there is no GPU; and nothing here should
	// reach the network on its own.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(out),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	// The first action starts the browser, which then lives as long as this context: it must
	// have no deadline.
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

// page is one browser tab on one harness's emulator UI.
type page struct {
	t   *testing.T
	tab context.Context
}

func openPage(t *testing.T, browser context.Context, h *harness) *page {
	t.Helper()
	// A browser context of its own isolates the tab's storage, and disposing of it at the end
	// closes the sockets Chromium keeps to this emulator; an unused one it opened ahead of time
	// held up the emulator's graceful shutdown past its 2 s.
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, tab: tab}
	// The first action opens the tab, which then lives as long as the context it ran with, so
	// it runs on tab itself; a deadline would close the tab when it passed.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p.do("open the emulator UI",
		chromedp.Navigate(h.emu.URL()),
		chromedp.WaitVisible(chromedp.CSS("#composer")),
	)
	return p
}

// do runs steps with a deadline, so that a missing element fails the test instead of hanging.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v\npage text:\n%s", what, err, p.visibleText())
	}
}

// visibleText is what the page shows, for failure messages.
func (p *page) visibleText() string {
	ctx, cancel := context.WithTimeout(p.tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return s
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// chooseUser picks who we are in the header's user menu, as a person would.
func (p *page) chooseUser(id string) {
	p.t.Helper()
	p.do("choose "+id,
		chromedp.WaitReady(chromedp.CSS(`#user-select option[value="`+id+`"]`)),
		chromedp.SetValue(chromedp.CSS("#user-select"), id),
		// Setting the value from script fires no change event; a person's choice does.
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[any](`document.querySelector("#user-select").dispatchEvent(new Event("change"))`)(ctx, tg)
			return chromedp.Void{}, err
		},
		chromedp.WaitVisible(chromedp.CSS(`#channel-pathbot.active`)),
	)
}

// send types text into the composer and sends it with the Send button.
func (p *page) send(text string) {
	p.t.Helper()
	p.do("send "+text, chromedp.SendKeys(chromedp.CSS("#composer"), text), chromedp.Click(chromedp.CSS("#send")))
}

// waitMessage waits for a message in the open conversation that shows text.
func (p *page) waitMessage(text string) {
	p.t.Helper()
	p.do("see a message with "+text,
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//div[@id="messages"]/div[contains(@class,"message")][contains(., %q)]`, text))))
}

// screenshot saves the whole page as a PNG under artifacts/ and returns the image.
func (p *page) screenshot(name string) []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(repoRoot, "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatalf("create %s: %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatalf("save screenshot: %v", err)
	}
	return png
}

func TestBrowser(t *testing.T) {
	t.Parallel()
	browser := startBrowser(t)

	t.Run("status, next, done and App Home", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		p := openPage(t, browser, h)
		p.chooseUser(user)

		p.send("/path status")
		p.waitMessage("Readings 0/23")
		p.screenshot("ui-status.png")

		// This time with Enter, the other way people send.
		p.do("send /path next with Enter", chromedp.SendKeys(chromedp.CSS("#composer"), "/path next\r"))
		done := `.message .block-button[data-action-id="` + slackbotActionDone + `"]`
		p.do("click Done", chromedp.WaitVisible(chromedp.CSS(done)), chromedp.Click(chromedp.CSS(done)))
		p.waitMessage("is done")
		// The click's answer replaced the suggestion, so its button is gone.
		p.do("see the suggestion replaced", chromedp.WaitNotPresent(chromedp.CSS(done)))
		if got := p.text(`#messages .message:last-child`); !strings.Contains(got, "✅") || strings.Contains(got, ":white_check_mark:") {
			t.Errorf("the confirmation should show the ✅ emoji, not its shortcode: %q", got)
		}
		p.screenshot("ui-done.png")

		p.do("open App Home",
			chromedp.Click(chromedp.CSS("#tab-home")),
			chromedp.WaitVisible(chromedp.Search(`//div[@id="home-view"][contains(., "Readings 1/23")]`)),
			chromedp.WaitVisible(chromedp.CSS(`#home-view .block-button[data-action-id="`+slackbotActionDone+`"]`)),
			// The Home tab has no composer, in Slack or here.
			chromedp.WaitNotVisible(chromedp.CSS("#composer")),
		)
		p.screenshot("ui-home.png")
		h.expect(t, "status", "Readings 1/23")
	})

	// The README's picture: a /path status with some progress behind it. It is saved under
	// artifacts/ on every run, and copied to docs/ with PATHBOT_UPDATE_SCREENSHOT=1.
	t.Run("README screenshot", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		from := time.Now().UTC().AddDate(0, 0, -60)
		for _, text := range []string{
			"done system-design-primer", "done tail-at-scale", "done dynamo", "done the-log",
			"done senior-engineer", "done release-it",
			"oncall " + from.Format(time.DateOnly) + ".." + from.AddDate(0, 0, 13).Format(time.DateOnly),
			"log languages Go, Python",
			"log wire-format protobuf for payments-api",
			"loadtest rps=5,000 p95=120ms p99=300ms max=1.2s",
		} {
			h.slash(t, user, text)
		}

		p := openPage(t, browser, h)
		p.chooseUser(user)
		p.send("/path status")
		p.waitMessage("Readings 6/23")
		png := p.screenshot("readme-status.png")
		if os.Getenv("PATHBOT_UPDATE_SCREENSHOT") == "1" {
			dst := filepath.Join(repoRoot, "docs", "screenshot.png")
			if err := os.WriteFile(dst, png, 0o644); err != nil {
				t.Fatalf("update %s: %v", dst, err)
			}
			t.Logf("wrote %s", dst)
		}
	})
}
