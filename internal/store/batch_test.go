package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// TestConcurrentWritesShareTransactions sends many writes at once, several per member, some of
// them redelivered, and checks that each is applied exactly once, that every member's score
// follows all of their writes (a member's writes see one another even when they are queued
// together), and that the writes did share transactions.
func TestConcurrentWritesShareTransactions(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	db.Score = func(s store.Snapshot) store.Score {
		n := len(s.Done())
		return store.Score{Points: 10 * n, Readings: n}
	}
	const members, perMember = 40, 5
	readings := []string{"dynamo", "the-log", "tail-at-scale", "raft", "spanner"}
	var wg sync.WaitGroup
	errs := make(chan error, members*(2*perMember+1))
	for u := range members {
		m := store.Member{TeamID: "T1", UserID: fmt.Sprintf("U%03d", u)}
		if u%2 == 0 {
			wg.Go(func() { errs <- db.Enrol(ctx, m) })
		}
		for i := range perMember {
			for range 2 { // every command is delivered twice, at the same time
				wg.Go(func() {
					_, err := db.Apply(ctx, m, fmt.Sprintf("%s-%d", m.UserID, i), store.Change{MarkReading: readings[i], Status: store.StatusDone})
					errs <- err
				})
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for u := range members {
		m := store.Member{TeamID: "T1", UserID: fmt.Sprintf("U%03d", u)}
		s, err := db.Snapshot(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Done()) != perMember {
			t.Fatalf("%s has %d readings done, want %d", m, len(s.Done()), perMember)
		}
		var points, rows, sum int
		if err := db.Pool().QueryRow(ctx, `SELECT points, (SELECT count(*) FROM activity WHERE team_id = $1 AND user_id = $2),
		       (SELECT coalesce(sum(points), 0) FROM activity WHERE team_id = $1 AND user_id = $2)
		       FROM members WHERE team_id = $1 AND user_id = $2`, m.TeamID, m.UserID).Scan(&points, &rows, &sum); err != nil {
			t.Fatal(err)
		}
		if points != 10*perMember || rows != perMember || sum != points {
			t.Fatalf("%s: points %d, %d activity rows summing to %d; want %d points in %d rows", m, points, rows, sum, 10*perMember, perMember)
		}
	}
	var processed int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM processed_commands`).Scan(&processed); err != nil {
		t.Fatal(err)
	}
	if processed != members*perMember {
		t.Fatalf("%d processed commands, want %d", processed, members*perMember)
	}
	writes, txs := db.WriteStats()
	t.Logf("%d writes in %d transactions", writes, txs)
	if txs >= writes {
		t.Errorf("%d writes took %d transactions: none were grouped", writes, txs)
	}
}

// TestFailedWriteDoesNotFailItsBatch makes one write of a batch fail in Postgres (a shift that
// ends before it starts, which only the database's CHECK catches here): that write gets the
// error and nothing of it is stored, the others of its batch are applied.
func TestFailedWriteDoesNotFailItsBatch(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	bad := progress.Shift{From: date(t, "2026-01-07"), To: date(t, "2026-01-01"), Part: progress.PartFull}
	good := progress.Shift{From: date(t, "2026-01-01"), To: date(t, "2026-01-07"), Part: progress.PartFull}
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() {
				sh := good
				if i == 7 {
					sh = bad
				}
				m := store.Member{TeamID: "T1", UserID: fmt.Sprintf("U%02d", i)}
				_, errs[i] = db.Apply(ctx, m, fmt.Sprintf("r%d-%d", round, i), store.Change{AddShift: &sh})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if (err != nil) != (i == 7) {
				t.Fatalf("round %d write %d: err = %v", round, i, err)
			}
		}
	}
	var shifts, processed int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM oncall_shifts), (SELECT count(*) FROM processed_commands)`).Scan(&shifts, &processed); err != nil {
		t.Fatal(err)
	}
	if shifts != 5*19 || processed != 5*19 {
		t.Fatalf("%d shifts and %d processed commands, want %d of each", shifts, processed, 5*19)
	}
	if s, err := db.Snapshot(context.Background(), store.Member{TeamID: "T1", UserID: "U07"}); err != nil || len(s.Shifts) != 0 {
		t.Fatalf("failing member's snapshot = %+v, %v", s, err)
	}
}

// TestWriteGivenUpWhileQueuedIsNeverApplied: a write whose caller gives up while it waits behind
// another write of the same member is dropped, never applied later behind the caller's back.
func TestWriteGivenUpWhileQueuedIsNeverApplied(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	m := store.Member{TeamID: "T1", UserID: "U1"}
	if _, err := db.Apply(ctx, m, "t0", store.Change{MarkReading: "dynamo", Status: store.StatusDone}); err != nil {
		t.Fatal(err)
	}
	// Hold the member's row so that the next write of this member waits in the database.
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM members WHERE team_id = $1 AND user_id = $2 FOR UPDATE`, m.TeamID, m.UserID); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := db.Apply(ctx, m, "t1", store.Change{MarkReading: "the-log", Status: store.StatusDone})
		first <- err
	}()
	time.Sleep(100 * time.Millisecond) // t1 is now in its transaction, waiting for the lock
	gctx, giveUp := context.WithTimeout(ctx, 100*time.Millisecond)
	defer giveUp()
	if _, err := db.Apply(gctx, m, "t2", store.Change{MarkReading: "raft", Status: store.StatusDone}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued write whose caller gave up: err = %v, want the deadline", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// Anything still queued would have run by the time a later write of the member returns.
	s, err := db.Apply(ctx, m, "t3", store.Change{MarkReading: "spanner", Status: store.StatusDone})
	if err != nil {
		t.Fatal(err)
	}
	if done := s.Snapshot.Done(); !done["the-log"] || !done["spanner"] || done["raft"] {
		t.Fatalf("done = %v, want the-log and spanner but not raft (given up)", done)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM processed_commands WHERE trigger_id = 't2'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("t2 recorded %d times (err %v), want never", n, err)
	}
}
