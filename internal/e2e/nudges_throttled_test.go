package e2e

import (
	"testing"
	"time"
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
	users, conn := seedDueMembers(t, emu, db, members, "UTC")
	// 10 a second once a burst of 30 is spent: about 27 s for everyone.
	emu.SetMethodLimitBurst("chat.postMessage", 600, 30)

	env := []string{"SWEEP_SCHEDULE=@every 1s", "JOB_RESCUE_AFTER=10s", "JOB_WORKERS=8"}
	bots := []*botProcess{startBot(t, emu, db, env...), startBot(t, emu, db, env...), startBot(t, emu, db, env...)}

	c := ctx(t, 60*time.Second)
	if err := emu.WaitFor(c, func() bool {
		return emu.Stats().APIResults["chat.postMessage"]["429"] > 0 && emu.Calls("chat.postMessage") >= 60
	}); err != nil {
		t.Fatalf("nudges did not reach the limit: %d calls", emu.Calls("chat.postMessage"))
	}
	kill(t, bots[1])

	waitAllSent(t, conn, members, 150*time.Second)
	checkOneNudgeEach(t, emu, users)
	st := emu.Stats()
	t.Logf("%d nudges, exactly one each, under a 600/min limit with one of three replicas SIGKILLed; chat.postMessage %d calls, %d answered 429",
		members, st.APICalls["chat.postMessage"], st.APIResults["chat.postMessage"]["429"])
}
