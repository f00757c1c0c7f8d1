package curriculum

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// wantReadings is the path as the senior engineer path file lists it, in
// order; the bot's numbering and users' bookmarks depend on it.
var wantReadings = []struct {
	id   string
	kind Kind
}{
	{"networking-for-web-developers", Training},
	{"system-design-primer", Training},
	{"resilient-patterns", Talk},
	{"verification", Talk},
	{"worst-is-best", Talk},
	{"shuttle-reliability", Essay},
	{"senior-engineer", Essay},
	{"complex-systems-fail", Essay},
	{"simple-testing", Essay},
	{"worse-is-better", Essay},
	{"fallacies", Essay},
	{"relational-model", Essay},
	{"internet-scale-services", Essay},
	{"the-log", Essay},
	{"call-me-maybe", Essay},
	{"dynamo", Essay},
	{"tail-at-scale", Essay},
	{"managers-path", Book},
	{"mythical-man-month", Book},
	{"release-it", Book},
	{"continuous-delivery", Book},
	{"web-operations", Book},
	{"distsys-fun-profit", Book},
}

func embedded(t *testing.T) *Curriculum {
	t.Helper()
	c, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	return c
}

func TestEmbeddedReadingsInPathOrder(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	if len(c.Readings) != len(wantReadings) {
		t.Fatalf("got %d readings, want %d", len(c.Readings), len(wantReadings))
	}
	for i, want := range wantReadings {
		got := c.Readings[i]
		if got.ID != want.id || got.Kind != want.kind || got.Number != i+1 {
			t.Errorf("reading %d = %s %q #%d, want %s %q #%d", i, got.Kind, got.ID, got.Number, want.kind, want.id, i+1)
		}
	}
}

func TestEmbeddedCountsPerKind(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	tests := []struct {
		kind Kind
		want int
		file string
	}{
		{Training, 2, "trainings.yaml"},
		{Talk, 3, "talks.yaml"},
		{Essay, 12, "essays.yaml"},
		{Book, 6, "books.yaml"},
		{Milestone, 0, ""}, // milestones are not readings
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			got := c.ReadingsOf(tt.kind)
			if len(got) != tt.want {
				t.Fatalf("ReadingsOf(%s) has %d items, want %d", tt.kind, len(got), tt.want)
			}
			for _, it := range got {
				if it.Kind != tt.kind || it.File != tt.file {
					t.Errorf("%s: kind %s from %s, want %s from %s", it.ID, it.Kind, it.File, tt.kind, tt.file)
				}
			}
		})
	}
}

func TestEmbeddedMilestones(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	var got []string
	for i, m := range c.Milestones {
		got = append(got, m.ID)
		if m.Number != i+1 || m.Kind != Milestone || m.File != "milestones.yaml" {
			t.Errorf("%s: number %d kind %s file %s, want %d milestone milestones.yaml", m.ID, m.Number, m.Kind, m.File, i+1)
		}
	}
	if !slices.Equal(got, MilestoneIDs) {
		t.Errorf("milestones = %v, want %v", got, MilestoneIDs)
	}
}

func TestEmbeddedItemsAreComplete(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	items := slices.Concat(c.Readings, c.Milestones)
	if len(items) != 30 {
		t.Fatalf("got %d items, want 30", len(items))
	}
	for _, it := range items {
		fields := map[string]string{
			"id": it.ID, "title": it.Title, "effort": it.Effort, "why": it.Why, "question": it.Question,
		}
		if it.Kind == Milestone {
			fields["description"] = it.Description
		} else {
			fields["authors"] = it.Authors
			fields["url"] = it.URL
		}
		for name, v := range fields {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: empty %s", it.ID, name)
			}
		}
		if !strings.HasSuffix(it.Question, "?") {
			t.Errorf("%s: question %q is not a question", it.ID, it.Question)
		}
	}
}

func TestEmbeddedCleanedTitles(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	tests := []struct {
		id, title string
	}{
		{"dynamo", "Dynamo: Amazon’s Highly Available Key-value Store"},
		{"relational-model", "A Relational Model of Data for Large Shared Data Banks"},
		{"tail-at-scale", "The Tail at Scale"},
	}
	for _, tt := range tests {
		it, ok := c.Item(tt.id)
		if !ok {
			t.Errorf("Item(%q) not found", tt.id)
			continue
		}
		if it.Title != tt.title {
			t.Errorf("Item(%q).Title = %q, want %q", tt.id, it.Title, tt.title)
		}
	}
}

