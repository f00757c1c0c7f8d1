package loadtest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestFanoutSmoke runs the nudge fan-out measurement small, unthrottled and against a Slack
// limit low enough to be hit. It checks correctness only, never speed: every member got exactly
// one nudge and every delivery is recorded as sent.
func TestFanoutSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Postgres, the emulator and the bot")
	}
	for _, tc := range []struct {
		name         string
		limit, burst int
	}{
		{"unthrottled", 0, 0},
		// 150 nudges past a burst of 50 at 10 a second: about 15 s of 429s and Retry-After.
		{"throttled", 600, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			rep, err := RunFanout(ctx, FanoutOptions{
				Nudges: 200, LimitPerMinute: tc.limit, Burst: tc.burst, Timeout: 2 * time.Minute,
				BotBinary: botBinary(t), DatabaseURL: os.Getenv("DATABASE_URL"),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + rep.Text())
			if err := rep.Err(); err != nil {
				t.Error(err)
			}
			if rep.Nudged != 200 || rep.Missing != 0 || rep.Duplicates != 0 {
				t.Errorf("%d of 200 members nudged, %d missing, %d duplicates", rep.Nudged, rep.Missing, rep.Duplicates)
			}
			if rep.Deliveries["sent"] != 200 || rep.JobStates["completed"] != 200 {
				t.Errorf("deliveries %v, jobs %v; want 200 sent and 200 completed", rep.Deliveries, rep.JobStates)
			}
			if got := rep.PostMessageCalls - rep.RateLimited; got != 200 {
				t.Errorf("Slack took %d chat.postMessage calls, want one per member", got)
			}
			if tc.limit > 0 && rep.RateLimited == 0 {
				t.Error("the limit was never hit: nothing was tested")
			}
			if strings.Contains(rep.Bot.LogTail, "level=ERROR") {
				t.Errorf("the bot logged errors:%s", rep.Bot.LogTail)
			}
		})
	}
}
