// Package typo measures how far apart two words are, for the "did you mean …?" answers to a
// mistyped command or reading: one package so the parser and the curriculum agree on what counts
// as a small slip.
package typo

// Distance is the optimal-string-alignment distance between a and b, in runes: insertions,
// deletions, substitutions and swaps of neighbours each cost one, so "stauts" is one away from
// "status".
func Distance(a, b string) int {
	// A mistyped reading is compared with every word of the curriculum, so the usual short words
	// are measured on the stack: no allocation at all.
	const short = 48
	var sa, sb [short]rune
	var s0, s1, s2 [short + 1]int
	ra, rb := appendRunes(sa[:0], a), appendRunes(sb[:0], b)
	prev2, prev, cur := s0[:0], s1[:0], s2[:0]
	if len(rb) >= short {
		prev2, prev, cur = make([]int, 0, len(rb)+1), make([]int, 0, len(rb)+1), make([]int, 0, len(rb)+1)
	}
	prev2, prev, cur = prev2[:len(rb)+1], prev[:len(rb)+1], cur[:len(rb)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// appendRunes is append(dst, []rune(s)...) without the intermediate slice.
func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}
