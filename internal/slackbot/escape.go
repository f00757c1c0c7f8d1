package slackbot

import "strings"

// escaper replaces exactly the three characters Slack treats as control characters in mrkdwn, so
// that nothing a user typed can become a mention, a channel ping or a link.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes user- or data-supplied text for mrkdwn and plain_text fields.
func esc(s string) string { return escaper.Replace(s) }

// truncate shortens s to at most n runes, marking the cut, so that rendered text stays inside
// Block Kit's limits whatever a user logged.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
