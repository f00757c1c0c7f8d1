package slackbot

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// Reply is one message the bot shows a user: blocks plus the plain-text fallback Slack uses for
// notifications and screen readers.
type Reply struct {
	Text   string
	Blocks []slack.Block
}

// Action ids of the buttons the bot renders; the interaction handlers route on them.
const (
	ActionDone   = "reading_done"
	ActionSkip   = "reading_skip"
	ActionSnooze = "nudge_snooze"
	ActionUndo   = "reading_undo"
)

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func section(s string) slack.Block { return slack.NewSectionBlock(mrkdwn(truncate(s, 3000)), nil, nil) }
func header(s string) slack.Block  { return slack.NewHeaderBlock(plain(truncate(s, 150))) }
func contextBlock(parts ...string) slack.Block {
	var els []slack.MixedElement
	for _, p := range parts {
		els = append(els, mrkdwn(truncate(p, 2000)))
	}
	return slack.NewContextBlock("", els...)
}

// textReply is a one-section answer.
func textReply(text string) Reply {
	return Reply{Text: plainFallback(text), Blocks: []slack.Block{section(text)}}
}

// plainFallback strips the mrkdwn emphasis markers for the notification text; escaping stays.
func plainFallback(s string) string {
	return truncate(strings.NewReplacer("*", "", "_", "", "`", "").Replace(s), 3000)
}

// errorReply says what was wrong and shows the right form.
func errorReply(msg, usage string) Reply {
	text := ":warning: " + esc(msg)
	blocks := []slack.Block{section(text)}
	if usage != "" {
		blocks = append(blocks, contextBlock("Try: `"+esc(usage)+"` · `/path help` lists every command"))
	}
	return Reply{Text: plainFallback(text), Blocks: blocks}
}

func check(done bool) string {
	if done {
		return ":white_check_mark:"
	}
	return ":white_large_square:"
}

// kindLabel is the plural used in lists and counts.
func kindLabel(k curriculum.Kind) string {
	switch k {
	case curriculum.Training:
		return "trainings"
	case curriculum.Talk:
		return "talks"
	case curriculum.Essay:
		return "essays"
	case curriculum.Book:
		return "books"
	}
	return "milestones"
}

// statusView renders a member's progress. name is empty for the asker's own status.
func statusView(c *curriculum.Curriculum, s store.Snapshot, ms []progress.MilestoneStatus, name string, next *curriculum.Item) Reply {
	done := s.Done()
	title := "Your senior engineer path"
	if name != "" {
		title = name + "'s senior engineer path"
	}
	// One pass over the readings (ReadingsOf copies; this runs on every /path status).
	have, of := map[curriculum.Kind]int{}, map[curriculum.Kind]int{}
	total := 0
	for i := range c.Readings {
		it := &c.Readings[i]
		of[it.Kind]++
		if done[it.ID] {
			have[it.Kind]++
			total++
		}
	}
	byKind := make([]string, 0, len(curriculum.ReadingKinds))
	for _, k := range curriculum.ReadingKinds {
		byKind = append(byKind, fmt.Sprintf("%s %d/%d", kindLabel(k), have[k], of[k]))
	}
	msDone := 0
	var fields []*slack.TextBlockObject
	for _, m := range ms {
		if m.Done {
			msDone++
		}
		it, _ := c.Item(m.ID)
		fields = append(fields, mrkdwn(truncate(fmt.Sprintf("%s *%s*\n%s", check(m.Done), esc(it.Title), esc(m.Summary)), 2000)))
	}
	summary := fmt.Sprintf("*Readings %d/%d* · %s\n*Milestones %d/%d* · *%d points*",
		total, len(c.Readings), strings.Join(byKind, " · "), msDone, len(ms), scoreOf(c, s, ms).Points)
	blocks := []slack.Block{header(title), section(summary)}
	for i := 0; i < len(fields); i += 10 {
		end := min(i+10, len(fields))
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[i:end], nil))
	}
	var foot []string
	if next != nil && name == "" {
		foot = append(foot, fmt.Sprintf("Next up: *%s* · `/path next`", esc(next.Title)))
	}
	if name == "" {
		foot = append(foot, "Log progress with `/path done <item>` · `/path help`")
	}
	if len(foot) > 0 {
		blocks = append(blocks, contextBlock(foot...))
	}
	text := fmt.Sprintf("%s: readings %d/%d, milestones %d/%d.", title, total, len(c.Readings), msDone, len(ms))
	for _, m := range ms {
		text += " " + m.Summary + "."
	}
	return Reply{Text: truncate(text, 3000), Blocks: blocks}
}

