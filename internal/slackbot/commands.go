package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/command"
	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// Store is what the command handlers need from the database.
type Store interface {
	Enrol(ctx context.Context, m store.Member) error
	Snapshot(ctx context.Context, m store.Member) (store.Snapshot, error)
	Apply(ctx context.Context, m store.Member, triggerID string, ch store.Change) (store.Result, error)
	Settings(ctx context.Context, m store.Member) (store.Settings, error)
	SetNudgeTime(ctx context.Context, m store.Member, weekday time.Weekday, minute int) error
	Pause(ctx context.Context, m store.Member, until time.Time) error
	Snooze(ctx context.Context, m store.Member, until time.Time) error
	Resume(ctx context.Context, m store.Member) error
	Stop(ctx context.Context, m store.Member, reason string) error
	SetHidden(ctx context.Context, m store.Member, hidden bool) error
	Team(ctx context.Context, teamID string) (store.Team, error)
	SetLeaderboardChannel(ctx context.Context, teamID, channel string) error
	SetThresholds(ctx context.Context, teamID string, th progress.Thresholds) error
	ClearThresholds(ctx context.Context, teamID string) error
	Leaderboard(ctx context.Context, teamID string, weekStart time.Time, loc *time.Location, limit int, me string) (store.Board, error)
}

// Profile is what the bot needs to know about a Slack user.
type Profile struct {
	ID          string
	DisplayName string
	TZ          string
	IsAdmin     bool
	IsBot       bool
	Deleted     bool
}

// Directory looks up Slack users (users.info, cached) and channel members.
type Directory interface {
	Profile(ctx context.Context, userID string) (Profile, error)
	ChannelMembers(ctx context.Context, channelID string) ([]string, error)
}

// Handler turns slash commands and button clicks into store changes and replies. It knows nothing
// about sockets: Bot feeds it, tests call it directly.
type Handler struct {
	Curriculum *curriculum.Curriculum
	Store      Store
	Users      Directory
	Thresholds progress.Thresholds
	Now        func() time.Time
	Log        *slog.Logger

	Jobs   Scheduler
	Admins []string // PATHBOT_ADMINS
	// TeamTZ is the team's time zone: the leaderboard's week runs Monday to Sunday in it.
	TeamTZ                    *time.Location
	DefaultLeaderboardChannel string
	DefaultNudge              string // the team default, for display, e.g. "Monday 09:00"
}

// errInternal is the one sentence a user sees when something broke on our side.
const errInternal = "Sorry, something went wrong on our side and nothing was saved. Please try again in a minute."

// today is the latest calendar date anywhere on Earth (UTC+14). Using it to refuse "future" dates
// avoids a users.info round trip per command while never refusing a date that is already today
// for the user, wherever they are.
func (h *Handler) today() progress.Date {
	return progress.FromTime(h.Now(), earliestZone)
}

var earliestZone = time.FixedZone("UTC+14", 14*3600)

func (h *Handler) thresholds(s store.Snapshot) progress.Thresholds {
	if s.Thresholds != nil {
		return *s.Thresholds
	}
	return h.Thresholds
}

// Slash answers one /path command. The reply is always something to show the user; err is only
// for logging and is never shown.
func (h *Handler) Slash(ctx context.Context, sc slack.SlashCommand) (Reply, string, error) {
	m := store.Member{TeamID: sc.TeamID, UserID: sc.UserID}
	cmd, bad := h.parse(sc.Text)
	if bad != nil {
		return *bad, "usage", nil
	}
	verb := string(cmd.Verb)
	r, err := h.dispatch(ctx, m, sc.TriggerID, cmd)
	if err != nil {
		return errorReply(errInternal, ""), verb, fmt.Errorf("/path %s for %s: %w", verb, m, err)
	}
	return r, verb, nil
}

