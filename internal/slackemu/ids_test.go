package slackemu

import (
	"strings"
	"testing"
)

// TestIDsOnlyAsIssued: response_urls and trigger_ids are found by a number in them, but only
// the id exactly as issued is one.
func TestIDsOnlyAsIssued(t *testing.T) {
	s := New(Config{})
	t.Cleanup(func() { _ = s.Close() })
	ruID := string(s.appendResponseURLID(nil, nil, "U1", "C1", ""))
	ms, key, _ := strings.Cut(ruID, "-")
	if ru, ok := s.responseURL(ruID); !ok || ru.user != "U1" {
		t.Fatalf("response_url %s not found", ruID)
	}
	for _, id := range []string{ms + "-0" + key, ms + "-" + strings.ToUpper(key), "0" + ruID, "1-" + key, key, ms + "-" + key + "-", ms + "-+" + key, ""} {
		if _, ok := s.responseURL(id); ok {
			t.Errorf("response_url %s found as %s", ruID, id)
		}
	}
	trig := s.newTrigger("U1", nil)
	parts := strings.Split(trig, ".")
	if tr, code := s.useTrigger(trig); code != "" || tr.user != "U1" {
		t.Fatalf("trigger %s: %s", trig, code)
	}
	for _, id := range []string{parts[0] + ".0" + parts[1] + "." + parts[2], parts[0] + "." + parts[1] + "." + strings.ToUpper(parts[2]) + "A",
		parts[0] + "." + parts[1] + ".0" + parts[2], "1." + parts[1] + "." + parts[2], parts[1], trig + ".", "." + trig, ""} {
		if _, ok := s.trigger(id); ok {
			t.Errorf("trigger %s found as %s", trig, id)
		}
	}
}
