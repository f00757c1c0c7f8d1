package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// roundTrips counts what a pool sends to Postgres: each query outside a batch is one round trip,
// each batch (pipelined) is one, whatever it holds. Benchmarks report it per operation, since on
// a busy machine a round trip (two syscalls and a wake-up on each side) costs more than the SQL.
type roundTrips struct {
	trips, statements atomic.Int64

	mu      sync.Mutex
	capture bool
	seen    []captured
}

type captured struct {
	sql  string
	args []any
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.trips.Add(1)
	r.statements.Add(1)
	r.record(d.SQL, d.Args)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.trips.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.statements.Add(1)
	r.record(d.SQL, d.Args)
}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *roundTrips) record(sql string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.capture {
		r.seen = append(r.seen, captured{sql, args})
	}
}

// report adds round trips and statements per operation to the benchmark's output.
func (r *roundTrips) report(b *testing.B, before [2]int64) {
	n := float64(b.N)
	b.ReportMetric(float64(r.trips.Load()-before[0])/n, "roundtrips/op")
	b.ReportMetric(float64(r.statements.Load()-before[1])/n, "stmts/op")
}

func (r *roundTrips) mark() [2]int64 { return [2]int64{r.trips.Load(), r.statements.Load()} }

// benchDB is a store on a fresh, migrated database whose pool counts round trips.
func benchDB(b *testing.B) (*store.DB, *pgxpool.Pool, *roundTrips) {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return store.New(pool), pool, rt
}

// scoreReadings stands in for the domain's scorer (slackbot.Handler.Score), so Apply does the
// same database work as in production: lock the member, update the score, log the activity.
func scoreReadings(s store.Snapshot) store.Score {
	n := len(s.Done())
	return store.Score{Points: 10 * n, Readings: n}
}

// seedMember gives m a typical history: ten readings, some evidence, a few shifts.
func seedMember(b *testing.B, db *store.DB, m store.Member) {
	b.Helper()
	ctx := context.Background()
	seq := 0
	apply := func(ch store.Change) {
		seq++
		if _, err := db.Apply(ctx, m, fmt.Sprintf("seed-%s-%d", m.UserID, seq), ch); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		apply(store.Change{MarkReading: fmt.Sprintf("reading-%02d", i), Status: store.StatusDone})
	}
	apply(store.Change{AddEntries: []progress.Entry{{Milestone: "languages", Key: "go"}, {Milestone: "design", Key: "doc", Detail: "https://docs.example.com/x"}}})
	for w := 0; w < 3; w++ {
		from := progress.Date{Year: 2026, Month: time.October, Day: 1}.AddDays(7 * w)
		apply(store.Change{AddShift: &progress.Shift{From: from, To: from.AddDays(4), Part: progress.PartFull}})
	}
}

func BenchmarkSnapshot(b *testing.B) {
	db, _, rt := benchDB(b)
	ctx := context.Background()
	m := store.Member{TeamID: "T1", UserID: "U1"}
	seedMember(b, db, m)
	b.ReportAllocs()
	before := rt.mark()
	for b.Loop() {
		s, err := db.Snapshot(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Readings) != 10 {
			b.Fatalf("%d readings, want 10", len(s.Readings))
		}
	}
	rt.report(b, before)
}

func BenchmarkEnrol(b *testing.B) {
	db, _, rt := benchDB(b)
	ctx := context.Background()
	b.Run("known", func(b *testing.B) {
		m := store.Member{TeamID: "T1", UserID: "UKNOWN"}
		if err := db.Enrol(ctx, m); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		before := rt.mark()
		for b.Loop() {
			if err := db.Enrol(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
		rt.report(b, before)
	})
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		before := rt.mark()
		i := 0
		for b.Loop() {
			i++
			if err := db.Enrol(ctx, store.Member{TeamID: "T1", UserID: fmt.Sprintf("UNEW%09d", i)}); err != nil {
				b.Fatal(err)
			}
		}
		rt.report(b, before)
	})
}

