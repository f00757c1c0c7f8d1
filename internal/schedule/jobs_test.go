package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/slackbot"
	"github.com/pathbot/pathbot/internal/slackemu"
	"github.com/pathbot/pathbot/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type bundle struct {
	jobs *Jobs
	db   *store.DB
	emu  *slackemu.Server
	h    *slackbot.Handler
	team string
}

func setup(t *testing.T, users ...slackemu.User) bundle {
	t.Helper()
	emu := slackemu.New(slackemu.Config{Logger: slog.New(slog.DiscardHandler)})
	if err := emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	for _, u := range users {
		emu.AddUser(u)
	}
	pool := pgtest.NewPool(t)
	db := store.New(pool)
	cur, err := curriculum.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	h := &slackbot.Handler{Curriculum: cur, Store: db, Thresholds: progress.DefaultThresholds, Now: time.Now}
	db.Score = h.Score
	cfg := emu.Config()
	api := slack.New(cfg.BotToken, slack.OptionAPIURL(emu.APIURL()))
	jobs, err := New(pool, db, api, h, nil, Config{
		NudgeSpec: "0 9 * * MON", LeaderboardSpec: "0 16 * * FRI", SweepSpec: "@every 1h",
		LeaderboardChannel: emu.ChannelID("#path-leaderboard"), RescueAfter: time.Minute,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h.Jobs = jobs
	return bundle{jobs: jobs, db: db, emu: emu, h: h, team: cfg.TeamID}
}

func (b bundle) enrol(t *testing.T, users ...string) {
	t.Helper()
	for _, u := range users {
		if err := b.db.Enrol(context.Background(), store.Member{TeamID: b.team, UserID: u}); err != nil {
			t.Fatal(err)
		}
	}
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sweepEvery runs the sweep with an injected clock from..to, returning when each user's nudges
// were enqueued and with which week key.
func (b bundle) sweepEvery(t *testing.T, from, to time.Time, step time.Duration) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for now := from; now.Before(to); now = now.Add(step) {
		res, err := b.jobs.Sweep(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range res.Enqueued {
			got[a.UserID] = append(got[a.UserID], now.UTC().Format("2006-01-02T15:04Z")+" "+a.Key)
		}
	}
	return got
}

func TestNudgedAtOwnLocalNineAcrossDST(t *testing.T) {
	t.Parallel()
	b := setup(t,
		slackemu.User{ID: "UKOLKATA", Name: "priya", DisplayName: "Priya", TZ: "Asia/Kolkata"},
		slackemu.User{ID: "ULOSANGELES", Name: "sam", DisplayName: "Sam", TZ: "America/Los_Angeles"},
	)
	b.enrol(t, "UKOLKATA", "ULOSANGELES")
	// Three weeks around Los Angeles leaving DST on Sunday 2026-11-01, swept every 30 minutes.
	got := b.sweepEvery(t, at(t, "2026-10-19T00:00:00Z"), at(t, "2026-11-10T00:00:00Z"), 30*time.Minute)
	want := map[string][]string{
		// 09:00 IST is 03:30Z, every Monday.
		"UKOLKATA": {"2026-10-19T03:30Z 2026-W43", "2026-10-26T03:30Z 2026-W44", "2026-11-02T03:30Z 2026-W45", "2026-11-09T03:30Z 2026-W46"},
		// 09:00 PDT is 16:00Z; after the change 09:00 PST is 17:00Z. Nothing skipped or doubled.
		"ULOSANGELES": {"2026-10-19T16:00Z 2026-W43", "2026-10-26T16:00Z 2026-W44", "2026-11-02T17:00Z 2026-W45", "2026-11-09T17:00Z 2026-W46"},
	}
	for u, w := range want {
		if strings.Join(got[u], "|") != strings.Join(w, "|") {
			t.Errorf("%s nudged at\n  %v\nwant\n  %v", u, got[u], w)
		}
	}
}

func TestPausedUserNotNudgedUntilPauseEnds(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UPAUSED", Name: "pat", TZ: "Europe/Berlin"})
	b.enrol(t, "UPAUSED")
	m := store.Member{TeamID: b.team, UserID: "UPAUSED"}
	if err := b.db.Pause(context.Background(), m, at(t, "2026-11-12T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	got := b.sweepEvery(t, at(t, "2026-10-28T00:00:00Z"), at(t, "2026-11-24T00:00:00Z"), time.Hour)
	// Mondays Nov 2 and Nov 9 fall in the pause; Nov 16 and 23 are nudged (09:00 CET = 08:00Z).
	want := []string{"2026-11-16T08:00Z 2026-W47", "2026-11-23T08:00Z 2026-W48"}
	if strings.Join(got["UPAUSED"], "|") != strings.Join(want, "|") {
		t.Fatalf("nudged at %v, want %v", got["UPAUSED"], want)
	}
}

func TestStoppedUserNeverNudged(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "USTOP", Name: "stop", TZ: "UTC"})
	b.enrol(t, "USTOP")
	if err := b.db.Stop(context.Background(), store.Member{TeamID: b.team, UserID: "USTOP"}, "asked"); err != nil {
		t.Fatal(err)
	}
	if got := b.sweepEvery(t, at(t, "2026-11-01T00:00:00Z"), at(t, "2026-11-20T00:00:00Z"), 6*time.Hour); len(got["USTOP"]) != 0 {
		t.Fatalf("stopped user nudged: %v", got)
	}
}

// waitDM waits for n bot messages in the user's DM.
func waitDM(t *testing.T, emu *slackemu.Server, user string, n int) []slackemu.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var msgs []slackemu.Message
	err := emu.WaitFor(ctx, func() bool {
		msgs = emu.Messages(emu.DMChannel(user))
		return len(msgs) >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d DMs to %s: got %d", n, user, len(msgs))
	}
	return msgs
}

// TestRateLimitedNudgeWaitsOutRetryAfter: a 429 is not a failure; the job waits for Retry-After
// and sends, without an error or a wasted attempt.
func TestRateLimitedNudgeWaitsOutRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "URATE", Name: "rate", TZ: "UTC"})
	b.enrol(t, "URATE")
	ctx := context.Background()
	b.emu.RateLimit("chat.postMessage", 1, time.Second)
	start := time.Now()
	if err := b.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.jobs.Stop(context.Background()) })
	if err := b.jobs.NudgeNow(ctx, store.Member{TeamID: b.team, UserID: "URATE"}, "test"); err != nil {
		t.Fatal(err)
	}
	msgs := waitDM(t, b.emu, "URATE", 1)
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("delivered after %s, before Retry-After passed", waited)
	}
	if !strings.Contains(msgs[0].Text, "This week") {
		t.Fatalf("nudge text = %q", msgs[0].Text)
	}
	var state string
	var errs int
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ctx2.Err() == nil {
		err := b.db.Pool().QueryRow(ctx, `SELECT state, coalesce(array_length(errors, 1), 0) FROM river_job WHERE kind = 'nudge'`).Scan(&state, &errs)
		if err != nil {
			t.Fatal(err)
		}
		if state == "completed" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if state != "completed" || errs != 0 {
		t.Fatalf("job state %s with %d errors, want completed with none", state, errs)
	}
	if b.emu.Calls("chat.postMessage") != 2 {
		t.Fatalf("chat.postMessage calls = %d, want the 429 and one send", b.emu.Calls("chat.postMessage"))
	}
}

