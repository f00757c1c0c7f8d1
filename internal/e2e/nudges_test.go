package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/slackemu"
)

// TestNudgesExactlyOnceAcrossReplicasAndACrash runs three bot processes against one database and
// one workspace, makes 500 members' weekly nudge due, SIGKILLs one process while the nudges go out,
// and checks that every member got exactly one nudge: none lost with the killed process (River
// rescues its jobs), none sent twice (deliveries are recorded under a unique key and a retry looks
// for the message in the DM before sending).
func TestNudgesExactlyOnceAcrossReplicasAndACrash(t *testing.T) {
	t.Parallel()
	const members = 500
	db := newDatabase(t)
	emu := newEmulator(t)
	users, conn := seedDueMembers(t, emu, db, members, "Asia/Kolkata", "America/Los_Angeles", "Europe/Berlin", "UTC")

	env := []string{"SWEEP_SCHEDULE=@every 1s", "JOB_RESCUE_AFTER=10s", "JOB_WORKERS=4"}
	bots := []*botProcess{startBot(t, emu, db, env...), startBot(t, emu, db, env...), startBot(t, emu, db, env...)}

	// Kill one replica with SIGKILL while nudges are going out.
	c := ctx(t, 60*time.Second)
	if err := emu.WaitFor(c, func() bool { return emu.Calls("chat.postMessage") >= 60 }); err != nil {
		t.Fatalf("nudges did not start going out: %d sent", emu.Calls("chat.postMessage"))
	}
	kill(t, bots[1])
	sentAtKill := emu.Calls("chat.postMessage")

	// Every member gets their nudge, the killed replica's share included (River rescues its jobs).
	waitAllSent(t, conn, members, 120*time.Second)
	if sentAtKill >= members {
		t.Logf("note: every nudge was out before the kill landed (%d)", sentAtKill)
	}
	checkOneNudgeEach(t, emu, users)
	t.Logf("500 nudges, exactly one each; %d had been sent when one of three replicas was SIGKILLed", sentAtKill)
}

// seedDueMembers adds n members to the workspace (time zones taken in turn from zones) and
// enrols them with their weekly nudge due a minute ago. It returns their ids and a connection
// to db, closed when t ends.
func seedDueMembers(t *testing.T, emu *slackemu.Server, db string, n int, zones ...string) ([]string, *pgx.Conn) {
	t.Helper()
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("U%05d", i)
		emu.AddUser(slackemu.User{ID: users[i], Name: fmt.Sprintf("dev%d", i), DisplayName: fmt.Sprintf("Dev %d", i), TZ: zones[i%len(zones)]})
	}
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	team := emu.Config().TeamID
	for _, sql := range []string{
		`INSERT INTO teams (team_id) VALUES ($1)`,
		`INSERT INTO members (team_id, user_id, display_name, tz, tz_checked_at, next_nudge_at)
		 SELECT $1, 'U' || lpad(i::text, 5, '0'), 'Dev ' || i, 'UTC', now(), now() - interval '1 minute'
		 FROM generate_series(0, $2::int - 1) AS i`,
	} {
		args := []any{team}
		if strings.Contains(sql, "$2") {
			args = append(args, n)
		}
		if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	return users, conn
}

// kill SIGKILLs one bot process and waits for it to be gone.
func kill(t *testing.T, b *botProcess) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b.exited
	b.ended = true
}

// waitAllSent waits up to d for n nudges to be recorded as sent.
func waitAllSent(t *testing.T, conn *pgx.Conn, n int, d time.Duration) {
	t.Helper()
	c := ctx(t, d)
	var sent int
	for {
		if err := conn.QueryRow(c, `SELECT count(*) FROM deliveries WHERE kind = 'nudge' AND status = 'sent'`).Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if sent == n || c.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if sent != n {
		t.Fatalf("%d of %d nudges recorded as sent", sent, n)
	}
}

// checkOneNudgeEach fails t unless every user's DM holds exactly one nudge.
func checkOneNudgeEach(t *testing.T, emu *slackemu.Server, users []string) {
	t.Helper()
	var lost, doubled []string
	for _, u := range users {
		n := 0
		for _, m := range emu.Messages(emu.DMChannel(u)) {
			if strings.Contains(string(m.Blocks), "pathbot-nudge-") {
				n++
			}
		}
		switch {
		case n == 0:
			lost = append(lost, u)
		case n > 1:
			doubled = append(doubled, u)
		}
	}
	if len(lost) > 0 || len(doubled) > 0 {
		t.Fatalf("%d members got no nudge (%v), %d got more than one (%v)", len(lost), head(lost), len(doubled), head(doubled))
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }
