package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func setup(t *testing.T) (*store.DB, context.Context) {
	t.Helper()
	return store.New(pgtest.NewPool(t)), context.Background()
}

func TestApplyIsIdempotentPerTrigger(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	m := store.Member{TeamID: "T1", UserID: "U1"}
	shift := progress.Shift{From: date(t, "2026-01-01"), To: date(t, "2026-01-07"), Part: progress.PartFull}

	first, err := db.Apply(ctx, m, "trig-1", store.Change{AddShift: &shift})
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !first.Changed || len(first.Snapshot.Shifts) != 1 {
		t.Fatalf("first apply = %+v", first)
	}
	again, err := db.Apply(ctx, m, "trig-1", store.Change{AddShift: &shift})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Changed || len(again.Snapshot.Shifts) != 1 {
		t.Fatalf("redelivered apply = %+v, want duplicate with one shift", again)
	}
	// A new trigger is a new command.
	third, err := db.Apply(ctx, m, "trig-2", store.Change{AddShift: &shift})
	if err != nil {
		t.Fatal(err)
	}
	if third.Duplicate || len(third.Snapshot.Shifts) != 2 {
		t.Fatalf("new trigger apply = %+v", third)
	}
}

func TestTeamsAreIsolated(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	a := store.Member{TeamID: "TA", UserID: "U1"}
	b := store.Member{TeamID: "TB", UserID: "U1"} // same user id, another workspace
	if _, err := db.Apply(ctx, a, "t1", store.Change{MarkReading: "dynamo", Status: store.StatusDone}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Apply(ctx, a, "t2", store.Change{AddEntries: []progress.Entry{{Milestone: "languages", Key: "go"}}}); err != nil {
		t.Fatal(err)
	}
	sb, err := db.Snapshot(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Enrolled || len(sb.Readings) != 0 || len(sb.Entries) != 0 {
		t.Fatalf("team B sees team A's data: %+v", sb)
	}
	// The same trigger id in another team is another command.
	rb, err := db.Apply(ctx, b, "t1", store.Change{MarkReading: "the-log", Status: store.StatusDone})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Duplicate || len(rb.Snapshot.Readings) != 1 || rb.Snapshot.Readings[0].ItemID != "the-log" {
		t.Fatalf("team B apply = %+v", rb)
	}
	sa, _ := db.Snapshot(ctx, a)
	if len(sa.Readings) != 1 || sa.Readings[0].ItemID != "dynamo" {
		t.Fatalf("team A readings = %+v", sa.Readings)
	}
}

func TestReadingsDoneSkipUndo(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	m := store.Member{TeamID: "T1", UserID: "U2"}
	steps := []struct {
		trigger string
		ch      store.Change
		changed bool
		done    int
		skipped int
	}{
		{"a", store.Change{MarkReading: "dynamo", Status: store.StatusDone}, true, 1, 0},
		{"b", store.Change{MarkReading: "dynamo", Status: store.StatusDone}, false, 1, 0},
		{"c", store.Change{MarkReading: "the-log", Status: store.StatusSkipped}, true, 1, 1},
		{"d", store.Change{MarkReading: "the-log", Status: store.StatusDone}, true, 2, 0},
		{"e", store.Change{UnmarkReading: "dynamo"}, true, 1, 0},
		{"f", store.Change{UnmarkReading: "dynamo"}, false, 1, 0},
	}
	for _, s := range steps {
		r, err := db.Apply(ctx, m, s.trigger, s.ch)
		if err != nil {
			t.Fatal(err)
		}
		if r.Changed != s.changed || len(r.Snapshot.Done()) != s.done || len(r.Snapshot.Skipped()) != s.skipped {
			t.Fatalf("step %s: changed=%v done=%d skipped=%d, want %v %d %d", s.trigger, r.Changed,
				len(r.Snapshot.Done()), len(r.Snapshot.Skipped()), s.changed, s.done, s.skipped)
		}
	}
}

func TestMilestoneEntriesRoundTrip(t *testing.T) {
	t.Parallel()
	db, ctx := setup(t)
	m := store.Member{TeamID: "T1", UserID: "U3"}
	lr := progress.LoadResult{RPS: 1500, P95: 120 * time.Millisecond, P99: 300 * time.Millisecond, Max: 900 * time.Millisecond, Link: "https://example.com/report"}
	if _, err := db.Apply(ctx, m, "1", store.Change{AddEntries: []progress.Entry{{Milestone: "loadtest", Key: "run", Load: &lr}}}); err != nil {
		t.Fatal(err)
	}
	r, err := db.Apply(ctx, m, "2", store.Change{AddEntries: []progress.Entry{
		{Milestone: "languages", Key: "go"}, {Milestone: "languages", Key: "python"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Snapshot.Entries) != 3 {
		t.Fatalf("entries = %+v", r.Snapshot.Entries)
	}
	got := r.Snapshot.Entries[0].Load
	if got == nil || *got != lr {
		t.Fatalf("load result = %+v, want %+v", got, lr)
	}
	r, err = db.Apply(ctx, m, "3", store.Change{RemoveLatest: "languages"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || len(r.Snapshot.Entries) != 2 || r.Snapshot.Entries[1].Key != "go" {
		t.Fatalf("after undo: %+v", r.Snapshot.Entries)
	}
}

func date(t *testing.T, s string) progress.Date {
	t.Helper()
	d, err := progress.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