// BenchmarkApply is the write behind done, undo and oncall, with and without the scorer that
// production sets (which adds the member lock, the score update and the activity row).
func BenchmarkApply(b *testing.B) {
	// cached is production's way: scored, with the cache listening, so that writes of a cached
	// member are guessed and sent in one round trip (a redelivery then takes three).
	for _, name := range []string{"unscored", "scored", "cached"} {
		b.Run(name, func(b *testing.B) {
			db, _, rt := benchDB(b)
			if name != "unscored" {
				db.Score = scoreReadings
			}
			if name == "cached" {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); db.Listen(ctx, slog.New(slog.DiscardHandler)) }()
				b.Cleanup(func() { cancel(); <-done })
				for !db.CacheLive() {
					time.Sleep(time.Millisecond)
				}
			}
			ctx := context.Background()
			m := store.Member{TeamID: "T1", UserID: "U1"}
			seedMember(b, db, m)
			seq := 0
			apply := func(b *testing.B, ch store.Change) store.Result {
				seq++
				res, err := db.Apply(ctx, m, fmt.Sprintf("bench-%d", seq), ch)
				if err != nil {
					b.Fatal(err)
				}
				return res
			}
			b.Run("done_undo", func(b *testing.B) {
				// The benchmark function runs several times on the same member; start from where
				// the last run left the reading so every change is a real one.
				s, err := db.Snapshot(ctx, m)
				if err != nil {
					b.Fatal(err)
				}
				done := s.Done()["reading-99"]
				b.ReportAllocs()
				before := rt.mark()
				i := 0
				for b.Loop() {
					ch := store.Change{MarkReading: "reading-99", Status: store.StatusDone}
					if done {
						ch = store.Change{UnmarkReading: "reading-99"}
					}
					done = !done
					i++
					if res := apply(b, ch); !res.Changed {
						b.Fatalf("change %d made no change", i)
					}
				}
				rt.report(b, before)
			})
			b.Run("oncall_undo", func(b *testing.B) {
				b.ReportAllocs()
				before := rt.mark()
				shift := progress.Shift{From: progress.Date{Year: 2026, Month: time.September, Day: 1}, To: progress.Date{Year: 2026, Month: time.September, Day: 3}, Part: progress.PartNight}
				i := 0
				for b.Loop() {
					ch := store.Change{AddShift: &shift}
					if i%2 == 1 {
						ch = store.Change{RemoveLatest: "oncall"}
					}
					i++
					apply(b, ch)
				}
				rt.report(b, before)
			})
			b.Run("redelivered", func(b *testing.B) {
				// Slack redelivers a command: the trigger is known, nothing is written.
				ch := store.Change{MarkReading: "reading-01", Status: store.StatusDone}
				if _, err := db.Apply(ctx, m, "bench-redelivered", ch); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				before := rt.mark()
				for b.Loop() {
					res, err := db.Apply(ctx, m, "bench-redelivered", ch)
					if err != nil {
						b.Fatal(err)
					}
					if !res.Duplicate {
						b.Fatal("redelivery not recognised")
					}
				}
				rt.report(b, before)
			})
		})
	}
}

// Leaderboard scale: a large company on one workspace, with a year of history.
const (
	bigMembers  = 50_000
	bigReadings = 20        // per member: 1,000,000 reading_progress rows
	bigActivity = 1_000_000 // activity rows over the last year
)

