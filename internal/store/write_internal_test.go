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

// testScore depends on everything a snapshot holds, timestamps included, so that a score
// computed from a guessed snapshot differs from the true one at the slightest difference.
func testScore(s Snapshot) Score {
	var sc Score
	ms := map[string]bool{}
	for _, r := range s.Readings {
		if r.Status == StatusDone {
			sc.Points += 10
			sc.Readings++
		} else {
			sc.Points += 3
		}
		sc.Points += int(r.At.UnixMicro() % 7)
	}
	for _, e := range s.Entries {
		sc.Points += 5 + int(e.At.UnixMicro()%5)
		if !ms[e.Milestone] {
			ms[e.Milestone] = true
			sc.Milestones = append(sc.Milestones, e.Milestone)
		}
	}
	for _, sh := range s.Shifts {
		sc.Points += 2 + int(sh.At.UnixMicro()%3)
	}
	if len(s.Shifts) >= 2 {
		sc.Milestones = append(sc.Milestones, "oncall")
	}
	return sc
}

// TestWriteSnapshotIsTheDatabases: the snapshot a write returns (and caches) is exactly the one
// the database would give, and the score it stored the one its progress gives, whether the
// snapshot was read, computed from the cached one (Snapshot.with) or the whole write guessed in
// advance (guessBatch), over random changes of every kind, redeliveries, no-ops, changes made
// behind the cache's back and batches of several members.
func TestWriteSnapshotIsTheDatabases(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	db := New(pgtest.NewPool(t))
	db.Score = testScore
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
	stale := map[Member]bool{} // changed behind the store's back since its last write
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
			if rng.IntN(10) == 0 {
				// Changed elsewhere (psql, another replica): the cached snapshot is stale, whether
				// or not the announcement has arrived by the time the write is sent.
				if _, err := db.pool.Exec(ctx, `INSERT INTO reading_progress (team_id, user_id, item_id, status)
				        VALUES ($1, $2, $3, 'done') ON CONFLICT (team_id, user_id, item_id) DO UPDATE SET status = 'skipped', updated_at = now()`,
					m.TeamID, m.UserID, items[rng.IntN(len(items))]); err != nil {
					t.Fatal(err)
				}
				// ... and its stored score with it, as another replica's write would have.
				if _, err := db.pool.Exec(ctx, `UPDATE members SET points = -1 WHERE team_id = $1 AND user_id = $2`, m.TeamID, m.UserID); err != nil {
					t.Fatal(err)
				}
				stale[m] = true
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
			// The stored score is the one the progress gives, unless only the test's own
			// statements touched the member since (they set no score).
			if results[i].Changed {
				stale[m] = false
			}
			if sc := nonNilScore(testScore(want)); !stale[m] && !reflect.DeepEqual(want.stored, sc) {
				t.Fatalf("round %d, %s after %+v: stored score %+v, want %+v", round, m, changes[i], want.stored, sc)
			}
		}
	}
	t.Logf("%d writes guessed, %d batches guessed wrong", db.batch.guessed.Load(), db.batch.guessedWrong.Load())
	if db.batch.guessed.Load() < 200 || db.batch.guessedWrong.Load() == 0 {
		t.Errorf("%d writes guessed, %d batches guessed wrong: want many, and some wrong (redeliveries, stale caches)",
			db.batch.guessed.Load(), db.batch.guessedWrong.Load())
	}
	// Those not guessed (first contact, redeliveries, stale caches, members not cached) go the
	// usual way, most of them with the snapshot computed from the cache.
	if n := db.batch.computed.Load(); n < 50 {
		t.Errorf("%d writes the usual way computed their snapshot from the cache; want many", n)
	}
}

func nonNilScore(s Score) Score {
	s.Milestones = nonNil(s.Milestones)
	return s
}
