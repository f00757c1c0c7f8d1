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

// TestThrottledNudgesExactlyOnceAcrossReplicasAndACrash is the exactly-once test under Slack's
// rate limit: chat.postMessage answers 429 with Retry-After beyond 600 a minute, three replicas
// pace themselves against it (waiting out Retry-After inside the job, snoozing jobs that would
// wait too long), and one of them is SIGKILLed while nudges go out. Every member must still get
// exactly one nudge.
func TestThrottledNudgesExactlyOnceAcrossReplicasAndACrash(t *testing.T) {
	t.Parallel()
	const members = 300
	db := newDatabase(t)
	emu := newEmulator(t)
	team := emu.Config().TeamID
	users := make([]string, members)
	for i := range users {
		users[i] = fmt.Sprintf("U%05d", i)
		emu.AddUser(slackemu.User{ID: users[i], Name: fmt.Sprintf("dev%d", i), DisplayName: fmt.Sprintf("Dev %d", i), TZ: "UTC"})
	}
	// 10 a second once a burst of 30 is spent: about 27 s for everyone.
	emu.SetMethodLimitBurst("chat.postMessage", 600, 30)
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		`INSERT INTO teams (team_id) VALUES ($1)`,
		`INSERT INTO members (team_id, user_id, display_name, tz, tz_checked_at, next_nudge_at)
		 SELECT $1, 'U' || lpad(i::text, 5, '0'), 'Dev ' || i, 'UTC', now(), now() - interval '1 minute'
		 FROM generate_series(0, 299) AS i`,
	} {
		if _, err := conn.Exec(context.Background(), sql, team); err != nil {
			t.Fatal(err)
		}
	}

	env := []string{"SWEEP_SCHEDULE=@every 1s", "JOB_RESCUE_AFTER=10s", "JOB_WORKERS=8"}
	bots := []*botProcess{startBot(t, emu, db, env...), startBot(t, emu, db, env...), startBot(t, emu, db, env...)}

	c := ctx(t, 60*time.Second)
	if err := emu.WaitFor(c, func() bool {
		return emu.Stats().APIResults["chat.postMessage"]["429"] > 0 && emu.Calls("chat.postMessage") >= 60
	}); err != nil {
		t.Fatalf("nudges did not reach the limit: %d calls", emu.Calls("chat.postMessage"))
	}
	victim := bots[1]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	victim.ended = true

	c = ctx(t, 150*time.Second)
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
	st := emu.Stats()
	t.Logf("%d nudges, exactly one each, under a 600/min limit with one of three replicas SIGKILLed; chat.postMessage %d calls, %d answered 429",
		members, st.APICalls["chat.postMessage"], st.APIResults["chat.postMessage"]["429"])
}