func TestItem(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	tests := []struct {
		id     string
		want   bool
		kind   Kind
		number int
	}{
		{"dynamo", true, Essay, 16},
		{"networking-for-web-developers", true, Training, 1},
		{"oncall", true, Milestone, 7},
		{"Dynamo", false, "", 0}, // ids are exact; Resolve is the forgiving one
		{"", false, "", 0},
	}
	for _, tt := range tests {
		it, ok := c.Item(tt.id)
		if ok != tt.want || it.Kind != tt.kind || it.Number != tt.number {
			t.Errorf("Item(%q) = %s #%d, %v; want %s #%d, %v", tt.id, it.Kind, it.Number, ok, tt.kind, tt.number, tt.want)
		}
	}
}

// Short, valid files to build broken curricula from.
const (
	goodTalks = `kind: talk
items:
  - id: some-talk
    title: Some Talk
    authors: Ada Lovelace
    url: https://example.com/talk
    effort: 1 hour
    why: Because.
    question: Why?
`
	goodMilestones = `kind: milestone
items:
  - id: design
    title: Design review
    description: Design a service.
    effort: 2 weeks
    why: Because.
    question: Why?
`
)

// essay returns an essays file with one item whose fields can be replaced
// or extended by extra lines.
func essay(id string, extra ...string) string {
	fields := map[string]string{
		"id":       id,
		"title":    "An Essay",
		"authors":  "Grace Hopper",
		"url":      "https://example.com/essay",
		"effort":   "1 hour",
		"why":      "Because.",
		"question": "Why?",
	}
	order := []string{"id", "title", "authors", "url", "effort", "why", "question"}
	var b strings.Builder
	b.WriteString("kind: essay\nitems:\n")
	for i, k := range order {
		v, ok := fields[k]
		for _, e := range extra {
			if name, val, _ := strings.Cut(e, ": "); name == k {
				v, ok = val, val != "-"
			}
		}
		if !ok {
			continue
		}
		prefix := "    "
		if i == 0 {
			prefix = "  - "
		}
		b.WriteString(prefix + k + ": " + v + "\n")
	}
	for _, e := range extra {
		if name, _, _ := strings.Cut(e, ": "); !slices.Contains(order, name) {
			b.WriteString("    " + e + "\n")
		}
	}
	return b.String()
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in the error message
	}{
		{
			name: "duplicate id across files",
			files: map[string]string{
				"essays.yaml": essay("some-talk"),
				"talks.yaml":  goodTalks,
			},
			want: []string{`talks.yaml: item 1 ("some-talk"): duplicate id, already used by essays.yaml item 1`},
		},
		{
			name: "duplicate id within a file",
			files: map[string]string{
				"essays.yaml": essay("dynamo") + strings.TrimPrefix(essay("dynamo"), "kind: essay\nitems:\n"),
			},
			want: []string{`essays.yaml: item 2 ("dynamo"): duplicate id`},
		},
		{
			name:  "missing field",
			files: map[string]string{"essays.yaml": essay("dynamo", "why: -")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): missing why`},
		},
		{
			name:  "missing id",
			files: map[string]string{"essays.yaml": essay("")},
			want:  []string{`essays.yaml: item 1: missing id`},
		},
		{
			name:  "reading without url",
			files: map[string]string{"essays.yaml": essay("dynamo", "url: -")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): missing url`},
		},
		{
			name:  "bad url",
			files: map[string]string{"essays.yaml": essay("dynamo", "url: htp//x")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): url "htp//x" is not a well-formed http(s) URL`},
		},
		{
			name:  "non-http url",
			files: map[string]string{"essays.yaml": essay("dynamo", "url: ftp://example.com/x")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): url "ftp://example.com/x"`},
		},
		{
			name:  "unknown kind",
			files: map[string]string{"essays.yaml": strings.Replace(essay("dynamo"), "kind: essay", "kind: blog", 1)},
			want:  []string{`essays.yaml: unknown kind "blog"`},
		},
		{
			name:  "missing kind",
			files: map[string]string{"essays.yaml": strings.Replace(essay("dynamo"), "kind: essay\n", "", 1)},
			want:  []string{`essays.yaml: missing kind`},
		},
		{
			name:  "kind is a list",
			files: map[string]string{"essays.yaml": strings.Replace(essay("dynamo"), "kind: essay", "kind: [essay]", 1)},
			want:  []string{`essays.yaml: line 1: kind must be one of`},
		},
		{
			name:  "items is not a list",
			files: map[string]string{"essays.yaml": "kind: essay\nitems:\n  id: dynamo\n"},
			want:  []string{`essays.yaml: line 3: items must be a list`, `essays.yaml: no items`},
		},
		{
			name:  "top level is not a mapping",
			files: map[string]string{"essays.yaml": "- id: dynamo\n"},
			want:  []string{`essays.yaml: line 1: top level must be a mapping`},
		},
		{
			name:  "comments only",
			files: map[string]string{"essays.yaml": "# to do\n"},
			want:  []string{`essays.yaml: empty file`},
		},
		{
			name:  "kind does not match file name",
			files: map[string]string{"books.yaml": essay("dynamo")},
			want:  []string{`books.yaml: kind "essay" does not match the file name`},
		},
		{
			name: "two files of one kind",
			files: map[string]string{
				"essays.yaml": essay("dynamo"),
				"more.yaml":   essay("tail-at-scale"),
			},
			want: []string{`more.yaml: kind "essay" is already defined by essays.yaml`},
		},
		{
			name:  "unknown item field",
			files: map[string]string{"essays.yaml": essay("dynamo", "year: 2007")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): unknown field "year" (line 10)`},
		},
		{
			name:  "unknown top-level field",
			files: map[string]string{"essays.yaml": "version: 2\n" + essay("dynamo")},
			want:  []string{`essays.yaml: unknown field "version" (line 1)`},
		},
		{
			name:  "control character",
			files: map[string]string{"essays.yaml": essay("dynamo", `title: "Dynamo\a"`)},
			want:  []string{`essays.yaml: item 1 ("dynamo"): title contains control character U+0007`},
		},
		{
			name:  "newline in a title",
			files: map[string]string{"essays.yaml": essay("dynamo", `title: "Dyn\namo"`)},
			want:  []string{`essays.yaml: item 1 ("dynamo"): title contains control character U+000A`},
		},
		{
			name:  "mojibake",
			files: map[string]string{"essays.yaml": essay("dynamo", "title: Amazonâ€™s Dynamo")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): title contains mis-encoded text "â€"`},
		},
		{
			name:  "trailing space",
			files: map[string]string{"essays.yaml": essay("dynamo", `title: "Dynamo "`)},
			want:  []string{`essays.yaml: item 1 ("dynamo"): title has leading or trailing whitespace`},
		},
		{
			name:  "id not kebab-case",
			files: map[string]string{"essays.yaml": essay("Tail_at_Scale")},
			want:  []string{`essays.yaml: item 1 ("Tail_at_Scale"): id "Tail_at_Scale" is not kebab-case`},
		},
		{
			name:  "id too long",
			files: map[string]string{"essays.yaml": essay(strings.Repeat("ab-", 14) + "c")},
			want:  []string{`essays.yaml: item 1 ("ab-ab-`, `id is 43 characters long`},
		},
		{
			name:  "title too long",
			files: map[string]string{"essays.yaml": essay("dynamo", "title: "+strings.Repeat("é", 151))},
			want:  []string{`essays.yaml: item 1 ("dynamo"): title is 151 characters long`},
		},
		{
			name:  "wrong field type",
			files: map[string]string{"essays.yaml": essay("dynamo", "title: [a, b]")},
			want:  []string{`essays.yaml: item 1 ("dynamo"): line 4: cannot unmarshal`},
		},
		{
			name: "item not a mapping",
			files: map[string]string{
				"essays.yaml": essay("dynamo") + "  -\n" + strings.TrimPrefix(essay("dynamo"), "kind: essay\nitems:\n"),
			},
			// The empty entry must not shift the number of the next item.
			want: []string{`essays.yaml: item 2: must be a mapping`, `essays.yaml: item 3 ("dynamo"): duplicate id, already used by essays.yaml item 1 ("dynamo")`},
		},
		{
			name:  "yaml syntax error",
			files: map[string]string{"essays.yaml": "kind: essay\nitems: [\n"},
			want:  []string{`essays.yaml: yaml: line`},
		},
		{
			name:  "invalid utf-8",
			files: map[string]string{"essays.yaml": essay("dynamo", "title: Caf\xe9")},
			want:  []string{`essays.yaml: line 4 is not valid UTF-8`},
		},
		{
			name:  "empty file",
			files: map[string]string{"essays.yaml": ""},
			want:  []string{`essays.yaml: empty file`},
		},
		{
			name:  "two documents",
			files: map[string]string{"essays.yaml": essay("dynamo") + "---\n" + essay("tail-at-scale")},
			want:  []string{`essays.yaml: only one YAML document`},
		},
		{
			name:  "no items",
			files: map[string]string{"essays.yaml": "kind: essay\nitems: []\n"},
			want:  []string{`essays.yaml: no items`, `no readings`},
		},
		{
			name:  "only milestones",
			files: map[string]string{"milestones.yaml": goodMilestones},
			want:  []string{`no readings`},
		},
		{
			name: "unknown milestone",
			files: map[string]string{
				"essays.yaml":     essay("dynamo"),
				"milestones.yaml": strings.Replace(goodMilestones, "id: design", "id: karaoke", 1),
			},
			want: []string{`milestones.yaml: item 1 ("karaoke"): unknown milestone id`},
		},
		{
			name: "milestone without description",
			files: map[string]string{
				"essays.yaml":     essay("dynamo"),
				"milestones.yaml": strings.Replace(goodMilestones, "    description: Design a service.\n", "", 1),
			},
			want: []string{`milestones.yaml: item 1 ("design"): missing description`},
		},
		{
			name:  "no files",
			files: map[string]string{"README.md": "# nothing here"},
			want:  []string{`no *.yaml files`},
		},
		{
			name: "every problem reported",
			files: map[string]string{
				"essays.yaml": essay("dynamo", "url: nope", "why: -"),
				"talks.yaml":  strings.Replace(goodTalks, "title: Some Talk", "title: Talkâ€", 1),
			},
			want: []string{
				"3 problems",
				`essays.yaml: item 1 ("dynamo"): missing why`,
				`essays.yaml: item 1 ("dynamo"): url "nope"`,
				`talks.yaml: item 1 ("some-talk"): title contains mis-encoded text`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(mapFS(tt.files))
			if err == nil {
				t.Fatalf("Load succeeded with %d readings, want an error", len(c.Readings))
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestLoadNumbersByKindNotFileName(t *testing.T) {
	t.Parallel()
	// File names sort books before talks; numbering must still follow
	// ReadingKinds, and block scalars must lose their trailing newline.
	fsys := mapFS(map[string]string{
		"a-talks.yaml":  goodTalks,
		"0-essays.yaml": essay("dynamo", "why: |\n      Because\n      of reasons."),
		"z.yaml": `kind: training
items:
  - id: course
    title: A Course
    authors: Alan Turing
    url: http://example.com/
    effort: 2 weeks
    why: >
      Folded
      text.
    question: Why?
`,
		"m.yaml": goodMilestones,
	})
	c, err := Load(fsys)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		id     string
		number int
		kind   Kind
		file   string
		why    string
	}{
		{"course", 1, Training, "z.yaml", "Folded text."},
		{"some-talk", 2, Talk, "a-talks.yaml", "Because."},
		{"dynamo", 3, Essay, "0-essays.yaml", "Because\nof reasons."},
		{"design", 1, Milestone, "m.yaml", "Because."},
	}
	for _, tt := range tests {
		it, ok := c.Item(tt.id)
		if !ok {
			t.Errorf("Item(%q) not found", tt.id)
			continue
		}
		if it.Number != tt.number || it.Kind != tt.kind || it.File != tt.file || it.Why != tt.why {
			t.Errorf("Item(%q) = #%d %s %s why %q, want #%d %s %s why %q",
				tt.id, it.Number, it.Kind, it.File, it.Why, tt.number, tt.kind, tt.file, tt.why)
		}
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "essays.yaml"), []byte(essay("dynamo")), 0o644); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "essays.yaml")
	tests := []struct {
		name    string
		dir     string
		wantErr string
	}{
		{"directory", dir, ""},
		{"missing directory", filepath.Join(dir, "nope"), "nope"},
		{"file instead of directory", notDir, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadDir(tt.dir)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadDir: %v", err)
				}
				if len(c.Readings) != 1 || c.Readings[0].ID != "dynamo" {
					t.Errorf("readings = %v, want just dynamo", ids(c.Readings))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadDir error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		multiline bool
		want      string // substring of the problem, "" for none
	}{
		{"Luiz André Barroso", false, ""},
		{"São Paulo – Ærø, ½ ©", false, ""},
		{"Amazon’s", false, ""},
		{"line one\nline two\ttabbed", true, ""},
		{"line one\nline two", false, "control character U+000A"},
		{"bell\a", true, "control character U+0007"},
		{"c1 \u0085 control", false, "control character U+0085"},
		{"bad \xff byte", false, "not valid UTF-8"},
		{"Amazonâ€™s", false, `"â€"`},
		{"CafÃ©", false, `"Ã©"`},
		{"noÂ\u00a0break", false, `"Â\u00a0"`},
		{"replaced \uFFFD char", false, "mis-encoded"},
		{" padded", false, "leading or trailing whitespace"},
	}
	for _, tt := range tests {
		got := checkText(tt.in, tt.multiline)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("checkText(%q, %v) = %q, want %q", tt.in, tt.multiline, got, tt.want)
		}
	}
}

func TestWellFormedURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"https://example.com/a?b=c#d", true},
		{"http://web.mit.edu/2.75/resources/random/How%20Complex%20Systems%20Fail.pdf", true},
		{"htp//x", false},
		{"/relative/path", false},
		{"mailto:someone@example.com", false},
		{"https://", false},
		{"https://example.com/with space", false},
		{"http:example.com", false},
	}
	for _, tt := range tests {
		if got := wellFormedURL(tt.in); got != tt.want {
			t.Errorf("wellFormedURL(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
