package command

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/progress"
)

var weekdays = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "weds": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

// weekday reads a day name, also as a plural ("mondays") or with trailing punctuation.
func weekday(w string) (time.Weekday, bool) {
	w = strings.TrimRight(strings.ToLower(w), ",.")
	if d, ok := weekdays[w]; ok {
		return d, true
	}
	d, ok := weekdays[strings.TrimSuffix(w, "s")]
	return d, ok
}

var (
	clock12 = regexp.MustCompile(`^(\d{1,2})(?::(\d{2}))? ?([ap])\.?m\.?$`)
	clock24 = regexp.MustCompile(`^(\d{1,2})(?:[:h.](\d{2}))?$`)
)

// parseClock reads a time of day as "09:30", "9:30", "9", "9am", "9:30 pm", "noon" or
// "midnight" and returns it as 24-hour "HH:MM".
func parseClock(s string) (string, error) {
	s = strings.ToLower(s)
	switch s {
	case "noon":
		return "12:00", nil
	case "midnight":
		return "00:00", nil
	}
	var h, m int
	if g := clock12.FindStringSubmatch(s); g != nil {
		h, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi("0" + g[2])
		if h < 1 || h > 12 || m > 59 {
			return "", fmt.Errorf("%q isn't a time on a 12-hour clock", quote(s))
		}
		h %= 12 // 12am is midnight and 12pm is noon
		if g[3] == "p" {
			h += 12
		}
	} else if g := clock24.FindStringSubmatch(s); g != nil {
		h, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi("0" + g[2])
		if h > 23 || m > 59 {
			return "", fmt.Errorf("%q isn't a time of day; use 24-hour HH:MM like 09:30 or 17:00", quote(s))
		}
	} else {
		return "", fmt.Errorf("%q isn't a time of day; use HH:MM like 09:30, or 9am", quote(s))
	}
	return fmt.Sprintf("%02d:%02d", h, m), nil
}

var onOff = map[string]bool{
	"on": true, "yes": true, "true": true, "enable": true, "enabled": true, "show": true, "in": true,
	"off": false, "no": false, "false": false, "disable": false, "disabled": false, "hide": false, "out": false,
}

var settingNames = map[string]string{
	"nudge": SettingNudge, "nudges": SettingNudge, "reminder": SettingNudge, "reminders": SettingNudge,
	"leaderboard": SettingLeaderboard, "board": SettingLeaderboard, "lb": SettingLeaderboard,
}

func parseSettings(rest string, _ progress.Date) (Command, error) {
	if rest == "" {
		return Command{}, nil
	}
	word, after := cutWord(rest)
	name, ok := settingNames[strings.ToLower(word)]
	if !ok {
		return Command{}, usageErr(string(Settings), "the settings are nudge and leaderboard, not %q", quote(word))
	}
	switch name {
	case SettingNudge:
		return parseNudgeSetting(after)
	default:
		on, ok := onOff[strings.ToLower(after)]
		if !ok {
			return Command{}, usageErr(string(Settings), "say settings leaderboard on or off")
		}
		return Command{Topic: name, On: on}, nil
	}
}

// parseNudgeSetting reads a weekday and a time in either order: "mon 9:30", "9am monday",
// "on Tuesdays at 17:00".
func parseNudgeSetting(rest string) (Command, error) {
	fail := func(format string, args ...any) (Command, error) {
		return Command{}, usageErr(string(Settings), format, args...)
	}
	var day time.Weekday
	haveDay := false
	var clockWords []string
	for _, w := range strings.Fields(rest) {
		if d, ok := weekday(w); ok {
			if haveDay && d != day {
				return fail("nudges come once a week; name one day")
			}
			day, haveDay = d, true
			continue
		}
		if lw := strings.ToLower(w); lw == "at" || lw == "on" || lw == "every" {
			continue
		}
		clockWords = append(clockWords, w)
	}
	switch {
	case !haveDay:
		return fail("which day of the week? e.g. settings nudge mon 09:30")
	case len(clockWords) == 0:
		return fail("at what time? e.g. settings nudge %s 09:30", strings.ToLower(day.String()[:3]))
	}
	clock, err := parseClock(strings.Join(clockWords, " "))
	if err != nil {
		return fail("%v", err)
	}
	return Command{Topic: SettingNudge, Weekday: day, Clock: clock}, nil
}

// MaxPauseWeeks is the longest pause; past a year, stop says what is meant better.
const MaxPauseWeeks = 52

var smallNumbers = map[string]int{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
}

var pauseLength = regexp.MustCompile(`^(?:for )?([0-9]+|[a-z]+) ?(w|wk|wks|week|weeks|d|day|days|m|mo|month|months)?$`)

