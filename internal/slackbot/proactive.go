package slackbot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// BoardSize is how many people the leaderboard lists before "and N more": it keeps the post far
// inside Block Kit's limits at any team size.
const BoardSize = 20

// maxCelebrations caps the milestone shout-outs in one post.
const maxCelebrations = 10

// withMarker sets the first block's block_id. Proactive messages carry their delivery key there
// so a retried job can recognise, in the channel's history, a message an earlier attempt sent.
func withMarker(blocks []slack.Block, marker string) []slack.Block {
	if len(blocks) == 0 || marker == "" {
		return blocks
	}
	switch b := blocks[0].(type) {
	case *slack.HeaderBlock:
		b.BlockID = marker
	case *slack.SectionBlock:
		b.BlockID = marker
	case *slack.ContextBlock:
		b.BlockID = marker
	}
	return blocks
}

// Nudge composes a member's weekly nudge: the next reading with Done / Snooze / Skip buttons, the
// last reading's reflection question, the milestone closest to completion, and the streak. ok is
// false when the member is not enrolled.
func (h *Handler) Nudge(ctx context.Context, m store.Member, marker string, now time.Time) (Reply, bool, error) {
	s, err := h.Store.Snapshot(ctx, m)
	if err != nil {
		return Reply{}, false, err
	}
	if !s.Enrolled {
		return Reply{}, false, nil
	}
	ms := progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s))
	next := h.nextItem(s)
	var blocks []slack.Block
	var text string
	if next != nil {
		blocks = append(blocks, header("This week on your senior engineer path"))
		blocks = append(blocks, readingBlocks(*next)...)
		snooze := slack.NewButtonBlockElement(ActionSnooze, next.ID, plain("Snooze a week"))
		blocks = append(blocks, readingButtons(*next, snooze))
		text = fmt.Sprintf("This week: %s (%s) %s", next.Title, next.Authors, next.URL)
	} else {
		blocks = append(blocks, header("Every reading done — on to the milestones"))
		blocks = append(blocks, section("You've done or skipped all the readings. `/path list` shows them; the milestones below are what's left."))
		text = "Every reading done — on to the milestones."
	}
	var notes []string
	if last := h.lastDone(s); last != nil {
		notes = append(notes, fmt.Sprintf(":thinking_face: You read *%s* — to reflect on: _%s_", esc(last.Title), esc(last.Question)))
	}
	if c := closest(ms); c != nil {
		it, _ := h.Curriculum.Item(c.ID)
		notes = append(notes, fmt.Sprintf(":dart: Closest milestone: *%s* — %s", esc(it.Title), esc(c.Summary)))
	}
	streak := progress.Streak(activityDays(s), now, time.UTC)
	if streak > 0 {
		notes = append(notes, fmt.Sprintf(":fire: %d-week streak — keep it going!", streak))
	} else {
		notes = append(notes, ":seedling: Log anything this week to start a streak.")
	}
	blocks = append(blocks, contextBlock(notes...))
	blocks = append(blocks, contextBlock("`/path settings` changes when I nudge you · `/path pause` · `/path stop`"))
	return Reply{Text: text, Blocks: withMarker(blocks, marker)}, true, nil
}

// lastDone is the reading most recently marked done.
func (h *Handler) lastDone(s store.Snapshot) *curriculum.Item {
	var best *store.Reading
	for i := range s.Readings {
		r := &s.Readings[i]
		if r.Status == store.StatusDone && (best == nil || !r.At.Before(best.At)) {
			best = r
		}
	}
	if best == nil {
		return nil
	}
	it, ok := h.Curriculum.Item(best.ItemID)
	if !ok {
		return nil
	}
	return &it
}

// closest is the unfinished milestone with the most progress, nil when none has any.
func closest(ms []progress.MilestoneStatus) *progress.MilestoneStatus {
	var best *progress.MilestoneStatus
	for i := range ms {
		m := &ms[i]
		if m.Done || m.Have <= 0 || m.Need <= 0 {
			continue
		}
		if best == nil || m.Have/m.Need > best.Have/best.Need {
			best = m
		}
	}
	return best
}

// activityDays are the times of every logged change, for the streak.
func activityDays(s store.Snapshot) []time.Time {
	var out []time.Time
	for _, r := range s.Readings {
		out = append(out, r.At)
	}
	for _, e := range s.Entries {
		out = append(out, e.At)
	}
	for _, sh := range s.Shifts {
		out = append(out, sh.At)
	}
	return out
}

// name is how a person is shown on the leaderboard: their display name, never a mention, so a
// leaderboard pings nobody.
func name(r store.BoardRow) string {
	if strings.TrimSpace(r.DisplayName) == "" {
		return esc(r.UserID)
	}
	return esc(truncate(r.DisplayName, 60))
}