func TestRetryAfterCrashDoesNotSendTwice(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UCRASH", Name: "crash", TZ: "UTC"})
	b.enrol(t, "UCRASH")
	ctx := context.Background()
	m := store.Member{TeamID: b.team, UserID: "UCRASH"}
	key := "UCRASH:2026-W48"
	// An earlier attempt claimed the delivery and sent the message, then died before marking it.
	if _, err := b.db.ClaimDelivery(ctx, KindNudge, b.team, key); err != nil {
		t.Fatal(err)
	}
	reply, _, err := b.h.Nudge(ctx, m, markerFor(KindNudge, key), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := b.jobs.dm(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.jobs.api.PostMessage(ch, slack.MsgOptionText(reply.Text, false), slack.MsgOptionBlocks(reply.Blocks...)); err != nil {
		t.Fatal(err)
	}
	if err := b.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.jobs.Stop(context.Background()) })
	if err := b.jobs.NudgeNow(ctx, m, "2026-W48"); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		counts, err := b.db.CountDeliveries(ctx, KindNudge)
		if err != nil {
			t.Fatal(err)
		}
		if counts["sent"] == 1 {
			break
		}
		if ctx2.Err() != nil {
			t.Fatalf("deliveries = %v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(b.emu.Messages(ch)); n != 1 {
		t.Fatalf("%d messages in the DM, want the one sent before the crash", n)
	}
}

// jobState waits until the nudge job for user reaches one of the states and returns it with the
// number of errors recorded.
func jobState(t *testing.T, b bundle, user string, states ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var state string
	var errs int
	for {
		err := b.db.Pool().QueryRow(ctx, `SELECT state, coalesce(array_length(errors, 1), 0) FROM river_job
		    WHERE kind = 'nudge' AND args->>'user_id' = $1`, user).Scan(&state, &errs)
		if err != nil && ctx.Err() != nil {
			t.Fatalf("job of %s: %v", user, err)
		}
		for _, s := range states {
			if state == s {
				return state, errs
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("job of %s is %s, want one of %v", user, state, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLongRetryAfterHoldsEveryJob: a 429 with a Retry-After too long to wait out in a job snoozes
// that job, and every other job of the workspace stays off Slack until it has passed instead of
// each finding the limit with a call of its own.
func TestLongRetryAfterHoldsEveryJob(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UFIRST", Name: "first", TZ: "UTC"}, slackemu.User{ID: "USECOND", Name: "second", TZ: "UTC"})
	b.enrol(t, "UFIRST", "USECOND")
	ctx := context.Background()
	b.emu.RateLimit("chat.postMessage", 1, 30*time.Second) // far above maxWait (RescueAfter/8)
	if err := b.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.jobs.Stop(context.Background()) })
	if err := b.jobs.NudgeNow(ctx, store.Member{TeamID: b.team, UserID: "UFIRST"}, "w"); err != nil {
		t.Fatal(err)
	}
	if state, errs := jobState(t, b, "UFIRST", "scheduled", "completed"); state != "scheduled" || errs != 0 {
		t.Fatalf("after a 30s Retry-After the job is %s with %d errors, want snoozed with none", state, errs)
	}
	if err := b.jobs.NudgeNow(ctx, store.Member{TeamID: b.team, UserID: "USECOND"}, "w"); err != nil {
		t.Fatal(err)
	}
	if state, errs := jobState(t, b, "USECOND", "scheduled", "completed"); state != "scheduled" || errs != 0 {
		t.Fatalf("the second job is %s with %d errors, want snoozed with none", state, errs)
	}
	if n := b.emu.Calls("chat.postMessage"); n != 1 {
		t.Fatalf("chat.postMessage called %d times, want only the one that got the 429", n)
	}
	// The second job never claimed its delivery, so its next attempt is a fresh one.
	counts, err := b.db.CountDeliveries(ctx, KindNudge)
	if err != nil {
		t.Fatal(err)
	}
	if counts["pending"] != 1 {
		t.Fatalf("deliveries %v, want only the first job's claim", counts)
	}
}

// TestOnlyASentNudgeTakesATurn: a nudge job that sends nothing, because the member stopped
// nudges or the week's nudge already went out, leaves the workspace's chat.postMessage allowance
// to the jobs that send.
func TestOnlyASentNudgeTakesATurn(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "USENT", Name: "sent", TZ: "UTC"}, slackemu.User{ID: "USTOPPED", Name: "stopped", TZ: "UTC"})
	b.enrol(t, "USENT", "USTOPPED")
	ctx := context.Background()
	if err := b.db.Stop(ctx, store.Member{TeamID: b.team, UserID: "USTOPPED"}, "asked"); err != nil {
		t.Fatal(err)
	}
	// Pacing at a known rate on a clock that stands still: every turn taken puts the next free
	// one exactly one interval further away. (lastLimit now: no raise of the pace meanwhile.)
	c := &fakeClock{t: time.Now()}
	p := newPacer(c.now)
	p.rate, p.lastCall, p.lastLimit, p.next = 1, c.t, c.t, c.t
	b.jobs.pacers.Store(b.team+" chat.postMessage", p)
	interval := time.Duration(float64(time.Second) / (p.rate * headroom))
	nudge := func(user string) {
		t.Helper()
		job := &river.Job[NudgeArgs]{Args: NudgeArgs{TeamID: b.team, UserID: user, Key: "2026-W48"}}
		if err := b.jobs.workNudge(ctx, job); err != nil {
			t.Fatalf("nudge %s: %v", user, err)
		}
	}
	nudge("USTOPPED")
	if d := p.ahead(); d != 0 {
		t.Fatalf("the stopped member's job took a turn: the next is %v away, want 0", d)
	}
	nudge("USENT")
	if d := p.ahead(); d != interval {
		t.Fatalf("after one nudge sent the next turn is %v away, want one interval (%v)", d, interval)
	}
	nudge("USENT") // the same week again: already sent
	if d := p.ahead(); d != interval {
		t.Fatalf("the duplicate job took a turn: the next is %v away, want %v", d, interval)
	}
	if n := b.emu.Calls("chat.postMessage"); n != 1 {
		t.Fatalf("chat.postMessage called %d times, want 1", n)
	}
	counts, err := b.db.CountDeliveries(ctx, KindNudge)
	if err != nil {
		t.Fatal(err)
	}
	if counts["sent"] != 1 || counts["skipped"] != 1 || len(counts) != 2 {
		t.Fatalf("deliveries %v, want one sent and one skipped", counts)
	}
}

// TestPersistent429sSnoozeAndStillSendOnce: an attempt that keeps getting 429 gives up after
// maxTries calls and snoozes; the next attempt, finding its delivery pending, searches the DM
// first and then sends exactly once.
func TestPersistent429sSnoozeAndStillSendOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UBUSY", Name: "busy", TZ: "UTC"})
	b.enrol(t, "UBUSY")
	ctx := context.Background()
	b.emu.RateLimit("chat.postMessage", maxTries+2, time.Second)
	if err := b.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.jobs.Stop(context.Background()) })
	if err := b.jobs.NudgeNow(ctx, store.Member{TeamID: b.team, UserID: "UBUSY"}, "w"); err != nil {
		t.Fatal(err)
	}
	waitDM(t, b.emu, "UBUSY", 1)
	if state, errs := jobState(t, b, "UBUSY", "completed", "retryable", "cancelled", "discarded"); state != "completed" || errs != 0 {
		t.Fatalf("job %s with %d errors, want completed with none", state, errs)
	}
	if n := len(b.emu.Messages(b.emu.DMChannel("UBUSY"))); n != 1 {
		t.Fatalf("%d messages in the DM, want 1", n)
	}
	if n, h := b.emu.Calls("chat.postMessage"), b.emu.Calls("conversations.history"); n != maxTries+3 || h != 1 {
		t.Fatalf("chat.postMessage %d calls and conversations.history %d, want %d (the 429s and the send) and 1", n, h, maxTries+3)
	}
}

