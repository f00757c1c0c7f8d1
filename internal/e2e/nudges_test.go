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
	team := emu.Config().TeamID
	users := make([]string, members)
	zones := []string{"Asia/Kolkata", "America/Los_Angeles", "Europe/Berlin", "UTC"}
	for i := range users {
		users[i] = fmt.Sprintf("U%05d", i)
		emu.AddUser(slackemu.User{ID: users[i], Name: fmt.Sprintf("dev%d", i), DisplayName: fmt.Sprintf("Dev %d", i), TZ: zones[i%len(zones)]})
	}
	// 500 enrolled members whose weekly nudge fell due a minute ago.
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		`INSERT INTO teams (team_id) VALUES ($1)`,
		`INSERT INTO members (team_id, user_id, display_name, tz, tz_checked_at, next_nudge_at)
		 SELECT $1, 'U' || lpad(i::text, 5, '0'), 'Dev ' || i, 'UTC', now(), now() - interval '1 minute'
		 FROM generate_series(0, 499) AS i`,
	} {
		if _, err := conn.Exec(context.Background(), sql, team); err != nil {
			t.Fatal(err)
		}
	}

	env := []string{"SWEEP_SCHEDULE=@every 1s", "JOB_RESCUE_AFTER=10s", "JOB_WORKERS=4"}
	bots := []*botProcess{startBot(t, emu, db, env...), startBot(t, emu, db, env...), startBot(t, emu, db, env...)}

	// Kill one replica with SIGKILL while nudges are going out.
	c := ctx(t, 60*time.Second)
	if err := emu.WaitFor(c, func() bool { return emu.Calls("chat.postMessage") >= 60 }); err != nil {
		t.Fatalf("nudges did not start going out: %d sent", emu.Calls("chat.postMessage"))
	}
	victim := bots[1]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	victim.ended = true
	sentAtKill := emu.Calls("chat.postMessage")

	// Every member gets their nudge, the killed replica's share included (River rescues its jobs).
	c = ctx(t, 120*time.Second)
	var sent int
	for {
		if err := conn.QueryRow(c, `SELECT count(*) FROM deliveries WHERE kind = 'nudge' AND status = 'sent'`).Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if sent == members || c.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if sent != members {
		t.Fatalf("%d of %d nudges recorded as sent", sent, members)
	}
	if sentAtKill >= members {
		t.Logf("note: every nudge was out before the kill landed (%d)", sentAtKill)
	}
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
	t.Logf("500 nudges, exactly one each; %d had been sent when one of three replicas was SIGKILLed", sentAtKill)
}

func head(s []string) []string { return s[:min(len(s), 5)] }
