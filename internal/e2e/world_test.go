package e2e

import (
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/slackemu"
)

// newDatabase is a fresh, migrated database for one test.
func newDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t)
}

// newEmulator is a started emulator with the seeded teammates, closed when t ends.
func newEmulator(t *testing.T) *slackemu.Server {
	t.Helper()
	emu := slackemu.New(slackemu.Config{PingInterval: 2 * time.Second, AnswerTimeout: 10 * time.Second})
	emu.SeedTeammates()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}
