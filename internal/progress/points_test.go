package progress

import "testing"

func TestReadingPoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind string
		want int
	}{
		{"training", TrainingPoints}, {"Trainings", TrainingPoints}, {"book", BookPoints}, {"books", BookPoints},
		{"essay", EssayPoints}, {"paper", EssayPoints}, {"talk", TalkPoints}, {" Talks ", TalkPoints},
		{"podcast", 0}, {"", 0},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			if got := ReadingPoints(tt.kind); got != tt.want {
				t.Errorf("ReadingPoints(%q) = %d, want %d", tt.kind, got, tt.want)
			}
		})
	}
}

func TestPointOrdering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		higher, lower int
	}{
		{"a book is worth more than an essay", ReadingPoints("book"), ReadingPoints("essay")},
		{"an essay is worth more than a talk", ReadingPoints("essay"), ReadingPoints("talk")},
		{"a training is worth more than a book", ReadingPoints("training"), ReadingPoints("book")},
		{"a milestone is worth more than any reading", MilestonePoints, ReadingPoints("training")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.higher <= tt.lower {
				t.Errorf("%d is not more than %d", tt.higher, tt.lower)
			}
		})
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		kinds      []string
		milestones int
		want       int
	}{
		{"nothing", nil, 0, 0},
		{"readings only", []string{"book", "talk", "essay", "training"}, 0, 5 + 2 + 3 + 8},
		{"milestones only", nil, 2, 40},
		{"both", []string{"book", "book"}, 1, 30},
		{"unknown kinds add nothing", []string{"podcast"}, 0, 0},
		{"negative milestones add nothing", []string{"talk"}, -3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Score(tt.kinds, tt.milestones); got != tt.want {
				t.Errorf("Score(%v, %d) = %d, want %d", tt.kinds, tt.milestones, got, tt.want)
			}
		})
	}
}

func TestNextReading(t *testing.T) {
	t.Parallel()
	order := []string{"a", "b", "c"}
	tests := []struct {
		name          string
		done, skipped map[string]bool
		want          string
		wantOK        bool
	}{
		{"nothing done", nil, nil, "a", true},
		{"first done", map[string]bool{"a": true}, nil, "b", true},
		{"first skipped", nil, map[string]bool{"a": true}, "b", true},
		{"done out of order", map[string]bool{"b": true}, nil, "a", true},
		{"mixed", map[string]bool{"a": true}, map[string]bool{"b": true}, "c", true},
		{"false entries are not done", map[string]bool{"a": false}, nil, "a", true},
		{"all done or skipped", map[string]bool{"a": true, "c": true}, map[string]bool{"b": true}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := NextReading(order, tt.done, tt.skipped)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("NextReading = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
	t.Run("empty path", func(t *testing.T) {
		t.Parallel()
		if got, ok := NextReading(nil, nil, nil); ok || got != "" {
			t.Errorf("NextReading(nil) = %q, %v; want \"\", false", got, ok)
		}
	})
}
