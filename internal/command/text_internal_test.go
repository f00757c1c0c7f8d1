package command

import (
	"strings"
	"testing"
)

func TestPlainNameLength(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{strings.Repeat("é", 80), true},
		{strings.Repeat("é", 81), false},
		{"", false},
		{"a b", false},
		{"a<b", false},
	} {
		if got := isPlainName(tt.name); got != tt.ok {
			t.Errorf("isPlainName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
