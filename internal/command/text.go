package command

import (
	"fmt"
	"github.com/pathbot/pathbot/internal/typo"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lookalikes are characters that phones, Slack and word processors substitute for ASCII
// ones as people type; mapping them back lets "2026-01-01 – 2026-01-07" and “quoted titles”
// parse like their plain versions.
var lookalikes = strings.NewReplacer(
	"‘", "'", "’", "'", "‚", "'", "‛", "'", "′", "'",
	"“", `"`, "”", `"`, "„", `"`, "‟", `"`, "″", `"`, "«", `"`, "»", `"`,
	"‐", "-", "‑", "-", "‒", "-", "–", "-", "—", "-", "―", "-", "−", "-",
	"…", "...",
	"＝", "=", "：", ":",
)

// sanitize refuses text that no one types by hand (too long, not UTF-8, control characters,
// bidi overrides that can disguise what is shown) and returns the rest with lookalike
// punctuation mapped to ASCII and all runs of whitespace, NBSP included, made one space.
func sanitize(text string) (string, error) {
	if len(text) > MaxLen {
		return "", &UsageError{Msg: fmt.Sprintf("that's too long: a /path command fits in %d characters", MaxLen),
			Usage: usageFor(string(Help))}
	}
	if !utf8.ValidString(text) {
		return "", &UsageError{Msg: "that text isn't valid UTF-8; try typing it again", Usage: usageFor(string(Help))}
	}
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			// \r too: text pasted from Windows ends its lines with \r\n.
			b.WriteByte(' ')
		case unicode.IsControl(r):
			return "", &UsageError{Msg: fmt.Sprintf("that text has a control character (%U) in it; try typing it again", r),
				Usage: usageFor(string(Help))}
		case (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069'):
			return "", &UsageError{Msg: fmt.Sprintf("that text has an invisible direction-changing character (%U) in it; try typing it again", r),
				Usage: usageFor(string(Help))}
		case unicode.Is(unicode.Cf, r):
			// Zero-width spaces, joiners and soft hyphens ride along with pasted text and
			// would otherwise make "done" fail to match "do\u200bne".
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(lookalikes.Replace(b.String())), " "), nil
}

// quote shortens user input echoed back in a message so one bad word is not lost in a wall
// of text.
func quote(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit]) + "…"
}

// unquote drops one pair of quotes around s, which people add around titles.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range []string{`"`, "'", "`"} {
		if len(s) >= 2 && strings.HasPrefix(s, q) && strings.HasSuffix(s, q) {
			return strings.TrimSpace(s[1 : len(s)-1])
		}
	}
	return s
}

var (
	userMention    = regexp.MustCompile(`^<@([UW][A-Z0-9]{2,})(?:\|[^<>|]*)?>$`)
	channelMention = regexp.MustCompile(`^<#(C[A-Z0-9]{2,}|G[A-Z0-9]{2,})(?:\|[^<>|]*)?>$`)
	// Slack handles and channel names are lowercase letters, digits, and . _ - (channel
	// names may also be non-Latin); anything else is not a name. The length is checked apart
	// (isPlainName): `{1,80}` over Unicode classes compiles to megabytes at every process start.
	plainName = regexp.MustCompile(`^[\p{L}\p{N}._-]+$`)
)

// isPlainName reports whether s is a handle or channel name of at most 80 characters.
func isPlainName(s string) bool {
	return utf8.RuneCountInString(s) <= 80 && plainName.MatchString(s)
}

// parseUser reads a Slack user mention: "<@U123|bob>" or "<@U123>" give the id, "@bob" (or
// "bob") is kept as "@bob" for the caller to resolve.
func parseUser(s string) (string, error) {
	if m := userMention.FindStringSubmatch(s); m != nil {
		return m[1], nil
	}
	name := strings.TrimPrefix(s, "@")
	if !isPlainName(name) {
		return "", fmt.Errorf("%q isn't a person; mention them like @alice", quote(s))
	}
	return "@" + name, nil
}

// parseChannel reads a Slack channel reference: "<#C123|general>" or "<#C123>" give the id,
// "#general" (or "general") is kept as "#general" for the caller to resolve.
func parseChannel(s string) (string, error) {
	if m := channelMention.FindStringSubmatch(s); m != nil {
		return m[1], nil
	}
	name := strings.TrimPrefix(s, "#")
	if !isPlainName(name) {
		return "", fmt.Errorf("%q isn't a channel; mention it like #general", quote(s))
	}
	return "#" + name, nil
}

// maxLinkLen is Slack's limit on a button URL, so every link we keep can be shown as one.
const maxLinkLen = 3000

// parseLink reads an http(s) link, unwrapping Slack's "<https://x|label>" form.
func parseLink(s string) (string, error) {
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s, _, _ = strings.Cut(s[1:len(s)-1], "|")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		return "", fmt.Errorf("%q isn't a link; it must start with http:// or https://", quote(s))
	case u.Host == "":
		return "", fmt.Errorf("%q has no host name", quote(s))
	case strings.ContainsAny(s, "<>|\"` "):
		// These would break out of the <url|label> form the bot uses to show the link.
		return "", fmt.Errorf("%q has characters a link can't contain", quote(s))
	case len(s) > maxLinkLen:
		return "", fmt.Errorf("that link is longer than %d characters", maxLinkLen)
	}
	return s, nil
}

// looksLikeLink tells a link apart from other words before parsing it.
func looksLikeLink(s string) bool {
	l := strings.ToLower(strings.TrimPrefix(s, "<"))
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

var startsWithDate = regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}`)

// linkLabel matches Slack's escaped link with a label, whose label may contain spaces.
var linkLabel = regexp.MustCompile(`<(https?://[^|<>\s]+)\|[^<>]*>`)

// dropLinkLabels turns "<https://x|my results>" into "https://x" so the link is one word.
func dropLinkLabels(s string) string {
	return linkLabel.ReplaceAllString(s, "$1")
}

// unknownVerb explains an unknown first word, suggesting the verb it most likely meant.
func unknownVerb(word, rest string) *UsageError {
	lw := strings.ToLower(word)
	if id, ok := milestoneAlias(lw); ok {
		return usageErr(id, "to record %s progress, start with log: /path log %s …", id, id)
	}
	if startsWithDate.MatchString(lw) {
		return usageErr(string(Oncall), "to log on-call, start with oncall: /path oncall %s", quote(strings.TrimSpace(word+" "+rest)))
	}
	if v, ok := closest(lw, verbAliases); ok {
		return usageErr(string(v), "I don't know %q. Did you mean /path %s?", quote(word), v)
	}
	return usageErr(string(Help), "I don't know %q; /path help lists everything I understand", quote(word))
}

// maxTypoLen is longer than any word closest compares against, so longer input is not a typo
// and is not worth the quadratic comparison.
const maxTypoLen = 32

// closest finds the verb (or other value) whose spelling is nearest to word, if it is near
// enough to be a typo: one edit for short words, two for longer ones.
func closest[T any](word string, options map[string]T) (T, bool) {
	var best T
	n := utf8.RuneCountInString(word)
	if n > maxTypoLen {
		return best, false
	}
	bestDist, bestKey := 1<<30, ""
	for k, v := range options {
		d := typo.Distance(word, k)
		// Ties go to the alphabetically first spelling so the suggestion never depends on
		// map order.
		if d < bestDist || (d == bestDist && k < bestKey) {
			best, bestDist, bestKey = v, d, k
		}
	}
	allowed := 1
	if n > 4 {
		allowed = 2
	}
	return best, bestDist <= allowed
}
