// Package curriculum loads and validates the senior engineer path: the
// readings (trainings, talks, essays, books) and the hands-on milestones
// kept as YAML in the top-level curriculum package, or in a directory named
// by CURRICULUM_DIR. Validation is strict and reports every problem at once,
// naming the file and item, because the files are edited by hand and a
// mistake should stop the bot at startup rather than surface later as a
// broken Slack message. Once loaded, a Curriculum is read-only and safe for
// concurrent use; Resolve turns what a user typed into a reading.
package curriculum

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	pathdata "github.com/pathbot/pathbot/curriculum"
)

// Kind is the kind of a curriculum item; each kind lives in its own file.
type Kind string

// The kinds of items on the path.
const (
	Training  Kind = "training"
	Talk      Kind = "talk"
	Essay     Kind = "essay"
	Book      Kind = "book"
	Milestone Kind = "milestone"
)

// ReadingKinds lists the kinds of readings in display order, which is also
// the order in which readings are numbered.
var ReadingKinds = []Kind{Training, Talk, Essay, Book}

// MilestoneIDs lists the milestones the bot has rules for, in path order. A
// milestone file may only use these ids, since an unknown one could never be
// completed.
var MilestoneIDs = []string{"design", "languages", "messaging", "wire-format", "deploy", "loadtest", "oncall"}

// Item is one reading or milestone.
type Item struct {
	ID          string
	Title       string
	Authors     string
	URL         string
	Effort      string
	Why         string
	Question    string
	Description string
	Kind        Kind
	// Number is the position users refer to: readings are numbered 1..N
	// across trainings, talks, essays and books in that order, milestones
	// 1..M on their own.
	Number int
	// File is the name of the source file, for messages about the item.
	File string
}

// Curriculum is a loaded, validated path.
type Curriculum struct {
	Readings   []Item
	Milestones []Item

	byID   map[string]Item
	search []entry
}

// Load reads and validates every *.yaml file in the root of fsys.
func Load(fsys fs.FS) (*Curriculum, error) {
	c, err := load(fsys)
	if err != nil {
		return nil, fmt.Errorf("load curriculum: %w", err)
	}
	return c, nil
}

// Embedded loads the path compiled into the binary.
func Embedded() (*Curriculum, error) {
	c, err := load(pathdata.FS)
	if err != nil {
		return nil, fmt.Errorf("load embedded curriculum: %w", err)
	}
	return c, nil
}

// LoadDir loads the path from a directory, such as CURRICULUM_DIR.
func LoadDir(dir string) (*Curriculum, error) {
	// os.DirFS defers errors and fs.Glob swallows them, so a mistyped
	// directory would otherwise be reported as merely empty.
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load curriculum from %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("load curriculum from %s: not a directory", dir)
	}
	c, err := load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("load curriculum from %s: %w", dir, err)
	}
	return c, nil
}

// Item returns the reading or milestone with exactly this id.
func (c *Curriculum) Item(id string) (Item, bool) {
	it, ok := c.byID[id]
	return it, ok
}

// ReadingsOf returns the readings of kind k in path order. Milestones are not
// readings, so ReadingsOf(Milestone) is empty; use Milestones.
func (c *Curriculum) ReadingsOf(k Kind) []Item {
	var out []Item
	for _, it := range c.Readings {
		if it.Kind == k {
			out = append(out, it)
		}
	}
	return out
}

func load(fsys fs.FS) (*Curriculum, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list *.yaml files: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("no *.yaml files found")
	}

	var errs []error
	byKind := map[Kind]*parsedFile{}
	seen := map[string]string{} // id -> file and item that defined it first
	for _, name := range names {
		f, ferrs := parseFile(fsys, name)
		errs = append(errs, ferrs...)
		if f == nil {
			continue
		}
		for i, it := range f.items {
			if it.ID == "" {
				continue
			}
			if first, dup := seen[it.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: %s: duplicate id, already used by %s", name, f.refs[i], first))
				continue
			}
			seen[it.ID] = name + " " + f.refs[i]
		}
		if f.kind == "" {
			continue
		}
		if prev, dup := byKind[f.kind]; dup {
			errs = append(errs, fmt.Errorf("%s: kind %q is already defined by %s; each kind belongs in exactly one file", name, f.kind, prev.name))
			continue
		}
		byKind[f.kind] = f
	}

	c := &Curriculum{byID: map[string]Item{}}
	for _, k := range ReadingKinds {
		if f := byKind[k]; f != nil {
			for _, it := range f.items {
				it.Number = len(c.Readings) + 1
				c.Readings = append(c.Readings, it)
			}
		}
	}
	if f := byKind[Milestone]; f != nil {
		for i, it := range f.items {
			it.Number = i + 1
			c.Milestones = append(c.Milestones, it)
		}
	}
	if len(c.Readings) == 0 {
		errs = append(errs, errors.New("no readings: at least one training, talk, essay or book is required"))
	}

	switch len(errs) {
	case 0:
	case 1:
		return nil, errs[0]
	default:
		return nil, fmt.Errorf("%d problems:\n%w", len(errs), errors.Join(errs...))
	}

	for _, it := range c.Readings {
		c.byID[it.ID] = it
		c.search = append(c.search, newEntry(it))
	}
	for _, it := range c.Milestones {
		c.byID[it.ID] = it
	}
	return c, nil
}

// itemRef names an item for error messages by its 0-based index i, with
// its id when it has one, since the id is what editors search for.
func itemRef(i int, id string) string {
	if id == "" {
		return fmt.Sprintf("item %d", i+1)
	}
	return fmt.Sprintf("item %d (%q)", i+1, id)
}
