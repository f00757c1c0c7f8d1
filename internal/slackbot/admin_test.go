package slackbot

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/pathbot/pathbot/internal/store"
)

// jobsSpy records what admin commands asked the job system to do.
type jobsSpy struct {
	mu    sync.Mutex
	calls []string
}

func (j *jobsSpy) record(s string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls = append(j.calls, s)
	return nil
}
func (j *jobsSpy) NudgeNow(_ context.Context, m store.Member, key string) error {
	return j.record("nudge " + m.UserID)
}
func (j *jobsSpy) PostLeaderboard(_ context.Context, team, ch, key string) error {
	return j.record("board " + ch)
}
func (j *jobsSpy) Welcome(_ context.Context, m store.Member) error {
	return j.record("welcome " + m.UserID)
}

func TestNonAdminChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	spy := &jobsSpy{}
	b.h.Jobs = spy
	b.h.Users = users{"UPLAIN": {ID: "UPLAIN", DisplayName: "plain"}, "UBOSS": {ID: "UBOSS", DisplayName: "boss", IsAdmin: true}}
	ctx := context.Background()
	for _, text := range []string{
		"admin leaderboard-channel <#C0NEW|new>",
		"admin post-leaderboard",
		"admin nudge-now <@UBOSS|boss>",
		"admin enroll <#C0ALL|all>",
		"admin thresholds p95=1s p99=2s max=3s",
	} {
		r, _, err := b.h.Slash(ctx, slash("UPLAIN", text))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, "Nothing was changed") {
			t.Errorf("/path %s by a non-admin: %s", text, r.Text)
		}
	}
	team, err := b.db.Team(ctx, "T1")
	if err != nil {
		t.Fatal(err)
	}
	if team.LeaderboardChannel != "" || team.Thresholds != nil || len(spy.calls) != 0 {
		t.Fatalf("non-admin changed something: team=%+v jobs=%v", team, spy.calls)
	}

	// The same commands from an admin do take effect.
	for _, text := range []string{"admin leaderboard-channel <#C0NEW|new>", "admin thresholds p95=1s p99=2s max=3s", "admin post-leaderboard", "admin enroll <#C0ALL|all>"} {
		if _, _, err := b.h.Slash(ctx, slash("UBOSS", text)); err != nil {
			t.Fatal(err)
		}
	}
	team, _ = b.db.Team(ctx, "T1")
	if team.LeaderboardChannel != "C0NEW" || team.Thresholds == nil || team.Thresholds.P99.String() != "2s" {
		t.Fatalf("admin change not applied: %+v", team)
	}
	joined := strings.Join(spy.calls, ",")
	if !strings.Contains(joined, "board C0NEW") || !strings.Contains(joined, "welcome UPLAIN") {
		t.Fatalf("jobs = %v", spy.calls)
	}
}

func TestSettingsPauseStop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, c := range []struct{ text, want string }{
		{"settings nudge friday 14:30", "Friday at 14:30"},
		{"settings", "Friday at 14:30"},
		{"pause 2 weeks", "paused until"},
		{"resume", "back on"},
		{"settings leaderboard off", "hidden"},
		{"stop", "won't DM you"},
		{"settings", "stopped"},
	} {
		r, _, err := b.h.Slash(ctx, slash("U8", c.text))
		if err != nil {
			t.Fatal(err)
		}
		out := render(t, r)
		if !strings.Contains(out, c.want) {
			t.Fatalf("/path %s: want %q in %s", c.text, c.want, out)
		}
	}
	s, err := b.db.Settings(ctx, store.Member{TeamID: "T1", UserID: "U8"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Stopped || !s.Hidden || s.NudgeWeekday == nil || *s.NudgeWeekday != 5 || *s.NudgeMinute != 14*60+30 {
		t.Fatalf("settings = %+v", s)
	}
}
