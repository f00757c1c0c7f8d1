package curriculum

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestResolveFinds(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	tests := []struct {
		query, want string
	}{
		{"dynamo", "dynamo"},
		{"  DYNAMO  ", "dynamo"},
		{"Tail-At-Scale", "tail-at-scale"},
		{"7", "senior-engineer"},
		{"#7", "senior-engineer"},
		{"# 16", "dynamo"},
		{"23", "distsys-fun-profit"},
		{"1", "networking-for-web-developers"},
		{"tail at scale", "tail-at-scale"},
		{"the log", "the-log"},
		{"key-value store", "dynamo"},
		{"amazons", "dynamo"},
		{"amazon's", "dynamo"},
		{"Amazon’s", "dynamo"},
		{"Release It!", "release-it"},
		{"mythical", "mythical-man-month"},
		{"man", "mythical-man-month"}, // a whole word beats "managers"
		{"scale tail", "tail-at-scale"},
		{"fun profit distributed", "distsys-fun-profit"},
		{"feynman", "shuttle-reliability"},
		{"worst", "worst-is-best"},
		{"worse", "worse-is-better"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			got, err := c.Resolve(tt.query)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.query, err)
			}
			if got.ID != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.query, got.ID, tt.want)
			}
		})
	}
}

func TestResolveAmbiguous(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	tests := []struct {
		query string
		want  []string // must all be among the matches
	}{
		{"systems", []string{"resilient-patterns", "complex-systems-fail", "distsys-fun-profit"}},
		{"distributed systems", []string{"resilient-patterns", "distsys-fun-profit"}},
		{"allspaw", []string{"senior-engineer", "web-operations"}},
		{"design", []string{"system-design-primer", "release-it"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			_, err := c.Resolve(tt.query)
			var amb *AmbiguousError
			if !errors.As(err, &amb) {
				t.Fatalf("Resolve(%q) error = %v, want *AmbiguousError", tt.query, err)
			}
			got := ids(amb.Matches)
			for _, id := range tt.want {
				if !slices.Contains(got, id) {
					t.Errorf("matches %v lack %q", got, id)
				}
			}
			if amb.Query != tt.query || !strings.Contains(err.Error(), tt.want[0]) {
				t.Errorf("error %+v: query %q, message %q", amb, amb.Query, err)
			}
			if !slices.IsSortedFunc(amb.Matches, func(a, b Item) int { return a.Number - b.Number }) {
				t.Errorf("matches %v are not in path order", got)
			}
		})
	}
}

func TestResolveNotFound(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	tests := []struct {
		query    string
		suggests string // first suggestion, "" for none
	}{
		{"dynamoo", "dynamo"},
		{"tail-at-scael", "tail-at-scale"},
		{"continous delivery", "continuous-delivery"},
		{"fallacys", "fallacies"},
		{"xyzzy", ""},
		{"0", ""},
		{"24", ""},
		{"#99999999999999999999", ""},
		{"oncall", "call-me-maybe"}, // milestones are not readings
		{"?!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			_, err := c.Resolve(tt.query)
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("Resolve(%q) error = %v, want *NotFoundError", tt.query, err)
			}
			if nf.Query != tt.query {
				t.Errorf("Query = %q, want %q", nf.Query, tt.query)
			}
			if len(nf.Suggestions) > 3 {
				t.Errorf("%d suggestions, want at most 3", len(nf.Suggestions))
			}
			if tt.suggests == "" {
				if len(nf.Suggestions) != 0 {
					t.Errorf("suggestions = %v, want none", ids(nf.Suggestions))
				}
				return
			}
			if len(nf.Suggestions) == 0 || nf.Suggestions[0].ID != tt.suggests {
				t.Fatalf("suggestions = %v, want %q first", ids(nf.Suggestions), tt.suggests)
			}
			if want := "did you mean " + tt.suggests; !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		})
	}
}

func TestResolveEmpty(t *testing.T) {
	t.Parallel()
	c := embedded(t)
	for _, q := range []string{"", "   ", "\t\n"} {
		if _, err := c.Resolve(q); !errors.Is(err, ErrEmptyQuery) {
			t.Errorf("Resolve(%q) error = %v, want ErrEmptyQuery", q, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"Dynamo: Amazon’s Highly Available Key-value Store", "dynamo amazons highly available key value store"},
		{"  Release It!: Design  ", "release it design"},
		{"When 'Worst' is Best", "when worst is best"},
		{"Luiz André", "luiz andré"},
		{"?!", ""},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