// scoreOf is a member's points, readings and completed milestones from their evaluated progress;
// status shows it and the store keeps it for the leaderboard, so both count the same way.
func scoreOf(c *curriculum.Curriculum, s store.Snapshot, ms []progress.MilestoneStatus) store.Score {
	var sc store.Score
	var kinds []string
	for id := range s.Done() {
		if it, ok := c.Item(id); ok && it.Kind != curriculum.Milestone {
			kinds = append(kinds, string(it.Kind))
			sc.Readings++
		}
	}
	for _, m := range ms {
		if m.Done {
			sc.Milestones = append(sc.Milestones, m.ID)
		}
	}
	sc.Points = progress.Score(kinds, len(sc.Milestones))
	return sc
}

// readingBlocks describes one reading: title, authors, effort, why, link.
func readingBlocks(it curriculum.Item) []slack.Block {
	body := fmt.Sprintf("*<%s|%s>*\n%s · %s · about %s\n_%s_",
		esc(it.URL), esc(it.Title), esc(it.Authors), strings.TrimSuffix(kindLabel(it.Kind), "s"), esc(it.Effort), esc(it.Why))
	return []slack.Block{section(body)}
}

// readingButtons are the Done / Skip buttons under a suggested reading.
func readingButtons(it curriculum.Item, extra ...slack.BlockElement) slack.Block {
	done := slack.NewButtonBlockElement(ActionDone, it.ID, plain("Done"))
	done.Style = slack.StylePrimary
	skip := slack.NewButtonBlockElement(ActionSkip, it.ID, plain("Skip"))
	els := []slack.BlockElement{done}
	els = append(els, extra...)
	els = append(els, skip)
	return slack.NewActionBlock("reading_actions", els...)
}

// nextView suggests the next reading.
func nextView(it *curriculum.Item, doneCount, total int) Reply {
	if it == nil {
		return textReply(fmt.Sprintf(":tada: You have done or skipped every reading (%d/%d done). `/path list` shows them all; skipped ones can still be marked done.", doneCount, total))
	}
	blocks := []slack.Block{header("Next reading: " + it.Title)}
	blocks = append(blocks, readingBlocks(*it)...)
	blocks = append(blocks, readingButtons(*it))
	blocks = append(blocks, contextBlock(fmt.Sprintf("#%d · `%s` · %d/%d readings done · `/path done %s` works too", it.Number, it.ID, doneCount, total, it.ID)))
	return Reply{Text: fmt.Sprintf("Next reading: %s (%s) %s", it.Title, it.Authors, it.URL), Blocks: blocks}
}

// listView lists the readings (optionally of one kind) or the milestones.
func listView(c *curriculum.Curriculum, s store.Snapshot, ms []progress.MilestoneStatus, filter string) Reply {
	done := s.Done()
	skipped := s.Skipped()
	var blocks []slack.Block
	var text []string
	if filter == "" || filter != "milestones" {
		for _, k := range curriculum.ReadingKinds {
			if filter != "" && kindLabel(k) != filter {
				continue
			}
			items := c.ReadingsOf(k)
			var lines []string
			for _, it := range items {
				mark := check(done[it.ID])
				if skipped[it.ID] {
					mark = ":fast_forward:"
				}
				lines = append(lines, fmt.Sprintf("%s `%d` <%s|%s> — %s · `%s`", mark, it.Number, esc(it.URL), esc(it.Title), esc(it.Authors), it.ID))
			}
			blocks = append(blocks, header(fmt.Sprintf("%s (%d)", strings.ToUpper(kindLabel(k)[:1])+kindLabel(k)[1:], len(items))))
			blocks = append(blocks, sectionsOf(lines)...)
			text = append(text, fmt.Sprintf("%s: %d", kindLabel(k), len(items)))
		}
	}
	if filter == "" || filter == "milestones" {
		var lines []string
		for _, m := range ms {
			it, _ := c.Item(m.ID)
			lines = append(lines, fmt.Sprintf("%s `%s` *%s* — %s", check(m.Done), it.ID, esc(it.Title), esc(m.Summary)))
		}
		blocks = append(blocks, header(fmt.Sprintf("Milestones (%d)", len(ms))))
		blocks = append(blocks, sectionsOf(lines)...)
		text = append(text, fmt.Sprintf("milestones: %d", len(ms)))
	}
	blocks = append(blocks, contextBlock("Mark one with `/path done <id or number>` · skipped ones show :fast_forward:"))
	return Reply{Text: "The senior engineer path — " + strings.Join(text, ", "), Blocks: blocks}
}

// sectionsOf packs lines into as few sections as fit in 3000 characters each.
func sectionsOf(lines []string) []slack.Block {
	var out []slack.Block
	var cur strings.Builder
	for _, l := range lines {
		l = truncate(l, 2900)
		if cur.Len() > 0 && cur.Len()+len(l)+1 > 3000 {
			out = append(out, section(cur.String()))
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	if cur.Len() > 0 {
		out = append(out, section(cur.String()))
	}
	return out
}