// TestRetryFindsMessagePostedToUserID: nudges go to the member's user id (Slack's DM with the app)
// without a conversations.open, so a retry after a crash between sending and recording must find
// the DM channel itself before it can look for the message.
func TestRetryFindsMessagePostedToUserID(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UNOCHAN", Name: "nochan", TZ: "UTC"})
	b.enrol(t, "UNOCHAN")
	ctx := context.Background()
	m := store.Member{TeamID: b.team, UserID: "UNOCHAN"}
	key := "UNOCHAN:2026-W48"
	if _, err := b.db.ClaimDelivery(ctx, KindNudge, b.team, key); err != nil {
		t.Fatal(err)
	}
	reply, _, err := b.h.Nudge(ctx, m, markerFor(KindNudge, key), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err := b.jobs.api.PostMessage("UNOCHAN", slack.MsgOptionText(reply.Text, false), slack.MsgOptionBlocks(reply.Blocks...))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.jobs.Stop(context.Background()) })
	if err := b.jobs.NudgeNow(ctx, m, "2026-W48"); err != nil {
		t.Fatal(err)
	}
	if state, errs := jobState(t, b, "UNOCHAN", "completed", "retryable", "cancelled", "discarded"); state != "completed" || errs != 0 {
		t.Fatalf("job %s with %d errors", state, errs)
	}
	if n := len(b.emu.Messages(ch)); n != 1 {
		t.Fatalf("%d messages in the DM, want the one sent before the crash", n)
	}
	if n := b.emu.Calls("chat.postMessage"); n != 1 {
		t.Fatalf("chat.postMessage called %d times, want 1", n)
	}
}

