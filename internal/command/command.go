// Package command turns the text a user types after /path into a Command. It is forgiving in what
// it accepts (any case, extra or odd whitespace, smart quotes and dashes, Slack's escaped
// mentions, several spellings of each word) and precise in what it answers: every refusal is a
// *UsageError saying what was wrong and showing the right form with an example. It is pure: no
// I/O and no clock (today's date is a parameter), and resolving reading titles, @names and
// #channels is left to the caller, which has the curriculum and Slack.
package command

import (
	"fmt"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/progress"
)

// Verb is the first word of a command, in its canonical spelling.
type Verb string

// The verbs /path understands.
const (
	Status      Verb = "status"
	Help        Verb = "help"
	Next        Verb = "next"
	List        Verb = "list"
	Done        Verb = "done"
	Undo        Verb = "undo"
	Skip        Verb = "skip"
	Oncall      Verb = "oncall"
	Loadtest    Verb = "loadtest"
	Log         Verb = "log"
	Leaderboard Verb = "leaderboard"
	Settings    Verb = "settings"
	Pause       Verb = "pause"
	Resume      Verb = "resume"
	Stop        Verb = "stop"
	Admin       Verb = "admin"
)

var verbs = []Verb{Status, Help, Next, List, Done, Undo, Skip, Oncall, Loadtest, Log, Leaderboard,
	Settings, Pause, Resume, Stop, Admin}

// Verbs lists every verb in the order help shows them.
func Verbs() []Verb { return append([]Verb(nil), verbs...) }

// verbAliases maps every accepted spelling of a verb to the verb.
var verbAliases = func() map[string]Verb {
	other := map[Verb][]string{
		Status:      {"progress", "me"},
		Help:        {"?", "usage"},
		List:        {"ls"},
		Done:        {"finished", "did"},
		Oncall:      {"on-call"},
		Loadtest:    {"load-test", "load"},
		Log:         {"record"},
		Leaderboard: {"lb", "board"},
		Settings:    {"setting", "prefs"},
		Pause:       {"snooze"},
		Resume:      {"unpause", "unsnooze"},
	}
	m := map[string]Verb{}
	for _, v := range verbs {
		m[string(v)] = v
		for _, alias := range other[v] {
			m[alias] = v
		}
	}
	return m
}()

// Sub-topics: list filters, settings and admin subcommands.
const (
	ListTrainings  = "trainings"
	ListTalks      = "talks"
	ListEssays     = "essays"
	ListBooks      = "books"
	ListMilestones = "milestones"

	SettingNudge       = "nudge"
	SettingLeaderboard = "leaderboard"

	AdminLeaderboardChannel = "leaderboard-channel"
	AdminPostLeaderboard    = "post-leaderboard"
	AdminNudgeNow           = "nudge-now"
	AdminEnroll             = "enroll"
	AdminThresholds         = "thresholds"

	// HelpPoints is the help topic explaining scoring.
	HelpPoints = "points"

	// ArgReset in Args asks admin thresholds to go back to the configured default.
	ArgReset = "reset"
)

// Command is one parsed /path invocation. Only the fields its Verb uses are set.
type Command struct {
	Verb Verb
	// Topic is the help topic (a verb, a milestone id or "points"), the list filter (ListX, ""
	// for everything), or the settings or admin subcommand ("" shows settings).
	Topic string
	// Item is the reading query for done, undo and skip, as typed; matching it against the
	// curriculum happens later.
	Item string
	// User is whose status to show, or whom admin nudge-now targets: a Slack user id when
	// the mention was escaped ("<@U123|bob>" gives "U123"), else "@name" for the caller to
	// resolve. Empty means the caller.
	User string
	// Shift is what oncall logs.
	Shift progress.Shift
	// Load is what loadtest logs.
	Load progress.LoadResult
	// Entries is what log records (several for "log languages Go, Python"); Entry is
	// Entries[0] for callers that record one. At is left zero for the caller to stamp.
	Entry   progress.Entry
	Entries []progress.Entry
	// Weekday and Clock ("HH:MM", 24h) are when settings nudge asks to be nudged.
	Weekday time.Weekday
	Clock   string
	// Weeks or Until is how long to pause: exactly one is set.
	Weeks int
	Until progress.Date
	// On is settings leaderboard on|off.
	On bool
	// Channel is the admin leaderboard-channel or enroll target: a channel id when escaped
	// ("<#C123|general>" gives "C123"), else "#name" for the caller to resolve.
	Channel string
	// Thresholds is what admin thresholds sets; zero with no Args means show them.
	Thresholds progress.Thresholds
	// Args carries admin flags that have no field of their own: ArgReset.
	Args []string
}