// BenchmarkApplyConcurrent is many members writing at once, as under load: group commit folds
// the writes that queue behind one another into shared transactions. writes/tx is how many a
// transaction carried; compare ns/op with BenchmarkApply/scored/done_undo (one writer).
func BenchmarkApplyConcurrent(b *testing.B) {
	db, _, rt := benchDB(b)
	db.Score = scoreReadings
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(16) // goroutines per GOMAXPROCS: a few dozen commands in flight
	b.ReportAllocs()
	before := rt.mark()
	w0, t0 := db.WriteStats()
	b.RunParallel(func(pb *testing.PB) {
		m := store.Member{TeamID: "T1", UserID: fmt.Sprintf("UC%06d", next.Add(1))}
		done := false
		for i := 0; pb.Next(); i++ {
			ch := store.Change{MarkReading: "reading-99", Status: store.StatusDone}
			if done {
				ch = store.Change{UnmarkReading: "reading-99"}
			}
			done = !done
			if _, err := db.Apply(ctx, m, fmt.Sprintf("c-%s-%d", m.UserID, i), ch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	rt.report(b, before)
	w1, t1 := db.WriteStats()
	if t1 > t0 {
		b.ReportMetric(float64(w1-w0)/float64(t1-t0), "writes/tx")
	}
}

// BenchmarkLeaderboard runs the leaderboard of a team of 50,000 members with 2,000,000 progress
// and activity rows, as /path leaderboard (with an asker) and as the weekly post (without), and
// prints the EXPLAIN ANALYZE of every statement each sends. Seeding takes a while, so it runs
// only with PATHBOT_BIG=1.
func BenchmarkLeaderboard(b *testing.B) {
	if os.Getenv("PATHBOT_BIG") != "1" {
		b.Skip("set PATHBOT_BIG=1 to seed 50,000 members and 2,000,000 rows")
	}
	db, pool, rt := benchDB(b)
	ctx := context.Background()
	start := time.Now()
	seedBig(b, ctx, pool)
	b.Logf("seeded %d members, %d reading rows and %d activity rows in %s",
		bigMembers, bigMembers*bigReadings, bigActivity, time.Since(start).Round(time.Second))

	now := time.Now().UTC()
	weekStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).
		AddDate(0, 0, -((int(now.Weekday()) + 6) % 7))
	cases := []struct {
		name string
		me   string
	}{
		// /path leaderboard by a member far down the board: the worst case for the rank.
		{"slash_command", "UBIG" + fmt.Sprintf("%07d", bigMembers/2)},
		// The weekly post: no asker.
		{"weekly_post", ""},
	}
	leaderboard := func(b *testing.B, me string) store.Board {
		board, err := db.Leaderboard(ctx, "TBIG", weekStart, time.UTC, 10, me)
		if err != nil {
			b.Fatal(err)
		}
		return board
	}
	// The plans first, printed before the sub-benchmarks' result lines.
	for _, tc := range cases {
		board := leaderboard(b, tc.me)
		if board.Total != bigMembers || len(board.Rows) != 10 || (board.Me != nil) != (tc.me != "") {
			b.Fatalf("%s: board of %d members with %d rows and me=%v; want %d, 10 and the asker %q",
				tc.name, board.Total, len(board.Rows), board.Me, bigMembers, tc.me)
		}
		fmt.Printf("==== %s\n", tc.name)
		explain(b, ctx, pool, rt, func() { leaderboard(b, tc.me) })
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			before := rt.mark()
			for b.Loop() {
				leaderboard(b, tc.me)
			}
			rt.report(b, before)
		})
	}
}

func seedBig(b *testing.B, ctx context.Context, pool *pgxpool.Pool) {
	b.Helper()
	for _, q := range []string{
		`INSERT INTO teams (team_id) VALUES ('TBIG')`,
		fmt.Sprintf(`INSERT INTO members (team_id, user_id, display_name, points, readings_done, milestones_done, enrolled_at)
		    SELECT 'TBIG', 'UBIG' || lpad(g::text, 7, '0'), 'Member ' || g, (g * 7919) %% 5000, g %% 21,
		           CASE WHEN g %% 10 = 0 THEN ARRAY['design', 'languages'] ELSE '{}' END,
		           now() - (g %% 365) * interval '1 day'
		      FROM generate_series(1, %d) g`, bigMembers),
		fmt.Sprintf(`INSERT INTO reading_progress (team_id, user_id, item_id, status, updated_at)
		    SELECT 'TBIG', 'UBIG' || lpad(m::text, 7, '0'), 'reading-' || lpad(r::text, 2, '0'), 'done',
		           now() - ((m * r) %% 365) * interval '1 day'
		      FROM generate_series(1, %d) m, generate_series(1, %d) r`, bigMembers, bigReadings),
		// A year of activity, newest densest in no particular way: every member has about 20
		// changes, one in fifty completed a milestone.
		fmt.Sprintf(`INSERT INTO activity (team_id, user_id, at, points, milestone)
		    SELECT 'TBIG', 'UBIG' || lpad((g %% %d + 1)::text, 7, '0'),
		           now() - ((g::bigint * 7919) %% (365 * 24 * 60)) * interval '1 minute',
		           1 + g %% 10, CASE WHEN g %% 50 = 0 THEN 'languages' END
		      FROM generate_series(1, %d) g`, bigMembers, bigActivity),
		// What autovacuum would have done by now: statistics, and the visibility map that lets
		// counts use index-only scans.
		`VACUUM ANALYZE members, reading_progress, activity`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// explain runs f once while capturing its statements, then prints EXPLAIN (ANALYZE, BUFFERS) of
// each with the same arguments: the plans of exactly what the store sends. They go to stdout
// because the testing package cuts a benchmark's log to ten lines.
func explain(b *testing.B, ctx context.Context, pool *pgxpool.Pool, rt *roundTrips, f func()) {
	b.Helper()
	rt.mu.Lock()
	rt.capture, rt.seen = true, nil
	rt.mu.Unlock()
	f()
	rt.mu.Lock()
	rt.capture = false
	seen := rt.seen
	rt.mu.Unlock()
	for _, c := range seen {
		rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+c.sql, c.args...)
		if err != nil {
			b.Fatalf("explain: %v\n%s", err, c.sql)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatalf("explain: %v\n%s", err, c.sql)
		}
		fmt.Printf("-- %s\n%s\n\n", strings.Join(strings.Fields(c.sql), " "), strings.Join(plan, "\n"))
	}
}