// parse reads a command, or returns the friendly answer to bad input.
func (h *Handler) parse(text string) (command.Command, *Reply) {
	cmd, err := command.Parse(text, h.today())
	if err == nil {
		return cmd, nil
	}
	r := errorReply("I couldn't read that command.", "/path help")
	var ue *command.UsageError
	if errors.As(err, &ue) {
		r = errorReply(ue.Msg, ue.Usage)
	}
	return command.Command{}, &r
}

// cacher is implemented by a Store that can tell a member's snapshot from memory alone.
type cacher interface {
	Cached(m store.Member) (store.Snapshot, bool)
}

// SlashFromMemory answers sc if it can without waiting on anything (no database, no Slack call):
// bad input, help, and a member's own status, next and list when their snapshot is cached, which
// is most commands. ok is false when the command needs more; then the caller runs Slash, which
// starts over. The bot calls it on the goroutine reading the Socket Mode link, sparing most
// commands a goroutine and its wake-up.
func (h *Handler) SlashFromMemory(sc slack.SlashCommand) (r Reply, verb string, ok bool) {
	cmd, bad := h.parse(sc.Text)
	if bad != nil {
		return *bad, "usage", true
	}
	verb = string(cmd.Verb)
	switch cmd.Verb {
	case command.Help:
		return h.help(cmd.Topic), verb, true
	case command.Status, command.Next, command.List:
		if cmd.Verb == command.Status && cmd.User != "" {
			return Reply{}, verb, false // a teammate: their name may need users.info
		}
	default:
		return Reply{}, verb, false
	}
	c, isCacher := h.Store.(cacher)
	if !isCacher {
		return Reply{}, verb, false
	}
	s, cached := c.Cached(store.Member{TeamID: sc.TeamID, UserID: sc.UserID})
	if !cached {
		return Reply{}, verb, false
	}
	switch cmd.Verb {
	case command.Status:
		return h.ownStatusOf(s), verb, true
	case command.Next:
		return h.nextOf(s), verb, true
	default:
		return h.listOf(s, cmd.Topic), verb, true
	}
}

// ownStatusOf, nextOf and listOf render a member's own status, next reading and list from their
// snapshot, for the usual path and the one from memory alike.
func (h *Handler) ownStatusOf(s store.Snapshot) Reply {
	return statusView(h.Curriculum, s, progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s)), "", h.nextItem(s))
}

func (h *Handler) nextOf(s store.Snapshot) Reply {
	return nextView(h.nextItem(s), len(s.Done()), len(h.Curriculum.Readings))
}

func (h *Handler) listOf(s store.Snapshot, filter string) Reply {
	return listView(h.Curriculum, s, progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s)), filter)
}

func (h *Handler) dispatch(ctx context.Context, m store.Member, trigger string, cmd command.Command) (Reply, error) {
	switch cmd.Verb {
	case command.Help:
		return h.help(cmd.Topic), nil
	case command.Status:
		return h.status(ctx, m, cmd.User)
	case command.Next:
		return h.next(ctx, m)
	case command.List:
		return h.list(ctx, m, cmd.Topic)
	case command.Done:
		return h.markReading(ctx, m, trigger, cmd.Item, store.StatusDone)
	case command.Skip:
		return h.markReading(ctx, m, trigger, cmd.Item, store.StatusSkipped)
	case command.Undo:
		return h.undo(ctx, m, trigger, cmd.Item)
	case command.Oncall:
		return h.oncall(ctx, m, trigger, cmd.Shift)
	case command.Loadtest:
		return h.loadtest(ctx, m, trigger, cmd.Load)
	case command.Log:
		return h.log(ctx, m, trigger, cmd.Entries)
	case command.Leaderboard:
		return h.leaderboard(ctx, m)
	case command.Settings:
		return h.settings(ctx, m, cmd)
	case command.Pause:
		return h.pause(ctx, m, cmd)
	case command.Resume:
		return h.resume(ctx, m)
	case command.Stop:
		return h.stop(ctx, m)
	case command.Admin:
		return h.admin(ctx, m, trigger, cmd)
	}
	return errorReply(fmt.Sprintf("`/path %s` isn't available in this version of pathbot.", cmd.Verb), "/path help"), nil
}

