package curriculum

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

const (
	maxIDLen = 40
	// maxTitleLen is Slack's limit for the text of a Block Kit header block,
	// where titles are shown.
	maxTitleLen = 150
)

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// canonicalFiles maps the usual file names to the kind they must declare, so
// that a file copied under the wrong name cannot silently renumber the path.
var canonicalFiles = map[string]Kind{
	"trainings.yaml":  Training,
	"talks.yaml":      Talk,
	"essays.yaml":     Essay,
	"books.yaml":      Book,
	"milestones.yaml": Milestone,
}

var allKinds = []Kind{Training, Talk, Essay, Book, Milestone}

type rawItem struct {
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	Authors     string `yaml:"authors"`
	URL         string `yaml:"url"`
	Effort      string `yaml:"effort"`
	Why         string `yaml:"why"`
	Question    string `yaml:"question"`
	Description string `yaml:"description"`
}

var (
	fileFields = []string{"kind", "items"}
	itemFields = []string{"id", "title", "authors", "url", "effort", "why", "question", "description"}
)

type parsedFile struct {
	name string
	// kind is empty when the file declares no valid kind.
	kind  Kind
	items []Item
	// refs name each item as the file does, for messages about duplicates;
	// items that cannot be decoded are dropped, so indexes can differ.
	refs []string
}

// parseFile decodes and validates one file. It returns the file, if it could
// be decoded at all, together with every problem found in it, so that the
// caller can still check ids across files while reporting everything.
func parseFile(fsys fs.FS, name string) (*parsedFile, []error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", name, err)}
	}
	if !utf8.Valid(data) {
		return nil, []error{fmt.Errorf("%s: line %d is not valid UTF-8; save the file as UTF-8", name, invalidUTF8Line(data))}
	}

	// Decoding into a node first, rather than straight into a struct with
	// KnownFields(true), lets an unknown field or a wrong type be reported
	// with the item it is in instead of only a line number.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []error{fmt.Errorf("%s: empty file", name)}
		}
		return nil, []error{fmt.Errorf("%s: %w", name, err)}
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, []error{fmt.Errorf("%s: only one YAML document is allowed per file", name)}
	}
	if len(doc.Content) == 0 {
		return nil, []error{fmt.Errorf("%s: empty file", name)}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []error{fmt.Errorf("%s: line %d: top level must be a mapping with kind and items", name, root.Line)}
	}

	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	for _, key := range unknownKeys(root, fileFields) {
		fail("unknown field %q (line %d); want kind and items", key.Value, key.Line)
	}
	f := &parsedFile{name: name}
	kind := mapValue(root, "kind")
	switch k := kindOf(kind); {
	case kind == nil || kind.Tag == "!!null" || kind.Value == "" && kind.Kind == yaml.ScalarNode:
		fail("missing kind (one of %s)", kindList())
	case kind.Kind != yaml.ScalarNode:
		fail("line %d: kind must be one of %s", kind.Line, kindList())
	case !slices.Contains(allKinds, k):
		fail("unknown kind %q (want one of %s)", k, kindList())
	case canonicalFiles[name] != "" && canonicalFiles[name] != k:
		fail("kind %q does not match the file name, which holds %q items", k, canonicalFiles[name])
	default:
		f.kind = k
	}

	// Items are decoded one node at a time: decoding the whole list at once
	// silently drops empty entries, which would shift every later item's
	// number in error messages.
	var nodes []*yaml.Node
	switch items := mapValue(root, "items"); {
	case items == nil || items.Tag == "!!null":
	case items.Kind != yaml.SequenceNode:
		fail("line %d: items must be a list", items.Line)
	default:
		nodes = items.Content
	}
	if len(nodes) == 0 {
		fail("no items")
	}
	for i, n := range nodes {
		ref := itemRef(i, "")
		if id := mapValue(n, "id"); id != nil && id.Kind == yaml.ScalarNode {
			ref = itemRef(i, id.Value)
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s: %s", name, ref, fmt.Sprintf(format, args...)))
		}
		if n.Kind != yaml.MappingNode {
			fail("must be a mapping of fields (line %d)", n.Line)
			continue
		}
		for _, key := range unknownKeys(n, itemFields) {
			fail("unknown field %q (line %d)", key.Value, key.Line)
		}
		var ri rawItem
		if err := n.Decode(&ri); err != nil {
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				fail("%v", err)
				continue
			}
			for _, msg := range te.Errors {
				fail("%s", msg)
			}
			continue
		}
		// Block scalars keep their final newline; it means nothing here.
		ri.Why = strings.TrimSpace(ri.Why)
		ri.Question = strings.TrimSpace(ri.Question)
		ri.Description = strings.TrimSpace(ri.Description)
		for _, msg := range validateItem(f.kind, ri) {
			fail("%s", msg)
		}
		f.items = append(f.items, Item{
			ID:          ri.ID,
			Title:       ri.Title,
			Authors:     ri.Authors,
			URL:         ri.URL,
			Effort:      ri.Effort,
			Why:         ri.Why,
			Question:    ri.Question,
			Description: ri.Description,
			Kind:        f.kind,
			File:        name,
		})
		f.refs = append(f.refs, ref)
	}
	return f, errs
}

