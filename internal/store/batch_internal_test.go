package store

import (
	"context"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/pgtest"
)

// batchOf builds the writes of one batch, as take would hand them to runBatch.
func batchOf(ctx context.Context, users ...string) []*writeReq {
	var batch []*writeReq
	for _, u := range users {
		batch = append(batch, &writeReq{ctx: ctx, m: Member{TeamID: "T1", UserID: u}, trigger: "t-" + u,
			ch: Change{MarkReading: "dynamo", Status: StatusDone}, done: make(chan struct{})})
	}
	return batch
}

// TestLockedMemberHoldsUpOnlyTheirOwnWrite: a batch that meets a row held elsewhere (psql, a bulk
// statement) gives up on the lock quickly and retries its writes alone, so the other members'
// writes succeed at once and only the locked member's write waits.
func TestLockedMemberHoldsUpOnlyTheirOwnWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := New(pgtest.NewPool(t))
	for _, r := range batchOf(ctx, "U0", "U1", "U2") {
		if err := db.Enrol(ctx, r.m); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM members WHERE team_id = 'T1' AND user_id = 'U1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	batch := batchOf(ctx, "U0", "U1", "U2")
	go db.runBatch(batch)
	for _, i := range []int{0, 2} {
		select {
		case <-batch[i].done:
			if batch[i].err != nil || !batch[i].res.Changed {
				t.Fatalf("%s: err %v, result %+v; want applied", batch[i].m, batch[i].err, batch[i].res)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s's write waited for another member's lock", batch[i].m)
		}
	}
	select {
	case <-batch[1].done:
		t.Fatalf("the locked member's write finished while its row was held: err %v", batch[1].err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-batch[1].done:
		if batch[1].err != nil || !batch[1].res.Changed {
			t.Fatalf("locked member after release: err %v, result %+v", batch[1].err, batch[1].res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the locked member's write did not finish after the row was released")
	}
}

// TestScorerPanicFailsOnlyItsWrite: the domain rules run on the lane's goroutine; a panic in them
// fails that write with an error, the rest of its batch is applied, and the process lives on.
func TestScorerPanicFailsOnlyItsWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := New(pgtest.NewPool(t))
	db.Score = func(s Snapshot) Score {
		if s.Done()["dynamo"] {
			panic("scorer bug")
		}
		return Score{Points: 10 * len(s.Done())}
	}
	batch := batchOf(ctx, "U0", "U1")
	batch[1].ch = Change{MarkReading: "the-log", Status: StatusDone}
	db.runBatch(batch)
	if batch[0].err == nil {
		t.Fatalf("the write whose scoring panicked succeeded: %+v", batch[0].res)
	}
	if batch[1].err != nil || !batch[1].res.Changed {
		t.Fatalf("the other write of the batch: err %v, result %+v", batch[1].err, batch[1].res)
	}
	s, err := db.Snapshot(ctx, batch[0].m)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Readings) != 0 {
		t.Fatalf("the failed write left %v behind", s.Readings)
	}
}
