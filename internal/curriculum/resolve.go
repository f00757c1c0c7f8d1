package curriculum

import (
	"cmp"
	"errors"
	"fmt"
	"github.com/pathbot/pathbot/internal/typo"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// maxSuggestions bounds a "did you mean" answer so it stays one line.
const maxSuggestions = 3

// ErrEmptyQuery is returned by Resolve when there is nothing to look up.
var ErrEmptyQuery = errors.New("empty query: give a reading's number, id or part of its title")

// NotFoundError reports a query that matches no reading. Suggestions holds
// up to three close readings, best first, for a "did you mean" answer.
type NotFoundError struct {
	Query       string
	Suggestions []Item
}

func (e *NotFoundError) Error() string {
	if len(e.Suggestions) == 0 {
		return fmt.Sprintf("no reading matches %q", e.Query)
	}
	return fmt.Sprintf("no reading matches %q; did you mean %s?", e.Query, strings.Join(ids(e.Suggestions), " or "))
}

// AmbiguousError reports a query that matches several readings, in path
// order.
type AmbiguousError struct {
	Query   string
	Matches []Item
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q matches %d readings: %s", e.Query, len(e.Matches), strings.Join(ids(e.Matches), ", "))
}

// entry is a reading prepared for matching: lowercased, with punctuation
// folded so that "amazons", "amazon's" and "Amazon’s" all compare equal.
type entry struct {
	item  Item
	title string   // normalized title
	id    string   // id with hyphens as spaces
	bare  string   // id without hyphens, for the distance to a query without spaces
	words []string // words of title, id and authors, for word matches
}

func newEntry(it Item) entry {
	e := entry{
		item:  it,
		title: normalize(it.Title),
		id:    strings.ReplaceAll(it.ID, "-", " "),
		bare:  strings.ReplaceAll(it.ID, "-", ""),
	}
	e.words = slices.Concat(strings.Fields(e.title), strings.Fields(e.id), strings.Fields(normalize(it.Authors)))
	return e
}

// Resolve finds the reading a user means. It tries, in order: the exact id;
// a list number ("7" or "#7"); a phrase within a title or id; all words of
// the query, in any order, within a title, id or authors. Case and
// punctuation are ignored. Milestones are never returned: users ask about
// readings, and a milestone id such as "design" would shadow titles.
//
// The error is ErrEmptyQuery, a *NotFoundError or an *AmbiguousError.
func (c *Curriculum) Resolve(query string) (Item, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return Item{}, ErrEmptyQuery
	}
	lower := strings.ToLower(q)
	if it, ok := c.byID[lower]; ok && it.Kind != Milestone {
		return it, nil
	}
	if n, ok := listNumber(lower); ok {
		if n < 1 || n > len(c.Readings) {
			return Item{}, &NotFoundError{Query: q}
		}
		return c.Readings[n-1], nil
	}

	nq := normalize(q)
	if nq == "" {
		return Item{}, &NotFoundError{Query: q}
	}

	var phrase, whole []Item
	for _, e := range c.search {
		if strings.Contains(e.title, nq) || strings.Contains(e.id, nq) {
			phrase = append(phrase, e.item)
			if containsWords(e.title, nq) || containsWords(e.id, nq) {
				whole = append(whole, e.item)
			}
		}
	}
	switch {
	case len(phrase) == 1:
		return phrase[0], nil
	case len(whole) == 1:
		// "man" should find The Mythical Man-Month, not also A Manager's Path.
		return whole[0], nil
	case len(whole) > 1:
		return Item{}, &AmbiguousError{Query: q, Matches: whole}
	case len(phrase) > 1:
		return Item{}, &AmbiguousError{Query: q, Matches: phrase}
	}

	qwords := strings.Fields(nq)
	var all []Item
	for _, e := range c.search {
		if !slices.ContainsFunc(qwords, func(w string) bool { return !hasWordWithPrefix(e.words, w) }) {
			all = append(all, e.item)
		}
	}
	switch {
	case len(all) == 1:
		return all[0], nil
	case len(all) > 1:
		return Item{}, &AmbiguousError{Query: q, Matches: all}
	}
	return Item{}, &NotFoundError{Query: q, Suggestions: c.suggest(nq)}
}

// suggest ranks readings by how many of the query's words are close to one
// of their words, then by how close, then by how close the whole query is
// to the id, which catches misspelled ids such as "tail-at-scael".
func (c *Curriculum) suggest(nq string) []Item {
	type scored struct {
		item       Item
		hits, dist int
		idDist     int
	}
	var qwords []string
	for _, w := range strings.Fields(nq) {
		if !stopWords[w] {
			qwords = append(qwords, w)
		}
	}
	compact := strings.ReplaceAll(nq, " ", "")

	var cands []scored
	for _, e := range c.search {
		s := scored{item: e.item, idDist: typo.Distance(compact, e.bare)}
		for _, qw := range qwords {
			best := -1
			for _, w := range e.words {
				d := typo.Distance(qw, w)
				if len([]rune(qw)) >= 3 && strings.HasPrefix(w, qw) {
					d = 0
				}
				if best < 0 || d < best {
					best = d
				}
			}
			if best >= 0 && best <= tolerance(qw) {
				s.hits++
				s.dist += best
			}
		}
		if s.hits > 0 || s.idDist <= tolerance(compact) {
			cands = append(cands, s)
		}
	}
	slices.SortStableFunc(cands, func(a, b scored) int {
		return cmp.Or(
			cmp.Compare(b.hits, a.hits),
			cmp.Compare(a.dist, b.dist),
			cmp.Compare(a.idDist, b.idDist),
		)
	})
	var out []Item
	for i := 0; i < len(cands) && i < maxSuggestions; i++ {
		out = append(out, cands[i].item)
	}
	return out
}

// stopWords carry no meaning on their own and would make every title look
// like a suggestion.
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "on": true, "in": true, "for": true,
	"is": true, "and": true, "to": true, "at": true, "by": true, "with": true,
}

// tolerance is how many edits still count as a typo of w: one per three
// letters, and none for words too short to tell apart.
func tolerance(w string) int {
	n := len([]rune(w))
	if n < 3 {
		return 0
	}
	return max(1, n/3)
}

// normalize lowercases s, drops apostrophes so possessives match with or
// without them, and turns every other run of non-alphanumerics into a
// single space.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == '`':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// listNumber parses "7", "#7" or "# 7".
func listNumber(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "#"))
	if s == "" || strings.TrimFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		// Too many digits to be any list number.
		return -1, true
	}
	return n, true
}

// containsWords reports whether phrase occurs in hay on word boundaries.
func containsWords(hay, phrase string) bool {
	return strings.Contains(" "+hay+" ", " "+phrase+" ")
}

func hasWordWithPrefix(words []string, prefix string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, prefix) })
}

func ids(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}
