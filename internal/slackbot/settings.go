package slackbot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/command"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// Scheduler is what the admin commands need from the job system.
type Scheduler interface {
	// NudgeNow sends one nudge now; key makes it at most once (a command's trigger id).
	NudgeNow(ctx context.Context, m store.Member, key string) error
	// PostLeaderboard posts the leaderboard now to channel.
	PostLeaderboard(ctx context.Context, teamID, channel, key string) error
	// Welcome sends a member the enrolment DM, once.
	Welcome(ctx context.Context, m store.Member) error
}

func (h *Handler) leaderboard(ctx context.Context, m store.Member) (Reply, error) {
	if err := h.Store.Enrol(ctx, m); err != nil {
		return Reply{}, err
	}
	now := h.Now()
	b, err := h.Store.Leaderboard(ctx, m.TeamID, WeekStartIn(now, h.teamTZ()), h.teamTZ(), BoardSize, m.UserID)
	if err != nil {
		return Reply{}, err
	}
	r := h.leaderboardView(b, now, true)
	if b.Me == nil {
		r.Blocks = append(r.Blocks[:len(r.Blocks)-1], contextBlock("You're hidden from the board: `/path settings leaderboard on` shows you again."), r.Blocks[len(r.Blocks)-1])
	}
	return r, nil
}

var weekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

func (h *Handler) settings(ctx context.Context, m store.Member, cmd command.Command) (Reply, error) {
	switch cmd.Topic {
	case command.SettingNudge:
		var hh, mm int
		if _, err := fmt.Sscanf(cmd.Clock, "%d:%d", &hh, &mm); err != nil {
			return errorReply("I couldn't read that time.", "/path settings nudge monday 09:00"), nil
		}
		if err := h.Store.SetNudgeTime(ctx, m, cmd.Weekday, hh*60+mm); err != nil {
			return Reply{}, err
		}
		return textReply(fmt.Sprintf(":alarm_clock: I'll nudge you every *%s at %s*, your local time.", weekdays[cmd.Weekday], cmd.Clock)), nil
	case command.SettingLeaderboard:
		if err := h.Store.SetHidden(ctx, m, !cmd.On); err != nil {
			return Reply{}, err
		}
		if cmd.On {
			return textReply(":trophy: You're on the leaderboard."), nil
		}
		return textReply(":see_no_evil: You're hidden from the leaderboard; your progress still counts for you."), nil
	}
	if err := h.Store.Enrol(ctx, m); err != nil {
		return Reply{}, err
	}
	s, err := h.Store.Settings(ctx, m)
	if err != nil {
		return Reply{}, err
	}
	when := "the team default (" + h.DefaultNudge + ")"
	if s.NudgeWeekday != nil && s.NudgeMinute != nil {
		when = fmt.Sprintf("%s at %02d:%02d", weekdays[*s.NudgeWeekday], *s.NudgeMinute/60, *s.NudgeMinute%60)
	}
	tz := s.TZ
	if tz == "" {
		tz = "not known yet (I'll read it from your Slack profile)"
	}
	lines := []string{
		"*Weekly nudge:* " + when + ", in your time zone: " + esc(tz),
	}
	switch {
	case s.Stopped:
		lines = append(lines, "*Nudges:* stopped"+reason(s.StoppedReason)+" — `/path resume` turns them back on")
	case s.PausedUntil != nil && s.PausedUntil.After(h.Now()):
		lines = append(lines, "*Nudges:* paused until "+s.PausedUntil.Format("Mon Jan 2")+" — `/path resume` ends the pause")
	case s.NextNudgeAt != nil:
		lines = append(lines, "*Next nudge:* "+s.NextNudgeAt.In(schedLoc(s.TZ)).Format("Mon Jan 2, 15:04"))
	}
	board := "shown"
	if s.Hidden {
		board = "hidden"
	}
	lines = append(lines, "*Leaderboard:* you're "+board)
	r := Reply{Text: "Your pathbot settings", Blocks: nil}
	r.Blocks = append(r.Blocks, header("Your pathbot settings"), section(strings.Join(lines, "\n")),
		contextBlock("`/path settings nudge friday 14:30` · `/path pause 2 weeks` · `/path stop` · `/path settings leaderboard off`"))
	return r, nil
}

func reason(r string) string {
	if r == "" || r == "asked" {
		return ""
	}
	return " (" + esc(r) + ")"
}

func schedLoc(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		return loc
	}
	return time.UTC
}

func (h *Handler) pause(ctx context.Context, m store.Member, cmd command.Command) (Reply, error) {
	now := h.Now()
	until := now.AddDate(0, 0, 7*max(cmd.Weeks, 1))
	if cmd.Until.IsValid() {
		until = time.Date(cmd.Until.Year, cmd.Until.Month, cmd.Until.Day, 0, 0, 0, 0, time.UTC)
	}
	if err := h.Store.Pause(ctx, m, until); err != nil {
		return Reply{}, err
	}
	return textReply(fmt.Sprintf(":zzz: Nudges paused until %s. `/path resume` brings them back sooner.", until.Format("Monday, Jan 2"))), nil
}

func (h *Handler) resume(ctx context.Context, m store.Member) (Reply, error) {
	if err := h.Store.Resume(ctx, m); err != nil {
		return Reply{}, err
	}
	return textReply(":arrow_forward: Nudges are back on. `/path settings` shows when the next one comes."), nil
}

func (h *Handler) stop(ctx context.Context, m store.Member) (Reply, error) {
	if err := h.Store.Stop(ctx, m, "asked"); err != nil {
		return Reply{}, err
	}
	return textReply(":wave: Done — I won't DM you any more. Your progress is kept, `/path` still works, and `/path resume` turns nudges back on."), nil
}