func TestPermanentErrorStopsNudging(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UGONE", Name: "gone", TZ: "UTC", Deleted: true})
	b.enrol(t, "UGONE")
	ctx := context.Background()
	m := store.Member{TeamID: b.team, UserID: "UGONE"}
	if err := b.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.jobs.Stop(context.Background()) })
	if err := b.jobs.NudgeNow(ctx, m, "w"); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		s, err := b.db.Settings(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if s.Stopped {
			if !strings.Contains(s.StoppedReason, "Slack") {
				t.Fatalf("stopped reason %q", s.StoppedReason)
			}
			return
		}
		if ctx2.Err() != nil {
			t.Fatal("member not stopped after a permanent error")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLeaderboardForThousandUsers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// 1,000 members with hostile names; every 10th hidden; points vary.
	for _, sql := range []string{`INSERT INTO teams (team_id) VALUES ($1)`, `
	    INSERT INTO members (team_id, user_id, display_name, points, readings_done, milestones_done, hidden)
	    SELECT $1, 'U' || lpad(i::text, 5, '0'),
	           CASE WHEN i % 10 = 0 THEN 'HIDDEN-' || i ELSE '<!channel> <@U0BOSS> Dev ' || i END,
	           (i * 37) % 500, i % 24, CASE WHEN i % 3 = 0 THEN ARRAY['oncall'] ELSE '{}' END, i % 10 = 0
	    FROM generate_series(1, 1000) AS i`, `
	    INSERT INTO activity (team_id, user_id, points, milestone, at)
	    SELECT $1, 'U' || lpad(i::text, 5, '0'), 20, 'oncall', now() FROM generate_series(1, 1000) AS i WHERE i % 3 = 0`} {
		if _, err := b.db.Pool().Exec(ctx, sql, b.team); err != nil {
			t.Fatal(err)
		}
	}
	r, ok, err := b.h.LeaderboardPost(ctx, b.team, "pathbot-leaderboard-test", time.Now())
	if err != nil || !ok {
		t.Fatalf("LeaderboardPost: ok=%v err=%v", ok, err)
	}
	js, _ := json.Marshal(r.Blocks)
	for _, bad := range []string{"<!channel>", "<@", "\\u003c!channel", "\\u003c@", "HIDDEN-"} {
		if strings.Contains(string(js), bad) || strings.Contains(r.Text, bad) {
			t.Fatalf("leaderboard contains %q", bad)
		}
	}
	if !strings.Contains(string(js), "more on the path") {
		t.Fatal(`no "and N more" line`)
	}
	// The emulator enforces Slack's Block Kit limits: posting it is the real check.
	api := slack.New(b.emu.Config().BotToken, slack.OptionAPIURL(b.emu.APIURL()))
	ch := b.emu.ChannelID("#path-leaderboard")
	if _, _, err := api.PostMessage(ch, slack.MsgOptionText(r.Text, false), slack.MsgOptionBlocks(r.Blocks...)); err != nil {
		t.Fatalf("Slack refused the leaderboard: %v", err)
	}
	if len(r.Blocks) > 50 {
		t.Fatalf("%d blocks", len(r.Blocks))
	}
}

func TestNoLeaderboardWhenNobodyEnrolled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ok, err := b.h.LeaderboardPost(context.Background(), b.team, "m", time.Now())
	if err != nil || ok {
		t.Fatalf("ok=%v err=%v, want no post", ok, err)
	}
}

func TestWeeklyLeaderboardPostedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, slackemu.User{ID: "UBOARD", Name: "board", DisplayName: "Board Person", TZ: "UTC"})
	b.enrol(t, "UBOARD")
	var posts []string
	for now := at(t, "2026-11-16T00:00:00Z"); now.Before(at(t, "2026-12-01T00:00:00Z")); now = now.Add(time.Hour) {
		res, err := b.jobs.Sweep(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.Leaderboard {
			posts = append(posts, fmt.Sprintf("%s %s", now.Format("2006-01-02T15Z"), l.Key))
		}
	}
	want := "2026-11-20T16Z 2026-W47|2026-11-27T16Z 2026-W48"
	if strings.Join(posts, "|") != want {
		t.Fatalf("leaderboards enqueued %v, want %s", posts, want)
	}
}

// TestSweepForgetsOnlyOldCommands: the sweep forgets trigger_ids older than any redelivery (in
// chunks, all of them), and a redelivery of a recent command is still recognised.
func TestSweepForgetsOnlyOldCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	m := store.Member{TeamID: b.team, UserID: "U0ASHA"}
	b.enrol(t, m.UserID)
	if _, err := b.db.Apply(ctx, m, "recent", store.Change{MarkReading: "dynamo", Status: store.StatusDone}); err != nil {
		t.Fatal(err)
	}
	// 2,500 commands from eight days ago: more than two chunks.
	if _, err := b.db.Pool().Exec(ctx, `INSERT INTO processed_commands (team_id, trigger_id, user_id, created_at)
	        SELECT $1, 'old-' || g, $2, now() - interval '8 days' FROM generate_series(1, 2500) g`, m.TeamID, m.UserID); err != nil {
		t.Fatal(err)
	}
	res, err := b.jobs.Sweep(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Pruned != 2500 {
		t.Errorf("pruned %d commands, want the 2500 old ones", res.Pruned)
	}
	var left int
	if err := b.db.Pool().QueryRow(ctx, `SELECT count(*) FROM processed_commands WHERE team_id = $1`, m.TeamID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Errorf("%d commands left, want only the recent one", left)
	}
	again, err := b.db.Apply(ctx, m, "recent", store.Change{UnmarkReading: "dynamo"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Changed || !again.Snapshot.Done()["dynamo"] {
		t.Errorf("a redelivered recent command was applied again: %+v", again)
	}
}

// A sweep that fetches the whole list because one member is new rewrites only that member and
// those whose name or time zone changed, not every fresh row (a rewrite locks the row and was
// most of a sweep's cost in a large workspace).
func TestSweepRewritesOnlyStaleOrChangedProfiles(t *testing.T) {
	t.Parallel()
	b := setup(t,
		slackemu.User{ID: "UASHA", DisplayName: "Asha", TZ: "Asia/Kolkata"},
		slackemu.User{ID: "UBEN", DisplayName: "Ben", TZ: "Europe/Berlin"},
		slackemu.User{ID: "UCARO", DisplayName: "Caro", TZ: "America/Lima"},
	)
	ctx := context.Background()
	b.enrol(t, "UASHA", "UBEN")
	if _, err := b.jobs.Sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, tz string
		checked  time.Time
	}
	rows := func() map[string]row {
		t.Helper()
		got := map[string]row{}
		rs, err := b.db.Pool().Query(ctx, `SELECT user_id, display_name, coalesce(tz, ''), coalesce(tz_checked_at, 'epoch')
		        FROM members WHERE team_id = $1`, b.team)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var u string
			var r row
			if err := rs.Scan(&u, &r.name, &r.tz, &r.checked); err != nil {
				t.Fatal(err)
			}
			got[u] = r
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := rows()
	if first["UASHA"].tz != "Asia/Kolkata" || first["UBEN"].name != "Ben" {
		t.Fatalf("first sweep stored %+v", first)
	}
	b.emu.AddUser(slackemu.User{ID: "UBEN", DisplayName: "Benedikt", TZ: "Europe/Berlin"})
	b.enrol(t, "UCARO")
	if _, err := b.jobs.Sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	second := rows()
	if second["UASHA"] != first["UASHA"] {
		t.Errorf("a fresh, unchanged profile was rewritten: %+v, then %+v", first["UASHA"], second["UASHA"])
	}
	if second["UBEN"].name != "Benedikt" || !second["UBEN"].checked.After(first["UBEN"].checked) {
		t.Errorf("a changed name was not stored: %+v", second["UBEN"])
	}
	if second["UCARO"].tz != "America/Lima" || second["UCARO"].name != "Caro" {
		t.Errorf("the new member's profile was not stored: %+v", second["UCARO"])
	}
}