func (h *Handler) help(topic string) Reply {
	if strings.EqualFold(topic, "points") {
		return Reply{Text: pointsHelp(), Blocks: []slack.Block{header("/path help points"), section(pointsHelp())}}
	}
	if topic != "" {
		text, ok := command.HelpFor(topic)
		if !ok {
			return errorReply(fmt.Sprintf("There's no help on %q.", truncate(topic, 40)), "/path help")
		}
		return Reply{Text: plainFallback(text), Blocks: []slack.Block{header("/path help " + truncate(topic, 40)), section(esc(text))}}
	}
	var lines []string
	for _, e := range command.HelpIndex() {
		lines = append(lines, fmt.Sprintf("`%s` — %s\n      e.g. `%s`", esc(e.Usage), esc(e.Summary), esc(e.Example)))
	}
	blocks := []slack.Block{header("pathbot: your senior engineer path")}
	blocks = append(blocks, sectionsOf(lines)...)
	blocks = append(blocks, contextBlock("`/path help <command>` or `/path help <milestone>` explains one in detail · `/path help points` explains scoring"))
	return Reply{Text: "pathbot commands: " + strings.Join(verbs(), ", "), Blocks: blocks}
}

func verbs() []string {
	var v []string
	for _, e := range command.HelpIndex() {
		v = append(v, string(e.Verb))
	}
	return v
}