// UsageError is a command that could not be understood. Msg says what was wrong in a
// friendly sentence; Usage shows the right form with an example. Both are plain text that may
// quote the user's input, so escape them before sending them as Slack mrkdwn.
type UsageError struct {
	Msg   string
	Usage string
}

func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Msg
	}
	return e.Msg + " (usage: " + e.Usage + ")"
}

// usageErr builds a UsageError whose Usage is the help form for topic.
func usageErr(topic, format string, args ...any) *UsageError {
	return &UsageError{Msg: fmt.Sprintf(format, args...), Usage: usageFor(topic)}
}

// MaxLen is the longest text Parse reads, in bytes: Slack's advised message length, far
// beyond anything /path takes, so longer text is a paste accident or an attack.
const MaxLen = 4000

// Parse reads the text typed after /path. today is the caller's current date in the user's
// zone; it bounds on-call dates and pause dates.
func Parse(text string, today progress.Date) (Command, error) {
	clean, err := sanitize(text)
	if err != nil {
		return Command{}, err
	}
	word, rest := cutWord(clean)
	if word == "" {
		return Command{Verb: Status}, nil
	}
	verb, ok := verbAliases[strings.ToLower(word)]
	if !ok {
		return Command{}, unknownVerb(word, rest)
	}
	cmd, err := parsers[verb](rest, today)
	if err != nil {
		return Command{}, err
	}
	if cmd.Verb == "" { // set already when "log oncall …" turns out to be the oncall verb
		cmd.Verb = verb
	}
	return cmd, nil
}

// parsers reads each verb's arguments: the text after the verb, already sanitized.
var parsers = map[Verb]func(rest string, today progress.Date) (Command, error){
	Status:      parseStatus,
	Help:        parseHelp,
	Next:        noArgs(Next),
	List:        parseList,
	Done:        itemParser(Done),
	Undo:        itemParser(Undo),
	Skip:        itemParser(Skip),
	Oncall:      parseOncall,
	Loadtest:    parseLoadtest,
	Log:         parseLog,
	Leaderboard: noArgs(Leaderboard),
	Settings:    parseSettings,
	Pause:       parsePause,
	Resume:      noArgs(Resume),
	Stop:        noArgs(Stop),
	Admin:       parseAdmin,
}

// cutWord splits off the first space-separated word of s (already sanitized).
func cutWord(s string) (word, rest string) {
	word, rest, _ = strings.Cut(s, " ")
	return word, rest
}

func noArgs(v Verb) func(string, progress.Date) (Command, error) {
	return func(rest string, _ progress.Date) (Command, error) {
		if rest != "" {
			return Command{}, usageErr(string(v), "%s takes nothing after it, but got %q", v, quote(rest))
		}
		return Command{}, nil
	}
}

func itemParser(v Verb) func(string, progress.Date) (Command, error) {
	return func(rest string, _ progress.Date) (Command, error) {
		item := unquote(rest)
		if item == "" {
			return Command{}, usageErr(string(v), "which reading? Give a few words of its title")
		}
		return Command{Item: item}, nil
	}
}

func parseStatus(rest string, _ progress.Date) (Command, error) {
	if rest == "" || strings.EqualFold(rest, "me") {
		return Command{}, nil
	}
	if strings.Contains(rest, " ") {
		return Command{}, usageErr(string(Status), "status shows one person at a time")
	}
	user, err := parseUser(rest)
	if err != nil {
		return Command{}, usageErr(string(Status), "%v", err)
	}
	return Command{User: user}, nil
}

var listFilters = map[string]string{
	"all": "", "everything": "", "readings": "", "reading": "",
	"training": ListTrainings, "trainings": ListTrainings, "course": ListTrainings, "courses": ListTrainings,
	"talk": ListTalks, "talks": ListTalks, "video": ListTalks, "videos": ListTalks,
	"essay": ListEssays, "essays": ListEssays, "paper": ListEssays, "papers": ListEssays,
	"book": ListBooks, "books": ListBooks,
	"milestone": ListMilestones, "milestones": ListMilestones, "experience": ListMilestones,
}

func parseList(rest string, _ progress.Date) (Command, error) {
	if rest == "" {
		return Command{}, nil
	}
	f, ok := listFilters[strings.ToLower(rest)]
	if !ok {
		return Command{}, usageErr(string(List), "I can list trainings, talks, essays, books or milestones, not %q", quote(rest))
	}
	return Command{Topic: f}, nil
}
