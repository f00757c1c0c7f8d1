package slackbot

import (
	"fmt"
	"slices"
	"strconv"
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
	els := make([]slack.MixedElement, 0, len(parts))
	for _, p := range parts {
		els = append(els, mrkdwn(truncate(p, 2000)))
	}
	return slack.NewContextBlock("", els...)
}

// textReply is a one-section answer.
func textReply(text string) Reply {
	return Reply{Text: plainFallback(text), Blocks: []slack.Block{section(text)}}
}

// emphasis strips mrkdwn's emphasis markers. Built once: building a Replacer costs more than
// using it, and every answer's fallback text goes through it.
var emphasis = strings.NewReplacer("*", "", "_", "", "`", "")

// plainFallback strips the mrkdwn emphasis markers for the notification text; escaping stays.
func plainFallback(s string) string {
	return truncate(emphasis.Replace(s), 3000)
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

// statusView renders a member's progress. name is empty for the asker's own status. It runs on
// every /path status, so it counts with slices and builds text without fmt.
func statusView(c *curriculum.Curriculum, s store.Snapshot, ms []progress.MilestoneStatus, name string, next *curriculum.Item) Reply {
	done := s.Done()
	title := "Your senior engineer path"
	if name != "" {
		title = name + "'s senior engineer path"
	}
	// One pass over the readings (ReadingsOf copies), counting by index in ReadingKinds.
	have := make([]int, len(curriculum.ReadingKinds))
	of := make([]int, len(curriculum.ReadingKinds))
	total := 0
	for i := range c.Readings {
		it := &c.Readings[i]
		k := slices.Index(curriculum.ReadingKinds, it.Kind)
		if k >= 0 {
			of[k]++
		}
		if done[it.ID] {
			if k >= 0 {
				have[k]++
			}
			total++
		}
	}
	msDone := 0
	fields := make([]*slack.TextBlockObject, 0, len(ms))
	for _, m := range ms {
		if m.Done {
			msDone++
		}
		it, _ := c.Item(m.ID)
		fields = append(fields, mrkdwn(truncate(check(m.Done)+" *"+esc(it.Title)+"*\n"+esc(m.Summary), 2000)))
	}
	var summary strings.Builder
	summary.Grow(160)
	summary.WriteString("*Readings ")
	writeFraction(&summary, total, len(c.Readings))
	summary.WriteString("*")
	for i, k := range curriculum.ReadingKinds {
		summary.WriteString(" · ")
		summary.WriteString(kindLabel(k))
		summary.WriteByte(' ')
		writeFraction(&summary, have[i], of[i])
	}
	summary.WriteString("\n*Milestones ")
	writeFraction(&summary, msDone, len(ms))
	summary.WriteString("* · *")
	summary.WriteString(strconv.Itoa(score(c, done, ms).Points))
	summary.WriteString(" points*")
	blocks := make([]slack.Block, 0, 3+(len(fields)+9)/10)
	blocks = append(blocks, header(title), section(summary.String()))
	for i := 0; i < len(fields); i += 10 {
		end := min(i+10, len(fields))
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[i:end], nil))
	}
	if name == "" {
		if next != nil {
			blocks = append(blocks, contextBlock("Next up: *"+esc(next.Title)+"* · `/path next`", "Log progress with `/path done <item>` · `/path help`"))
		} else {
			blocks = append(blocks, contextBlock("Log progress with `/path done <item>` · `/path help`"))
		}
	}
	var text strings.Builder
	text.Grow(len(title) + 48 + len(ms)*48)
	text.WriteString(title)
	text.WriteString(": readings ")
	writeFraction(&text, total, len(c.Readings))
	text.WriteString(", milestones ")
	writeFraction(&text, msDone, len(ms))
	text.WriteByte('.')
	for _, m := range ms {
		text.WriteByte(' ')
		text.WriteString(m.Summary)
		text.WriteByte('.')
	}
	return Reply{Text: truncate(text.String(), 3000), Blocks: blocks}
}

// writeFraction writes "n/of". The texts above are written piece by piece because a
// concatenation would allocate its result before the builder copies it.
func writeFraction(b *strings.Builder, n, of int) {
	b.WriteString(strconv.Itoa(n))
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(of))
}

// scoreOf is a member's points, readings and completed milestones from their evaluated progress;
// status shows it and the store keeps it for the leaderboard, so both count the same way.
func scoreOf(c *curriculum.Curriculum, s store.Snapshot, ms []progress.MilestoneStatus) store.Score {
	return score(c, s.Done(), ms)
}

// score is scoreOf for a caller that already has the snapshot's done readings.
func score(c *curriculum.Curriculum, done map[string]bool, ms []progress.MilestoneStatus) store.Score {
	var sc store.Score
	kinds := make([]string, 0, len(done))
	for id := range done {
		if it, ok := c.Item(id); ok && it.Kind != curriculum.Milestone {
			kinds = append(kinds, string(it.Kind))
			sc.Readings++
		}
	}
	for _, m := range ms {
		if m.Done {
			if sc.Milestones == nil {
				sc.Milestones = make([]string, 0, len(ms)) // still nil when none is done
			}
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
		lines := make([]string, 0, len(c.Readings))
		for _, k := range curriculum.ReadingKinds {
			label := kindLabel(k)
			if filter != "" && label != filter {
				continue
			}
			// The readings of kind k, in path order, without ReadingsOf's copy of every item.
			lines = lines[:0]
			for i := range c.Readings {
				it := &c.Readings[i]
				if it.Kind != k {
					continue
				}
				mark := check(done[it.ID])
				if skipped[it.ID] {
					mark = ":fast_forward:"
				}
				lines = append(lines, mark+" `"+strconv.Itoa(it.Number)+"` <"+esc(it.URL)+"|"+esc(it.Title)+"> — "+esc(it.Authors)+" · `"+it.ID+"`")
			}
			blocks = append(blocks, header(strings.ToUpper(label[:1])+label[1:]+" ("+strconv.Itoa(len(lines))+")"))
			blocks = append(blocks, sectionsOf(lines)...)
			text = append(text, label+": "+strconv.Itoa(len(lines)))
		}
	}
	if filter == "" || filter == "milestones" {
		lines := make([]string, 0, len(ms))
		for _, m := range ms {
			it, _ := c.Item(m.ID)
			lines = append(lines, check(m.Done)+" `"+it.ID+"` *"+esc(it.Title)+"* — "+esc(m.Summary))
		}
		blocks = append(blocks, header("Milestones ("+strconv.Itoa(len(ms))+")"))
		blocks = append(blocks, sectionsOf(lines)...)
		text = append(text, "milestones: "+strconv.Itoa(len(ms)))
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
