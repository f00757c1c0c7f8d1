package typo

import "testing"

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"status", "status", 0},
		{"stauts", "status", 1}, // a swap is one slip
		{"dynamoo", "dynamo", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
		{"tail-at-scale", "tail at scale", 2},
		{"é", "e", 1}, // runes, not bytes
		{"ünï", "uni", 2},
		{"ca", "abc", 3}, // optimal string alignment: a swapped pair is not edited again
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.want)
		}
	}
}