// isAdmin: workspace admins and owners (users.info) plus PATHBOT_ADMINS.
func (h *Handler) isAdmin(ctx context.Context, userID string) (bool, error) {
	if slices.Contains(h.Admins, userID) {
		return true, nil
	}
	if h.Users == nil {
		return false, nil
	}
	p, err := h.Users.Profile(ctx, userID)
	if err != nil {
		return false, err
	}
	return p.IsAdmin, nil
}

func (h *Handler) admin(ctx context.Context, m store.Member, trigger string, cmd command.Command) (Reply, error) {
	ok, err := h.isAdmin(ctx, m.UserID)
	if err != nil {
		return Reply{}, err
	}
	if !ok {
		return errorReply("Admin commands are for workspace admins and owners (and the people in PATHBOT_ADMINS). Nothing was changed.", ""), nil
	}
	switch cmd.Topic {
	case command.AdminLeaderboardChannel:
		ch, bad := channelID(cmd.Channel)
		if bad != nil {
			return *bad, nil
		}
		if err := h.Store.SetLeaderboardChannel(ctx, m.TeamID, ch); err != nil {
			return Reply{}, err
		}
		return textReply(fmt.Sprintf(":trophy: The weekly leaderboard will be posted in <#%s>. Make sure I'm a member of that channel.", ch)), nil
	case command.AdminPostLeaderboard:
		t, err := h.Store.Team(ctx, m.TeamID)
		if err != nil {
			return Reply{}, err
		}
		ch := t.LeaderboardChannel
		if ch == "" {
			ch = h.DefaultLeaderboardChannel
		}
		if ch == "" {
			return errorReply("There's no leaderboard channel yet.", "/path admin leaderboard-channel #path-leaderboard"), nil
		}
		if err := h.Jobs.PostLeaderboard(ctx, m.TeamID, ch, "manual-"+trigger); err != nil {
			return Reply{}, err
		}
		return textReply(fmt.Sprintf(":outbox_tray: Posting the leaderboard to <#%s> now.", ch)), nil
	case command.AdminNudgeNow:
		targets := []string{m.UserID}
		if cmd.User != "" {
			id, bad := userID(cmd.User)
			if bad != nil {
				return *bad, nil
			}
			targets = []string{id}
		}
		for _, u := range targets {
			if err := h.Jobs.NudgeNow(ctx, store.Member{TeamID: m.TeamID, UserID: u}, "manual-"+trigger); err != nil {
				return Reply{}, err
			}
		}
		return textReply(fmt.Sprintf(":envelope: Nudging <@%s> now.", targets[0])), nil
	case command.AdminEnroll:
		ch, bad := channelID(cmd.Channel)
		if bad != nil {
			return *bad, nil
		}
		members, err := h.Users.ChannelMembers(ctx, ch)
		if err != nil {
			return errorReply("I couldn't read that channel's members. Is it a channel I'm in?", "/path admin enroll #engineering"), nil
		}
		n := 0
		for _, u := range members {
			p, err := h.Users.Profile(ctx, u)
			if err != nil || p.IsBot || p.Deleted {
				continue
			}
			mm := store.Member{TeamID: m.TeamID, UserID: u}
			if err := h.Store.Enrol(ctx, mm); err != nil {
				return Reply{}, err
			}
			if err := h.Jobs.Welcome(ctx, mm); err != nil {
				return Reply{}, err
			}
			n++
		}
		return textReply(fmt.Sprintf(":busts_in_silhouette: Enrolled %d people from <#%s>; each gets a welcome DM with how to stop.", n, ch)), nil
	case command.AdminThresholds:
		if slices.Contains(cmd.Args, command.ArgReset) {
			if err := h.Store.ClearThresholds(ctx, m.TeamID); err != nil {
				return Reply{}, err
			}
			return textReply(fmt.Sprintf(":straight_ruler: Load-test bar back to the default: p95 ≤ %s, p99 ≤ %s, max ≤ %s.", h.Thresholds.P95, h.Thresholds.P99, h.Thresholds.Max)), nil
		}
		if cmd.Thresholds == (progress.Thresholds{}) {
			t, err := h.Store.Team(ctx, m.TeamID)
			if err != nil {
				return Reply{}, err
			}
			th := h.Thresholds
			if t.Thresholds != nil {
				th = *t.Thresholds
			}
			return textReply(fmt.Sprintf(":straight_ruler: The load-test bar: more than 1,000 req/s with p95 ≤ %s, p99 ≤ %s, max ≤ %s.", th.P95, th.P99, th.Max)), nil
		}
		if err := h.Store.SetThresholds(ctx, m.TeamID, cmd.Thresholds); err != nil {
			return Reply{}, err
		}
		return textReply(fmt.Sprintf(":straight_ruler: Load-test bar set: p95 ≤ %s, p99 ≤ %s, max ≤ %s.", cmd.Thresholds.P95, cmd.Thresholds.P99, cmd.Thresholds.Max)), nil
	}
	return errorReply("I don't know that admin command.", "/path help admin"), nil
}

func channelID(s string) (string, *Reply) {
	if s == "" || strings.HasPrefix(s, "#") {
		r := errorReply("Please pick the channel with # so Slack links it.", "/path admin leaderboard-channel #path-leaderboard")
		return "", &r
	}
	return s, nil
}

func userID(s string) (string, *Reply) {
	if strings.HasPrefix(s, "@") || s == "" {
		r := errorReply("Please mention the person with @ so Slack links the name.", "/path admin nudge-now @teammate")
		return "", &r
	}
	return s, nil
}
