package command

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/progress"
)

// The on-call range: one date, or two joined by "..", "to", "through", "until" or a dash.
// Dates need a four-digit year, which is what keeps a dash between two dates unambiguous.
var (
	dateWord  = `(\d{4}-\d{1,2}-\d{1,2}|today|yesterday)`
	rangeExpr = regexp.MustCompile(`^(?:from )?` + dateWord + `(?: ?(?:\.\.\.?|-|to|through|thru|until|till) ?` + dateWord + `)?$`)
)

var partWords = map[string]progress.Part{
	"full": progress.PartFull, "24h": progress.PartFull, "24/7": progress.PartFull, "24x7": progress.PartFull,
	"full-day": progress.PartFull, "all-day": progress.PartFull,
	"day": progress.PartDay, "days": progress.PartDay, "daytime": progress.PartDay,
	"night": progress.PartNight, "nights": progress.PartNight, "nighttime": progress.PartNight, "overnight": progress.PartNight,
}

func parseOncall(rest string, today progress.Date) (Command, error) {
	var part progress.Part
	var dates []string
	for _, w := range strings.Fields(strings.ToLower(rest)) {
		p, ok := partWords[w]
		if !ok {
			dates = append(dates, w)
			continue
		}
		if part != "" && part != p {
			return Command{}, usageErr(string(Oncall), "say day, night or full once; log day and night shifts separately")
		}
		part = p
	}
	if part == "" {
		part = progress.PartFull
	}
	expr := strings.Join(dates, " ")
	if expr == "" {
		return Command{}, usageErr(string(Oncall), "which dates were you on call?")
	}
	m := rangeExpr.FindStringSubmatch(expr)
	if m == nil {
		return Command{}, usageErr(string(Oncall), "I couldn't read the dates in %q; write them as YYYY-MM-DD", quote(expr))
	}
	from, err := dateOrDay(m[1], today)
	if err != nil {
		return Command{}, usageErr(string(Oncall), "%v", err)
	}
	to := from
	if m[2] != "" {
		if to, err = dateOrDay(m[2], today); err != nil {
			return Command{}, usageErr(string(Oncall), "%v", err)
		}
	}
	shift := progress.Shift{From: from, To: to, Part: part}
	if err := progress.ValidateShift(shift, today); err != nil {
		return Command{}, usageErr(string(Oncall), "%v", err)
	}
	return Command{Shift: shift}, nil
}

func dateOrDay(s string, today progress.Date) (progress.Date, error) {
	switch s {
	case "today":
		return today, nil
	case "yesterday":
		return today.AddDays(-1), nil
	}
	return progress.ParseDate(s)
}

// kv is one key=value argument.
type kv struct{ key, val string }

// kvSep glues "p95 = 200ms", "p95: 200ms" and "p95 =200ms" into one word before splitting.
var kvSep = regexp.MustCompile(` ?([=:]) ?`)

// unitGap glues "200 ms" into "200ms", so a space before the unit is not a missing unit.
// The unit must end the word: in "rps=1 rps=2" the second "rps" is a key, not a unit.
var unitGap = regexp.MustCompile(`(?i)(\d) (ms|s|us|µs|μs|sec|secs|seconds?|msec|millis|milliseconds?|usec|microseconds?|m|min|mins|minutes?|rps|req/s|qps)( |$)`)

// splitArgs reads "key=value", "key: value" and "key value" words, in any order and with any
// spacing, returning them with canonical keys; words that are not arguments (links, a bare
// "5000rps") are returned in loose.
func splitArgs(rest string, canon func(string) (string, bool)) (args []kv, loose []string, err error) {
	words := strings.Fields(kvSep.ReplaceAllString(unitGap.ReplaceAllString(dropLinkLabels(rest), "$1$2$3"), "$1"))
	seen := map[string]bool{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if looksLikeLink(w) { // links have ":" in them but are not key:value
			loose = append(loose, w)
			continue
		}
		rawKey, val, found := cutAny(w, "=:")
		key, known := canon(strings.ToLower(rawKey))
		switch {
		case !found && known && i+1 < len(words):
			i++
			val = words[i]
		case !found:
			loose = append(loose, w)
			continue
		case !known:
			return nil, nil, fmt.Errorf("I don't know %q", quote(rawKey))
		}
		// "rps= p95=120ms" is glued into "rps=p95=120ms" above; the value is then a key.
		if next, _, more := cutAny(val, "=:"); val == "" || (more && isKey(canon, next)) {
			return nil, nil, fmt.Errorf("%s has no value", key)
		}
		if seen[key] {
			return nil, nil, fmt.Errorf("%s is given twice", key)
		}
		seen[key] = true
		args = append(args, kv{key, val})
	}
	return args, loose, nil
}

func isKey(canon func(string) (string, bool), s string) bool {
	_, ok := canon(strings.ToLower(s))
	return ok
}