func parsePause(rest string, today progress.Date) (Command, error) {
	fail := func(format string, args ...any) (Command, error) {
		return Command{}, usageErr(string(Pause), format, args...)
	}
	rest = strings.ToLower(rest)
	if rest == "" {
		return Command{Weeks: 1}, nil
	}
	if word, after := cutWord(rest); word == "until" || word == "till" || word == "til" || word == "to" {
		if after == "" {
			return fail("until when? Give a date like %s", today.AddDays(14))
		}
		rest = after
	}
	if d, err := progress.ParseDate(rest); err == nil || strings.Count(rest, "-") == 2 {
		if err != nil {
			return fail("%v", err)
		}
		last := today.AddDays(7 * MaxPauseWeeks)
		switch {
		case !d.After(today):
			return fail("pause until a date after today (%s)", today)
		case d.After(last):
			return fail("a pause can last at most %d weeks, until %s", MaxPauseWeeks, last)
		}
		return Command{Until: d}, nil
	}
	m := pauseLength.FindStringSubmatch(rest)
	if m == nil {
		return fail("I couldn't read %q; say a number of weeks or until a date", quote(rest))
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		var ok bool
		if n, ok = smallNumbers[m[1]]; !ok {
			return fail("I couldn't read %q; say a number of weeks or until a date", quote(rest))
		}
	}
	switch unit := m[2]; {
	case strings.HasPrefix(unit, "d"):
		return fail("pauses are in weeks; for days, pause until a date (e.g. /path pause until %s)", today.AddDays(max(n, 1)))
	case strings.HasPrefix(unit, "m"):
		return fail("pauses are in weeks; %s months is about %d weeks", m[1], n*13/3)
	case n < 1 || n > MaxPauseWeeks:
		return fail("a pause is 1 to %d weeks, not %d", MaxPauseWeeks, n)
	}
	return Command{Weeks: n}, nil
}

var adminCommands = map[string]string{
	AdminLeaderboardChannel: AdminLeaderboardChannel, "channel": AdminLeaderboardChannel, "leaderboardchannel": AdminLeaderboardChannel,
	AdminPostLeaderboard: AdminPostLeaderboard, "post": AdminPostLeaderboard, "postleaderboard": AdminPostLeaderboard,
	AdminNudgeNow: AdminNudgeNow, "nudge": AdminNudgeNow, "nudgenow": AdminNudgeNow,
	AdminEnroll: AdminEnroll, "enrol": AdminEnroll,
	AdminThresholds: AdminThresholds, "threshold": AdminThresholds, "limits": AdminThresholds,
}

var thresholdKeys = map[string]string{"p95": "p95", "p99": "p99", "max": "max", "p100": "max", "maximum": "max"}

func parseAdmin(rest string, _ progress.Date) (Command, error) {
	if rest == "" {
		return Command{}, usageErr(string(Admin), "admin what? The admin commands are leaderboard-channel, post-leaderboard, nudge-now, enroll and thresholds")
	}
	// "post leaderboard" and "nudge now" are the hyphenated subcommands with a space.
	first, after := cutWord(rest)
	sub, ok := adminCommands[strings.ToLower(first)]
	if second, tail := cutWord(after); second != "" {
		if s, ok2 := adminCommands[strings.ToLower(first+"-"+second)]; ok2 {
			sub, ok, after = s, true, tail
		}
	}
	if !ok {
		return Command{}, usageErr(string(Admin), "I don't know the admin command %q; they are leaderboard-channel, post-leaderboard, nudge-now, enroll and thresholds", quote(first))
	}
	cmd := Command{Topic: sub}
	fail := func(format string, args ...any) (Command, error) {
		return Command{}, usageErr(string(Admin), format, args...)
	}
	switch sub {
	case AdminPostLeaderboard:
		if after != "" {
			return fail("post-leaderboard takes nothing after it")
		}
	case AdminNudgeNow:
		if after != "" {
			user, err := parseUser(after)
			if err != nil {
				return fail("%v", err)
			}
			cmd.User = user
		}
	case AdminLeaderboardChannel, AdminEnroll:
		if after == "" || strings.Contains(after, " ") {
			return fail("%s takes one channel, e.g. #engineering", sub)
		}
		ch, err := parseChannel(after)
		if err != nil {
			return fail("%v", err)
		}
		cmd.Channel = ch
	case AdminThresholds:
		switch strings.ToLower(after) {
		case "":
		case "reset", "default", "defaults":
			cmd.Args = []string{ArgReset}
		default:
			th, err := parseThresholds(after)
			if err != nil {
				return fail("%v", err)
			}
			cmd.Thresholds = th
		}
	}
	return cmd, nil
}

func parseThresholds(rest string) (progress.Thresholds, error) {
	args, loose, err := splitArgs(rest, func(k string) (string, bool) { v, ok := thresholdKeys[k]; return v, ok })
	if err != nil {
		return progress.Thresholds{}, fmt.Errorf("%v; thresholds takes p95, p99 and max", err)
	}
	if len(loose) > 0 {
		return progress.Thresholds{}, fmt.Errorf("I don't know %q; thresholds takes p95, p99 and max", quote(loose[0]))
	}
	var th progress.Thresholds
	for _, a := range args {
		d, err := parseLatency(a.key, a.val)
		if err != nil {
			return progress.Thresholds{}, err
		}
		if d%time.Millisecond != 0 {
			// Teams' thresholds are kept in whole milliseconds; say so rather than round.
			return progress.Thresholds{}, fmt.Errorf("%s must be a whole number of milliseconds, not %v", a.key, d)
		}
		switch a.key {
		case "p95":
			th.P95 = d
		case "p99":
			th.P99 = d
		case "max":
			th.Max = d
		}
	}
	if len(args) != 3 {
		return progress.Thresholds{}, fmt.Errorf("give all three of p95, p99 and max, e.g. p95=250ms p99=600ms max=2s")
	}
	if err := progress.ValidateThresholds(th); err != nil {
		return progress.Thresholds{}, err
	}
	return th, nil
}
