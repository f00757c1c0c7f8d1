package command

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pathbot/pathbot/internal/progress"
)

// milestoneAliases maps the names people use for a milestone to its id.
var milestoneAliases = map[string]string{
	"design":    progress.Design,
	"languages": progress.Languages, "language": progress.Languages, "lang": progress.Languages, "langs": progress.Languages,
	"messaging": progress.Messaging, "message": progress.Messaging, "messages": progress.Messaging,
	"queue": progress.Messaging, "queues": progress.Messaging, "mq": progress.Messaging,
	"wire-format": progress.WireFormat, "wireformat": progress.WireFormat, "wire": progress.WireFormat,
	"wire_format": progress.WireFormat, "format": progress.WireFormat,
	"deploy": progress.Deploy, "deploys": progress.Deploy, "deployment": progress.Deploy, "deployed": progress.Deploy,
	"loadtest": progress.LoadTest, "load-test": progress.LoadTest, "load": progress.LoadTest,
	"oncall": progress.OnCall, "on-call": progress.OnCall,
}

func milestoneAlias(word string) (string, bool) {
	id, ok := milestoneAliases[strings.ToLower(word)]
	return id, ok
}

// cutMilestone splits the milestone off the front of a log command, taking two words when
// they are one name split by a space ("wire format", "load test", "on call").
func cutMilestone(rest string) (id, after string, ok bool) {
	first, after := cutWord(rest)
	if second, tail := cutWord(after); second != "" {
		if id, ok := milestoneAlias(first + "-" + second); ok {
			return id, tail, true
		}
	}
	id, ok = milestoneAlias(first)
	return id, after, ok
}

// maxDetail bounds what one log command keeps (a doc link, a reviewer list, a system name):
// room for any real answer, not for a pasted document.
const maxDetail = 500

func parseLog(rest string, today progress.Date) (Command, error) {
	if rest == "" {
		return Command{}, usageErr(string(Log), "log what? Name a milestone: %s", strings.Join(progress.MilestoneIDs(), ", "))
	}
	id, after, ok := cutMilestone(rest)
	if !ok {
		word, _ := cutWord(rest)
		if m, near := closest(strings.ToLower(word), milestoneAliases); near {
			return Command{}, usageErr(m, "I don't know the milestone %q. Did you mean %s?", quote(word), m)
		}
		return Command{}, usageErr(string(Log), "I don't know the milestone %q; the milestones are %s",
			quote(word), strings.Join(progress.MilestoneIDs(), ", "))
	}
	var entries []progress.Entry
	var err error
	if id != progress.OnCall && id != progress.LoadTest && utf8.RuneCountInString(after) > maxDetail {
		return Command{}, usageErr(id, "that's longer than I keep for one entry (%d characters); shorten it", maxDetail)
	}
	switch id {
	case progress.OnCall:
		cmd, err := parseOncall(after, today)
		cmd.Verb = Oncall
		return cmd, err
	case progress.LoadTest:
		cmd, err := parseLoadtest(after, today)
		cmd.Verb = Loadtest
		return cmd, err
	case progress.Design:
		entries, err = logDesign(after)
	case progress.Languages:
		entries, err = logLanguages(after)
	case progress.Messaging:
		entries, err = logMessaging(after)
	case progress.WireFormat:
		entries, err = logWireFormat(after)
	case progress.Deploy:
		entries, err = logDeploy(after)
	}
	if err != nil {
		return Command{}, err
	}
	for i := range entries {
		entries[i].Milestone = id
	}
	return Command{Topic: id, Entry: entries[0], Entries: entries}, nil
}

var designSteps = map[string]string{
	"doc": progress.KeyDoc, "docs": progress.KeyDoc, "document": progress.KeyDoc, "design-doc": progress.KeyDoc,
	"writeup": progress.KeyDoc, "write-up": progress.KeyDoc, "link": progress.KeyDoc,
	"review": progress.KeyReview, "reviewed": progress.KeyReview, "reviews": progress.KeyReview,
	"reviewer": progress.KeyReview, "reviewers": progress.KeyReview,
	"feedback": progress.KeyFeedback, "incorporated": progress.KeyFeedback, "incorporate": progress.KeyFeedback,
}

func logDesign(rest string) ([]progress.Entry, error) {
	word, after := cutWord(rest)
	step, ok := designSteps[strings.ToLower(word)]
	if !ok {
		return nil, usageErr(progress.Design, "the design steps are doc, review and feedback; which one is this?")
	}
	switch step {
	case progress.KeyDoc:
		after = dropLinkLabels(after)
		if after == "" || strings.Contains(after, " ") {
			return nil, usageErr(progress.Design, "log design doc takes the link to the doc, and only that")
		}
		link, err := parseLink(after)
		if err != nil {
			return nil, usageErr(progress.Design, "%v", err)
		}
		return []progress.Entry{{Key: step, Detail: link}}, nil
	case progress.KeyReview:
		who := trimLead(after, "by", "with")
		if who == "" {
			return nil, usageErr(progress.Design, "who reviewed it? Name at least one reviewer")
		}
		return []progress.Entry{{Key: step, Detail: who}}, nil
	default:
		return []progress.Entry{{Key: step, Detail: unquote(after)}}, nil
	}
}