// cutAny splits s around the first of any of the bytes in seps.
func cutAny(s, seps string) (before, after string, found bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

var loadKeys = map[string]string{
	"rps": "rps", "qps": "rps", "req/s": "rps", "throughput": "rps",
	"p95": "p95", "p99": "p99",
	"max": "max", "p100": "max", "maximum": "max",
	"link": "link", "url": "link", "results": "link",
}

// bareRPS is a throughput given without a key, like "5000rps".
var bareRPS = regexp.MustCompile(`(?i)^[0-9][0-9,_.]*k?(rps|req/s|qps)$`)

func parseLoadtest(rest string, _ progress.Date) (Command, error) {
	fail := func(format string, args ...any) (Command, error) {
		return Command{}, usageErr(string(Loadtest), format, args...)
	}
	args, loose, err := splitArgs(rest, func(k string) (string, bool) { v, ok := loadKeys[k]; return v, ok })
	if err != nil {
		return fail("%v; loadtest takes rps, p95, p99, max and an optional link", err)
	}
	for _, w := range loose {
		switch {
		case looksLikeLink(w) || bareRPS.MatchString(w):
			key := "link"
			if !looksLikeLink(w) {
				key = "rps"
			}
			if slices.ContainsFunc(args, func(a kv) bool { return a.key == key }) {
				return fail("%s is given twice", key)
			}
			args = append(args, kv{key, w})
		default:
			return fail("I don't know %q; loadtest takes rps, p95, p99, max and an optional link", quote(w))
		}
	}
	var r progress.LoadResult
	got := map[string]bool{}
	for _, a := range args {
		got[a.key] = true
		switch a.key {
		case "rps":
			r.RPS, err = parseRPS(a.val)
		case "p95":
			r.P95, err = parseLatency("p95", a.val)
		case "p99":
			r.P99, err = parseLatency("p99", a.val)
		case "max":
			r.Max, err = parseLatency("max", a.val)
		case "link":
			r.Link, err = parseLink(a.val)
		}
		if err != nil {
			return fail("%v", err)
		}
	}
	var missing []string
	for _, k := range []string{"rps", "p95", "p99", "max"} {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fail("loadtest needs rps, p95, p99 and max; %s missing", andList(missing))
	}
	if err := progress.ValidateLoad(r); err != nil {
		return fail("%v", err)
	}
	return Command{Load: r}, nil
}

// andList joins words as "a", "a and b" or "a, b and c".
func andList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

var (
	plainNumber = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
	// thousands accepts "5,000" and "1,250,000.5" but not "1,5", which is a decimal comma.
	thousands = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$`)
)

// number reads a non-negative decimal written the ways people write them: "5000", "5_000",
// "5,000". It refuses what strconv would also take but no one means (NaN, Inf, hex, exponents).
func number(s string) (float64, bool) {
	s = strings.ReplaceAll(s, "_", "")
	if thousands.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	if !plainNumber.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func parseRPS(s string) (float64, error) {
	l := strings.ToLower(s)
	for _, unit := range []string{"rps", "req/s", "qps", "/s"} {
		l = strings.TrimSuffix(l, unit)
	}
	scale := 1.0
	if k, ok := strings.CutSuffix(l, "k"); ok {
		l, scale = k, 1000
	}
	v, ok := number(l)
	switch {
	case strings.HasPrefix(l, "-"):
		return 0, fmt.Errorf("rps must be above zero, not %s", quote(s))
	case !ok && strings.Contains(l, ","):
		return 0, fmt.Errorf("rps=%s: use commas only between thousands, e.g. rps=5,000", quote(s))
	case !ok:
		return 0, fmt.Errorf("rps=%s isn't a number; write it like rps=5000", quote(s))
	}
	return v * scale, nil
}

// latencyUnits maps spelled-out units to the ones time.ParseDuration knows.
var latencyUnits = []struct{ long, short string }{
	{"milliseconds", "ms"}, {"millisecond", "ms"}, {"millis", "ms"}, {"msec", "ms"},
	{"microseconds", "us"}, {"microsecond", "us"}, {"usec", "us"},
	{"seconds", "s"}, {"second", "s"}, {"secs", "s"}, {"sec", "s"},
	{"minutes", "m"}, {"minute", "m"}, {"mins", "m"}, {"min", "m"},
}

func parseLatency(name, s string) (time.Duration, error) {
	l := strings.ReplaceAll(strings.ToLower(s), "_", "")
	if strings.HasPrefix(l, "-") {
		return 0, fmt.Errorf("%s must be above zero, not %s", name, quote(s))
	}
	if _, ok := number(l); ok {
		return 0, fmt.Errorf("%s needs a unit, e.g. %s=200ms", name, name)
	}
	for _, u := range latencyUnits {
		if v, ok := strings.CutSuffix(l, u.long); ok {
			l = v + u.short
			break
		}
	}
	// Only "1,200ms"-style separators are dropped; any other comma is left to fail below.
	if i := strings.IndexFunc(l, func(r rune) bool { return r != ',' && r != '.' && (r < '0' || r > '9') }); i > 0 && thousands.MatchString(l[:i]) {
		l = strings.ReplaceAll(l[:i], ",", "") + l[i:]
	}
	d, err := time.ParseDuration(l)
	if err != nil || strings.ContainsAny(l, "+-") {
		return 0, fmt.Errorf("%s=%s isn't a duration; write it like %s=200ms or %s=1.5s", name, quote(s), name, name)
	}
	return d, nil
}