var (
	mentionRE = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(\|[^>]*)?>$`)
	userIDRE  = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
)

func (h *Handler) status(ctx context.Context, m store.Member, who string) (Reply, error) {
	if who != "" {
		id := who
		if sm := mentionRE.FindStringSubmatch(who); sm != nil {
			id = sm[1]
		}
		if strings.HasPrefix(id, "@") || !userIDRE.MatchString(id) {
			return errorReply("Please mention your teammate so Slack links the name.", "/path status @teammate"), nil
		}
		if id != m.UserID {
			name := "<@" + id + ">"
			if h.Users != nil {
				if p, err := h.Users.Profile(ctx, id); err == nil && p.DisplayName != "" {
					name = p.DisplayName
				}
			}
			m = store.Member{TeamID: m.TeamID, UserID: id}
			s, err := h.Store.Snapshot(ctx, m)
			if err != nil {
				return Reply{}, err
			}
			if !s.Enrolled {
				return textReply(fmt.Sprintf("%s hasn't started the senior engineer path yet. Invite them to try `/path`!", esc(name))), nil
			}
			return statusView(h.Curriculum, s, progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s)), esc(name), nil), nil
		}
	}
	s, err := h.snapshot(ctx, m)
	if err != nil {
		return Reply{}, err
	}
	return h.ownStatusOf(s), nil
}

// snapshot enrols the member (first use of /path) and loads their progress.
func (h *Handler) snapshot(ctx context.Context, m store.Member) (store.Snapshot, error) {
	if err := h.Store.Enrol(ctx, m); err != nil {
		return store.Snapshot{}, err
	}
	return h.Store.Snapshot(ctx, m)
}

func (h *Handler) nextItem(s store.Snapshot) *curriculum.Item {
	order := make([]string, len(h.Curriculum.Readings))
	for i, it := range h.Curriculum.Readings {
		order[i] = it.ID
	}
	id, ok := progress.NextReading(order, s.Done(), s.Skipped())
	if !ok {
		return nil
	}
	it, _ := h.Curriculum.Item(id)
	return &it
}

func (h *Handler) next(ctx context.Context, m store.Member) (Reply, error) {
	s, err := h.snapshot(ctx, m)
	if err != nil {
		return Reply{}, err
	}
	return h.nextOf(s), nil
}

func (h *Handler) list(ctx context.Context, m store.Member, filter string) (Reply, error) {
	s, err := h.snapshot(ctx, m)
	if err != nil {
		return Reply{}, err
	}
	return h.listOf(s, filter), nil
}

// resolve finds a reading from what the user typed, or says why it can't.
func (h *Handler) resolve(query, verb string) (curriculum.Item, *Reply) {
	it, err := h.Curriculum.Resolve(query)
	if err == nil {
		return it, nil
	}
	var nf *curriculum.NotFoundError
	var amb *curriculum.AmbiguousError
	var r Reply
	switch {
	case errors.As(err, &amb):
		r = errorReply(fmt.Sprintf("%q matches several readings: %s. Which one?", truncate(query, 60), names(amb.Matches)),
			fmt.Sprintf("/path %s %s", verb, amb.Matches[0].ID))
	case errors.As(err, &nf) && len(nf.Suggestions) > 0:
		r = errorReply(fmt.Sprintf("I don't know %q. Did you mean %s?", truncate(query, 60), names(nf.Suggestions)),
			fmt.Sprintf("/path %s %s", verb, nf.Suggestions[0].ID))
	default:
		r = errorReply(fmt.Sprintf("I don't know %q. `/path list` shows every reading with its id and number.", truncate(query, 60)),
			fmt.Sprintf("/path %s tail-at-scale", verb))
	}
	return curriculum.Item{}, &r
}

func names(items []curriculum.Item) string {
	var out []string
	for i, it := range items {
		if i == 5 {
			out = append(out, fmt.Sprintf("and %d more", len(items)-5))
			break
		}
		out = append(out, fmt.Sprintf("%s (%s)", it.Title, it.ID))
	}
	return strings.Join(out, ", ")
}

func (h *Handler) markReading(ctx context.Context, m store.Member, trigger, query, status string) (Reply, error) {
	it, bad := h.resolve(query, map[string]string{store.StatusDone: "done", store.StatusSkipped: "skip"}[status])
	if bad != nil {
		return *bad, nil
	}
	res, err := h.Store.Apply(ctx, m, trigger, store.Change{MarkReading: it.ID, Status: status})
	if err != nil {
		return Reply{}, err
	}
	return h.markedView(it, status, res), nil
}

// markedView confirms a reading marked done or skipped, with its reflection question and what's next.
func (h *Handler) markedView(it curriculum.Item, status string, res store.Result) Reply {
	done := res.Snapshot.Done()
	var text string
	if status == store.StatusDone {
		text = fmt.Sprintf(":white_check_mark: *%s* is done — %d/%d readings.", esc(it.Title), len(done), len(h.Curriculum.Readings))
		if !res.Changed {
			text = fmt.Sprintf(":white_check_mark: *%s* was already marked done — %d/%d readings.", esc(it.Title), len(done), len(h.Curriculum.Readings))
		}
	} else {
		text = fmt.Sprintf(":fast_forward: Skipped *%s*; it won't be suggested again, and `/path done %s` still works whenever you read it.", esc(it.Title), it.ID)
	}
	blocks := []slack.Block{section(text)}
	if status == store.StatusDone {
		blocks = append(blocks, contextBlock(":thinking_face: To reflect on: _"+esc(it.Question)+"_"))
	}
	if next := h.nextItem(res.Snapshot); next != nil {
		blocks = append(blocks, contextBlock(fmt.Sprintf("Next up: *%s* · `/path next`", esc(next.Title))))
	}
	return Reply{Text: plainFallback(text), Blocks: blocks}
}

func (h *Handler) undo(ctx context.Context, m store.Member, trigger, query string) (Reply, error) {
	if it, ok := h.Curriculum.Item(strings.ToLower(strings.TrimSpace(query))); ok && it.Kind == curriculum.Milestone {
		res, err := h.Store.Apply(ctx, m, trigger, store.Change{RemoveLatest: it.ID})
		if err != nil {
			return Reply{}, err
		}
		if !res.Changed {
			return textReply(fmt.Sprintf("Nothing logged for *%s* yet, so there was nothing to undo.", esc(it.Title))), nil
		}
		return h.milestoneReply(fmt.Sprintf(":leftwards_arrow_with_hook: Removed your latest *%s* entry.", esc(it.Title)), it.ID, res.Snapshot), nil
	}
	it, bad := h.resolve(query, "undo")
	if bad != nil {
		return *bad, nil
	}
	res, err := h.Store.Apply(ctx, m, trigger, store.Change{UnmarkReading: it.ID})
	if err != nil {
		return Reply{}, err
	}
	if !res.Changed && !res.Duplicate {
		return textReply(fmt.Sprintf("*%s* wasn't marked, so there was nothing to undo.", esc(it.Title))), nil
	}
	return textReply(fmt.Sprintf(":leftwards_arrow_with_hook: *%s* is no longer marked — %d/%d readings done.", esc(it.Title), len(res.Snapshot.Done()), len(h.Curriculum.Readings))), nil
}

// milestoneReply confirms a logged entry and shows where that milestone stands.
func (h *Handler) milestoneReply(lead, id string, s store.Snapshot) Reply {
	var st progress.MilestoneStatus
	for _, ms := range progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s)) {
		if ms.ID == id {
			st = ms
		}
	}
	it, _ := h.Curriculum.Item(id)
	line := fmt.Sprintf("%s *%s*: %s", check(st.Done), esc(it.Title), esc(st.Summary))
	if st.Done {
		line += " — milestone complete! :tada:"
	} else if st.Missing != "" {
		line += "\n" + esc(st.Missing)
	}
	text := lead + "\n" + line
	return Reply{Text: plainFallback(text), Blocks: []slack.Block{section(text)}}
}

func (h *Handler) oncall(ctx context.Context, m store.Member, trigger string, sh progress.Shift) (Reply, error) {
	res, err := h.Store.Apply(ctx, m, trigger, store.Change{AddShift: &sh})
	if err != nil {
		return Reply{}, err
	}
	what := map[progress.Part]string{progress.PartFull: "days and nights", progress.PartDay: "day shifts", progress.PartNight: "night shifts"}[sh.Part]
	span := sh.From.String()
	if sh.To != sh.From {
		span += " to " + sh.To.String()
	}
	return h.milestoneReply(fmt.Sprintf(":pager: Logged on-call %s (%s).", span, what), "oncall", res.Snapshot), nil
}

func (h *Handler) loadtest(ctx context.Context, m store.Member, trigger string, lr progress.LoadResult) (Reply, error) {
	res, err := h.Store.Apply(ctx, m, trigger, store.Change{AddEntries: []progress.Entry{{Milestone: "loadtest", Key: "run", Load: &lr, Detail: lr.Link}}})
	if err != nil {
		return Reply{}, err
	}
	ok, why := progress.LoadPasses(lr, h.thresholds(res.Snapshot))
	verdict := ":white_check_mark: It clears the bar."
	if !ok {
		verdict = ":x: It doesn't clear the bar yet: " + esc(why)
	}
	lead := fmt.Sprintf(":chart_with_upwards_trend: Logged a load test: %s req/s, p95 %s, p99 %s, max %s. %s",
		progress.FormatNumber(lr.RPS), lr.P95, lr.P99, lr.Max, verdict)
	return h.milestoneReply(lead, "loadtest", res.Snapshot), nil
}

func (h *Handler) log(ctx context.Context, m store.Member, trigger string, entries []progress.Entry) (Reply, error) {
	if len(entries) == 0 {
		return errorReply("Tell me what to log.", "/path log languages go"), nil
	}
	res, err := h.Store.Apply(ctx, m, trigger, store.Change{AddEntries: entries})
	if err != nil {
		return Reply{}, err
	}
	var parts []string
	for _, e := range entries {
		p := e.Key
		if e.Detail != "" {
			p += " (" + e.Detail + ")"
		}
		parts = append(parts, p)
	}
	return h.milestoneReply(":memo: Logged "+esc(truncate(strings.Join(parts, ", "), 500))+".", entries[0].Milestone, res.Snapshot), nil
}
