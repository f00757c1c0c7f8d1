package typo

import (
	"strings"
	"testing"
)

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

func TestDistanceLongWords(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ab", 40)
	if got := Distance(long, long+"c"); got != 1 {
		t.Errorf("Distance of an 80-rune word and it plus one rune = %d, want 1", got)
	}
	if got := Distance("x", long); got != 80 {
		t.Errorf("Distance(x, 80 runes) = %d, want 80", got)
	}
}

func TestDistanceAllocatesNothingForWords(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = Distance("kubernetes", "kubernetse") }); n != 0 {
		t.Errorf("Distance of two words made %v allocations, want 0", n)
	}
}