// trimLead drops a leading filler word ("reviewed by alice") and surrounding quotes.
func trimLead(s string, words ...string) string {
	first, after := cutWord(s)
	for _, w := range words {
		if strings.EqualFold(first, w) {
			return unquote(after)
		}
	}
	return unquote(s)
}

// maxLanguages bounds one log languages command; more is a paste accident.
const maxLanguages = 10

// languageSep splits "Go, Python and Rust" and "Go; Python & Rust".
var languageSep = regexp.MustCompile(`(?i)\s*(?:,|;|&|\band\b)\s*`)

func logLanguages(rest string) ([]progress.Entry, error) {
	if rest == "" {
		return nil, usageErr(progress.Languages, "which language did you build a service in?")
	}
	var names []string
	for _, n := range languageSep.Split(rest, -1) {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	// "Go Python" without commas is two languages, but "Visual Basic" is one: split on spaces
	// only when every word is a language on its own.
	if len(names) == 1 && strings.Contains(names[0], " ") && !progress.KnownLanguage(names[0]) {
		words := strings.Fields(names[0])
		all := true
		for _, w := range words {
			all = all && progress.KnownLanguage(w)
		}
		if all {
			names = words
		}
	}
	if len(names) > maxLanguages {
		return nil, usageErr(progress.Languages, "that's more than %d languages at once; log them a few at a time", maxLanguages)
	}
	var entries []progress.Entry
	seen := map[string]bool{}
	for _, n := range names {
		id, err := progress.NormalizeLanguage(unquote(n))
		if err != nil {
			return nil, usageErr(progress.Languages, "%v", err)
		}
		if !seen[id] {
			seen[id] = true
			entries = append(entries, progress.Entry{Key: id})
		}
	}
	if len(entries) == 0 {
		return nil, usageErr(progress.Languages, "which language did you build a service in?")
	}
	return entries, nil
}

// viaWords split "order-service via Kafka" into the system and the broker. They are tried in
// order, so "on-demand rides via SQS" splits at "via" and not at the "on" in the name.
var viaWords = func() []*regexp.Regexp {
	var res []*regexp.Regexp
	for _, w := range []string{"via", "using", "through", "over", "with", "on"} {
		res = append(res, regexp.MustCompile(`(?i)^(.+?) `+w+` (.+)$`))
	}
	return res
}()

func logMessaging(rest string) ([]progress.Entry, error) {
	var m []string
	for _, re := range viaWords {
		if m = re.FindStringSubmatch(rest); m != nil {
			break
		}
	}
	if m == nil {
		return nil, usageErr(progress.Messaging, "name the system and the broker or queue it routes work through, joined by via")
	}
	system, broker := unquote(m[1]), unquote(m[2])
	if system == "" || broker == "" {
		return nil, usageErr(progress.Messaging, "name both the system and the broker or queue")
	}
	return []progress.Entry{{Key: broker, Detail: system}}, nil
}

// forWord splits "protobuf for payments" into the format and the service.
var forWord = regexp.MustCompile(`(?i)^(.+?) (?:for|in|between) (.+)$`)

func logWireFormat(rest string) ([]progress.Entry, error) {
	format, service := rest, ""
	if m := forWord.FindStringSubmatch(rest); m != nil {
		format, service = m[1], unquote(m[2])
	}
	id, err := progress.NormalizeWireFormat(unquote(format))
	if err != nil {
		return nil, usageErr(progress.WireFormat, "%v", err)
	}
	return []progress.Entry{{Key: id, Detail: service}}, nil
}

var deployKinds = map[string]string{
	"paas": progress.KeyPaaS, "platform": progress.KeyPaaS,
	"iaas": progress.KeyIaaS, "infrastructure": progress.KeyIaaS, "infra": progress.KeyIaaS,
}

func logDeploy(rest string) ([]progress.Entry, error) {
	words := strings.Fields(rest)
	if len(words) == 0 {
		return nil, usageErr(progress.Deploy, "say paas or iaas, and the platform you deployed to")
	}
	// The kind may come first ("paas heroku") or last ("heroku paas").
	kind, ok := deployKinds[strings.ToLower(words[0])]
	platform := words[1:]
	if !ok {
		kind, ok = deployKinds[strings.ToLower(words[len(words)-1])]
		platform = words[:len(words)-1]
	}
	if !ok {
		return nil, usageErr(progress.Deploy, "was %s a PaaS or an IaaS? Say which, e.g. /path log deploy paas %s", quote(rest), quote(rest))
	}
	where := trimLead(strings.Join(platform, " "), "to", "on")
	if where == "" {
		return nil, usageErr(progress.Deploy, "which platform did you deploy to?")
	}
	return []progress.Entry{{Key: kind, Detail: where}}, nil
}
