package progress

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// versionedSpec is the rule trimVersion implements, kept here as its specification.
var versionedSpec = regexp.MustCompile(`^(.*?)[ -]?v?[0-9]+(\.[0-9]+)*$`)

// randomNames are short strings over the characters the two rules below care about, plus the
// names from the tables, so the hand-written versions are checked against the library ones.
func randomNames(n int) []string {
	const alphabet = "0123456789..vv  --ab\t\n\u00a0é"
	chars := []rune(alphabet)
	r := rand.New(rand.NewPCG(7, 7))
	names := []string{"", " ", "go", "python3", "Python 3.12", "java 17", "c++17", "es6", "v8", "a-v1", "1.2.3", "python..3",
		"x 3 4", "rust 1.2.", "go\n1", "proto3", "  GoLang ", "objective  c", "x\ty", "\u00a0go", "go\u00a0", "a\u0085b"}
	for range n {
		var b strings.Builder
		for range r.IntN(9) {
			b.WriteRune(chars[r.IntN(len(chars))])
		}
		names = append(names, b.String())
	}
	return names
}

func TestTrimVersionMatchesRegexp(t *testing.T) {
	t.Parallel()
	for _, name := range randomNames(200_000) {
		m := versionedSpec.FindStringSubmatch(name)
		rest, ok := trimVersion(name)
		if ok != (m != nil) || (ok && rest != m[1]) {
			t.Fatalf("trimVersion(%q) = %q, %v; the regexp says %q", name, rest, ok, m)
		}
	}
}

func TestCollapseSpacesMatchesFields(t *testing.T) {
	t.Parallel()
	for _, s := range randomNames(200_000) {
		if got, want := collapseSpaces(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Fatalf("collapseSpaces(%q) = %q, want %q", s, got, want)
		}
	}
}