func boardLine(r store.BoardRow, now time.Time, loc *time.Location) string {
	line := fmt.Sprintf("%d. *%s* — %d pts", r.Rank, name(r), r.Points)
	if r.WeekPoints > 0 {
		line += fmt.Sprintf(" (+%d this week)", r.WeekPoints)
	}
	if s := progress.Streak(r.WeeksActive, now, loc); s > 1 {
		line += fmt.Sprintf(" · :fire: %d weeks", s)
	}
	line += fmt.Sprintf(" · %d readings · %d/7 milestones", r.Readings, r.Milestones)
	return line
}

// leaderboardView renders the board; me, when set, adds the asker's own rank.
func (h *Handler) leaderboardView(b store.Board, now time.Time, me bool) Reply {
	loc := h.teamTZ()
	week := WeekStartIn(now, loc)
	blocks := []slack.Block{header("Senior engineer path leaderboard · week of " + week.Format("Jan 2"))}
	var lines []string
	for _, r := range b.Rows {
		lines = append(lines, boardLine(r, now, loc))
	}
	blocks = append(blocks, sectionsOf(lines)...)
	if more := b.Total - len(b.Rows); more > 0 {
		blocks = append(blocks, contextBlock(fmt.Sprintf("…and %d more on the path", more)))
	}
	if len(b.Celebrations) > 0 {
		var cheers []string
		for i, c := range b.Celebrations {
			if i == maxCelebrations {
				cheers = append(cheers, fmt.Sprintf("…and %d more milestones this week!", len(b.Celebrations)-maxCelebrations))
				break
			}
			it, _ := h.Curriculum.Item(c.Milestone)
			who := store.BoardRow{DisplayName: c.DisplayName, UserID: "a teammate"}
			cheers = append(cheers, fmt.Sprintf(":tada: *%s* completed *%s*", name(who), esc(it.Title)))
		}
		blocks = append(blocks, slack.NewDividerBlock(), section(strings.Join(cheers, "\n")))
	}
	if me && b.Me != nil {
		blocks = append(blocks, contextBlock(fmt.Sprintf("You: #%d of %d with %d pts (+%d this week)", b.Me.Rank, b.Total, b.Me.Points, b.Me.WeekPoints)))
	}
	blocks = append(blocks, contextBlock("`/path help points` explains scoring · `/path settings leaderboard off` hides you"))
	text := fmt.Sprintf("Leaderboard: %d people on the path", b.Total)
	if len(b.Rows) > 0 {
		text += fmt.Sprintf("; leading: %s with %d pts", plainFallback(name(b.Rows[0])), b.Rows[0].Points)
	}
	return Reply{Text: text, Blocks: blocks}
}

// WeekStartIn is Monday 00:00 of now's week in loc.
func WeekStartIn(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()-(int(l.Weekday())+6)%7, 0, 0, 0, 0, loc)
}

func (h *Handler) teamTZ() *time.Location {
	if h.TeamTZ != nil {
		return h.TeamTZ
	}
	return time.UTC
}

// LeaderboardPost composes the weekly post for a team; ok is false when nobody is on the board.
func (h *Handler) LeaderboardPost(ctx context.Context, teamID, marker string, now time.Time) (Reply, bool, error) {
	b, err := h.Store.Leaderboard(ctx, teamID, WeekStartIn(now, h.teamTZ()), h.teamTZ(), BoardSize, "")
	if err != nil {
		return Reply{}, false, err
	}
	if b.Total == 0 {
		return Reply{}, false, nil
	}
	r := h.leaderboardView(b, now, false)
	r.Blocks = withMarker(r.Blocks, marker)
	return r, true, nil
}

// Welcome is the DM a member gets when a team lead enrols their channel.
func (h *Handler) Welcome(marker string) Reply {
	text := "Hi! Your team lead added you to *pathbot*, which coaches engineers along the senior engineer path: " +
		fmt.Sprintf("%d readings and %d experience milestones. ", len(h.Curriculum.Readings), len(h.Curriculum.Milestones)) +
		"Once a week I'll DM you the next reading.\n\n• `/path` shows your progress\n• `/path next` suggests a reading\n• `/path help` lists everything\n• `/path stop` and I won't DM you again (your progress is kept)"
	return Reply{Text: plainFallback(text), Blocks: withMarker([]slack.Block{section(text)}, marker)}
}

// pointsHelp explains scoring; the numbers come from the domain package.
func pointsHelp() string {
	return fmt.Sprintf("Points: a training is worth %d, a book %d, an essay %d, a talk %d, and each completed milestone %d. "+
		"The leaderboard ranks by points and shows this week's gains and streaks (weeks in a row with any progress).",
		progress.ReadingPoints(string(curriculum.Training)), progress.ReadingPoints(string(curriculum.Book)),
		progress.ReadingPoints(string(curriculum.Essay)), progress.ReadingPoints(string(curriculum.Talk)), progress.MilestonePoints)
}
