package slackemu

import (
	"strconv"
	"testing"
)

// TestIDMapDeleteIfIn: sweeping the shards one at a time, as the janitor does, covers every
// entry, and only the ones to drop go.
func TestIDMapDeleteIfIn(t *testing.T) {
	var m idMap[int]
	for i := range 1000 {
		m.store(strconv.Itoa(i), i)
	}
	for i := range len(m.shards) {
		m.deleteIfIn(len(m.shards)+i, func(v int) bool { return v%2 == 0 })
	}
	for i := range 1000 {
		if _, ok := m.load(strconv.Itoa(i)); ok != (i%2 == 1) {
			t.Errorf("entry %d kept: %v", i, ok)
		}
	}
}
