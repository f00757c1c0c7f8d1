package slackbot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// Action handles a button click. Clicking twice is harmless: marking a reading done is an upsert,
// and the answer says "already" the second time.
func (h *Handler) Action(ctx context.Context, teamID, userID, triggerID, actionID, value string) (Reply, error) {
	m := store.Member{TeamID: teamID, UserID: userID}
	it, ok := h.Curriculum.Item(value)
	if !ok || it.Kind == curriculum.Milestone {
		return errorReply("That button points at a reading this pathbot doesn't know any more.", "/path next"), nil
	}
	var r Reply
	var err error
	switch actionID {
	case ActionDone:
		r, err = h.markReading(ctx, m, triggerID, it.ID, store.StatusDone)
	case ActionSkip:
		r, err = h.markReading(ctx, m, triggerID, it.ID, store.StatusSkipped)
	case ActionUndo:
		r, err = h.undo(ctx, m, triggerID, it.ID)
	case ActionSnooze:
		// Rounded to the day so a double click snoozes one week, not two.
		until := h.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 7)
		if err = h.Store.Snooze(ctx, m, until); err == nil {
			r = textReply(fmt.Sprintf(":zzz: Snoozed — no nudge until %s. *%s* will still be next.", until.Format("Monday, Jan 2"), esc(it.Title)))
		}
	default:
		return errorReply("That button isn't supported by this version of pathbot.", "/path help"), nil
	}
	if err != nil {
		return errorReply(errInternal, ""), fmt.Errorf("button %s for %s: %w", actionID, m, err)
	}
	return r, nil
}

// Home renders the App Home tab: progress and the next reading with its buttons.
func (h *Handler) Home(ctx context.Context, teamID, userID string) (Reply, error) {
	m := store.Member{TeamID: teamID, UserID: userID}
	s, err := h.Store.Snapshot(ctx, m)
	if err != nil {
		return Reply{}, err
	}
	if !s.Enrolled {
		return Reply{Text: "Welcome to pathbot", Blocks: []slack.Block{
			header("Welcome to pathbot"),
			section("pathbot coaches you along the *senior engineer path*: 23 readings (trainings, talks, essays, books) and 7 experience milestones, from a design review to 21 days of on-call.\n\nType `/path` in any channel to start, or `/path help` to see every command."),
		}}, nil
	}
	ms := progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s))
	next := h.nextItem(s)
	r := statusView(h.Curriculum, s, ms, "", next)
	blocks := append([]slack.Block{}, r.Blocks...)
	if next != nil {
		blocks = append(blocks, slack.NewDividerBlock(), header("Next reading"))
		blocks = append(blocks, readingBlocks(*next)...)
		blocks = append(blocks, readingButtons(*next))
	}
	return Reply{Text: r.Text, Blocks: blocks}, nil
}

// Score is a member's points, readings and completed milestones by the domain rules; the store
// calls it inside every change's transaction to keep the leaderboard's denormalised score true.
func (h *Handler) Score(s store.Snapshot) store.Score {
	return scoreOf(h.Curriculum, s, progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s)))
}
