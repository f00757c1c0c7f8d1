package slackemu

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postUI(t *testing.T, s *Server, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL()+strings.TrimPrefix(path, "/"), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: decode: %v", path, err)
	}
	return out
}

func TestUIServesPageAndState(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{Links: map[string]string{"metrics": "http://127.0.0.1:9/metrics"}})
	code, page := getBody(t, s.URL())
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	for _, id := range []string{`id="user-select"`, `id="composer"`, `id="send"`, `id="tab-home"`, `/static/app.js`} {
		if !strings.Contains(page, id) {
			t.Errorf("page lacks %s", id)
		}
	}
	if code, js := getBody(t, s.URL()+"static/app.js"); code != http.StatusOK || !strings.Contains(js, "block-button") {
		t.Errorf("app.js: %d", code)
	}

	_, raw := getBody(t, s.URL()+"ui/state?user=U0ASHA")
	var st struct {
		Version  uint64            `json:"version"`
		User     string            `json:"user"`
		Users    []uiUser          `json:"users"`
		Channels []uiChannel       `json:"channels"`
		Links    map[string]string `json:"links"`
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range st.Channels {
		names[c.Name] = c.Kind
	}
	if st.User != "U0ASHA" || len(st.Users) != 8 || names["pathbot"] != "im" || names["path-leaderboard"] != "channel" ||
		names["general"] != "channel" || st.Links["metrics"] == "" {
		t.Errorf("state = %+v", st)
	}
	_, again := getBody(t, s.URL()+"ui/state?user=U0ASHA&since="+jsonNumber(st.Version))
	if !strings.Contains(again, `"unchanged":true`) {
		t.Errorf("unchanged poll = %s", again)
	}
}

func jsonNumber(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestUISendAndDevAction(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt, map[string]any{"text": "You typed " + evt.Data.(slack.SlashCommand).Text})
		}
	})
	dm := s.DMChannel("U0CLARA")
	if r := postUI(t, s, "/ui/send", map[string]any{"user": "U0CLARA", "channel": dm, "text": "/path show me"}); r["ok"] != true {
		t.Fatalf("send command: %v", r)
	}
	if err := s.WaitFor(testCtx(t, 5*time.Second), func() bool { return len(s.Messages(dm)) == 1 }); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(dm)[0]; m.Text != "You typed show me" || m.VisibleTo != "U0CLARA" {
		t.Errorf("answer = %+v", m)
	}
	if r := postUI(t, s, "/ui/send", map[string]any{"user": "U0CLARA", "channel": GeneralChannelID, "text": "hello team"}); r["ok"] != true {
		t.Fatalf("send message: %v", r)
	}
	if m := s.Messages(GeneralChannelID); len(m) != 1 || m[0].User != "U0CLARA" || m[0].Source != "user" || m[0].Ephemeral {
		t.Errorf("plain message = %+v", m)
	}

	var ran atomic.Int64
	s.AddDevAction("Run nudge sweep now", func(context.Context) error { ran.Add(1); return nil })
	if r := postUI(t, s, "/ui/dev-action", map[string]any{"index": 0}); r["ok"] != true || ran.Load() != 1 {
		t.Errorf("dev action: %v, ran %d", r, ran.Load())
	}
	if r := postUI(t, s, "/ui/dev-action", map[string]any{"index": 5}); r["ok"] != false {
		t.Errorf("missing dev action answered %v", r)
	}
}
