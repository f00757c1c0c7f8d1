package store

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
)

// TestWriteSnapshotIsTheDatabases: the snapshot a write returns (and caches) is exactly the one
// the database would give, whether it was read or computed from the cached one (Snapshot.with),
// over random changes of every kind, redeliveries, no-ops and batches of several members.
func TestWriteSnapshotIsTheDatabases(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	db := New(pgtest.NewPool(t))
	done := make(chan struct{})
	go func() { defer close(done); db.Listen(ctx, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); !db.CacheLive(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("cache never went live")
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	items := []string{"dynamo", "bigtable", "raft", "spanner", "mapreduce"}
	milestones := []string{"design", "languages", "load"}
	date := func() progress.Date {
		return progress.Date{Year: 2026, Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}
	}
	change := func() Change {
		switch rng.IntN(7) {
		case 0, 1:
			st := StatusDone
			if rng.IntN(3) == 0 {
				st = StatusSkipped
			}
			return Change{MarkReading: items[rng.IntN(len(items))], Status: st}
		case 2:
			return Change{UnmarkReading: items[rng.IntN(len(items))]}
		case 3:
			e := progress.Entry{Milestone: milestones[rng.IntN(len(milestones))], Key: fmt.Sprint("k", rng.IntN(5)), Detail: "d"}
			if rng.IntN(2) == 0 {
				e.Load = &progress.LoadResult{RPS: 1000 + float64(rng.IntN(5000)), P95: time.Duration(rng.IntN(1e9)),
					P99: time.Duration(rng.IntN(1e9)), Max: time.Duration(rng.IntN(1e9)), Link: "https://example.com/run"}
			}
			ch := Change{AddEntries: []progress.Entry{e}}
			if rng.IntN(4) == 0 {
				ch.AddEntries = append(ch.AddEntries, progress.Entry{Milestone: "languages", Key: "go"})
			}
			return ch
		case 4:
			return Change{RemoveLatest: milestones[rng.IntN(len(milestones))]}
		case 5:
			from := date()
			parts := []progress.Part{progress.PartFull, progress.PartDay, progress.PartNight}
			return Change{AddShift: &progress.Shift{From: from, To: from.AddDays(rng.IntN(5)), Part: parts[rng.IntN(3)]}}
		default:
			return Change{RemoveLatest: "oncall"}
		}
	}

	members := []Member{{"T1", "U0"}, {"T1", "U1"}, {"T1", "U2"}, {"T2", "U0"}}
	lastTrigger := map[Member]string{}
	for round := range 150 {
		var wg sync.WaitGroup
		results := make([]Result, len(members))
		errs := make([]error, len(members))
		triggers := make([]string, len(members))
		changes := make([]Change, len(members))
		for i, m := range members {
			triggers[i] = fmt.Sprintf("t-%d-%d", round, i)
			if prev, ok := lastTrigger[m]; ok && rng.IntN(8) == 0 {
				triggers[i] = prev // a redelivery: nothing may change
			}
			changes[i] = change()
			if rng.IntN(5) > 0 { // mostly with the snapshot cached, as a member's reads leave it
				if _, err := db.Snapshot(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, m := range members {
			wg.Go(func() { results[i], errs[i] = db.Apply(ctx, m, triggers[i], changes[i]) })
		}
		wg.Wait()
		for i, m := range members {
			if errs[i] != nil {
				t.Fatalf("round %d, %s: %+v: %v", round, m, changes[i], errs[i])
			}
			lastTrigger[m] = triggers[i]
			want, err := snapshot(ctx, db.pool, m)
			if err != nil {
				t.Fatal(err)
			}
			if got := results[i].Snapshot; !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, %s after %+v (result %+v):\n got %+v\nwant %+v", round, m, changes[i], results[i], got, want)
			}
		}
	}
	t.Logf("%d of 600 snapshots computed", db.batch.computed.Load())
	if n := db.batch.computed.Load(); n < 300 {
		t.Errorf("%d of 600 writes computed their snapshot from the cache; want most of them", n)
	}
}