// validateItem returns what is wrong with one item. Kind-specific rules are
// skipped when the file's kind is unknown, to avoid piling guesses on top of
// the kind error.
func validateItem(k Kind, it rawItem) []string {
	var probs []string
	reading := slices.Contains(ReadingKinds, k)

	switch {
	case it.ID == "":
	case len(it.ID) > maxIDLen:
		probs = append(probs, fmt.Sprintf("id is %d characters long, more than %d", len(it.ID), maxIDLen))
	case !idPattern.MatchString(it.ID):
		probs = append(probs, fmt.Sprintf("id %q is not kebab-case (lowercase letters and digits joined by single hyphens)", it.ID))
	}

	fields := []struct {
		name, value string
		required    bool
		multiline   bool
	}{
		{"id", it.ID, true, false},
		{"title", it.Title, true, false},
		{"authors", it.Authors, reading, false},
		{"url", it.URL, reading, false},
		{"effort", it.Effort, true, false},
		{"why", it.Why, true, true},
		{"question", it.Question, true, true},
		{"description", it.Description, k == Milestone, true},
	}
	for _, f := range fields {
		if f.value == "" {
			if f.required {
				probs = append(probs, fmt.Sprintf("missing %s", f.name))
			}
			continue
		}
		if msg := checkText(f.value, f.multiline); msg != "" {
			probs = append(probs, f.name+" "+msg)
		}
	}

	if n := utf8.RuneCountInString(it.Title); n > maxTitleLen {
		probs = append(probs, fmt.Sprintf("title is %d characters long, more than the %d a Slack header allows", n, maxTitleLen))
	}
	if it.URL != "" && !wellFormedURL(it.URL) {
		probs = append(probs, fmt.Sprintf("url %q is not a well-formed http(s) URL", it.URL))
	}
	if k == Milestone && it.ID != "" && !slices.Contains(MilestoneIDs, it.ID) {
		probs = append(probs, fmt.Sprintf("unknown milestone id; the bot only has rules for %s", strings.Join(MilestoneIDs, ", ")))
	}
	return probs
}

// checkText returns why s is unfit to show in Slack, or "" if it is fine.
// Single-line fields end up in headers and buttons, where even a newline
// breaks the layout.
func checkText(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.TrimSpace(s) != s {
		return "has leading or trailing whitespace"
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains control character %U", r)
		}
	}
	if seq := mojibake(s); seq != "" {
		return fmt.Sprintf("contains mis-encoded text %q; retype the character or save the source as UTF-8", seq)
	}
	return ""
}

// mojibake returns the first sequence typical of UTF-8 text that was decoded
// as Windows-1252 or Latin-1 and encoded again (the path file we started
// from had "Amazonâ€™s" for "Amazon’s"), or "" if there is none.
func mojibake(s string) string {
	if strings.ContainsRune(s, utf8.RuneError) {
		return string(utf8.RuneError)
	}
	runes := []rune(s)
	for i := 0; i+1 < len(runes); i++ {
		r, next := runes[i], runes[i+1]
		switch {
		case r == 'â' && next == '€':
			return "â€"
		// Ã and Â lead the mis-decoded forms of accented letters and of
		// symbols such as the no-break space; real text hardly ever puts
		// them before a symbol or a C1 character.
		case (r == 'Ã' || r == 'Â') && (next >= 0x80 && next <= 0xBF || strings.ContainsRune(cp1252Specials, next)):
			return string([]rune{r, next})
		}
	}
	return ""
}

// cp1252Specials are the characters Windows-1252 puts in 0x80-0x9F, where
// Latin-1 has C1 controls.
const cp1252Specials = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

func wellFormedURL(s string) bool {
	if strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" && u.Opaque == ""
}

// unknownKeys returns the keys of mapping node m that are not in known.
func unknownKeys(m *yaml.Node, known []string) []*yaml.Node {
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if key := m.Content[i]; !slices.Contains(known, key.Value) {
			out = append(out, key)
		}
	}
	return out
}

func kindOf(n *yaml.Node) Kind {
	if n == nil {
		return ""
	}
	return Kind(n.Value)
}

// mapValue returns the value for key in mapping node m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func invalidUTF8Line(data []byte) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if !utf8.Valid(line) {
			return i + 1
		}
	}
	return 0
}

func kindList() string {
	names := make([]string, len(allKinds))
	for i, k := range allKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
