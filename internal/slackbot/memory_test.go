package slackbot

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/store"
)

// TestAnswerFromMemoryMatchesSlash: what the bot answers where it reads the envelope is what the
// usual way answers, byte for byte; it declines whatever needs the database or Slack.
func TestAnswerFromMemoryMatchesSlash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.db.Listen(ctx, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !b.db.CacheLive() {
		if time.Now().After(deadline) {
			t.Fatal("cache never went live")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A member nobody has seen: everything but bad input and help needs the database.
	for _, text := range []string{"", "status", "next", "list essays"} {
		if _, _, ok := b.h.SlashFromMemory(slash("U1", text)); ok {
			t.Errorf("/path %s answered from memory for a member never seen", text)
		}
	}
	run(t, b, slash("U1", "done dynamo"))
	run(t, b, slash("U1", "oncall 2026-11-02..2026-11-04"))

	for _, text := range []string{"", "status", "me", "next", "list", "list essays", "help", "help done", "help points", "dance", "done", "oncall 2030-01-01"} {
		mem, memVerb, ok := b.h.SlashFromMemory(slash("U1", text))
		if !ok {
			t.Errorf("/path %s not answered from memory", text)
			continue
		}
		want, verb, err := b.h.Slash(context.Background(), slash("U1", text))
		if err != nil {
			t.Fatal(err)
		}
		if memVerb != verb || render(t, mem) != render(t, want) {
			t.Errorf("/path %s from memory (%s):\n%s\nthe usual way (%s):\n%s", text, memVerb, render(t, mem), verb, render(t, want))
		}
	}
	for _, text := range []string{"done the-log", "undo dynamo", "oncall 2026-11-05", "status <@UEVIL>", "leaderboard", "settings", "pause 1w"} {
		if _, _, ok := b.h.SlashFromMemory(slash("U1", text)); ok {
			t.Errorf("/path %s answered from memory; it writes or needs Slack", text)
		}
	}
	if got := readings(t, b, "U1"); len(got) != 1 {
		t.Errorf("answering from memory wrote something: readings %v", got)
	}
}

func readings(t *testing.T, b bundle, user string) []string {
	t.Helper()
	s, err := b.db.Snapshot(context.Background(), store.Member{TeamID: "T1", UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range s.Done() {
		ids = append(ids, id)
	}
	return ids
}
