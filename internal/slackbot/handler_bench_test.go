package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/slacksocket"
	"github.com/pathbot/pathbot/internal/store"
)

// benchSnapshot is a member halfway along the path: half the readings done, a few milestones'
// evidence and a month of on-call, which is what a typical /path status renders.
func benchSnapshot(b *testing.B, cur *curriculum.Curriculum) store.Snapshot {
	b.Helper()
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	var s store.Snapshot
	s.Enrolled = true
	for i, it := range cur.Readings {
		if i%2 == 0 {
			s.Readings = append(s.Readings, store.Reading{ItemID: it.ID, Status: store.StatusDone, At: at})
		}
	}
	s.Entries = []progress.Entry{
		{Milestone: "design", Key: "doc", Detail: "https://docs.example.com/payments-v2", At: at},
		{Milestone: "design", Key: "review", Detail: "@alice @bob", At: at},
		{Milestone: "languages", Key: "go", At: at},
		{Milestone: "languages", Key: "python", At: at},
		{Milestone: "messaging", Key: "kafka", Detail: "order-service", At: at},
		{Milestone: "loadtest", Key: "run", Load: &progress.LoadResult{RPS: 5000, P95: 120 * time.Millisecond, P99: 300 * time.Millisecond, Max: 1200 * time.Millisecond}, At: at},
	}
	from := progress.Date{Year: 2026, Month: time.October, Day: 1}
	for w := 0; w < 4; w++ {
		s.Shifts = append(s.Shifts, progress.Shift{From: from.AddDays(7 * w), To: from.AddDays(7*w + 4), Part: progress.PartFull, At: at})
	}
	return s
}

func benchCurriculum(b *testing.B) *curriculum.Curriculum {
	b.Helper()
	cur, err := curriculum.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	return cur
}

// BenchmarkViews renders the answers of the read commands and marshals them into the Socket Mode
// ack frame the bot writes, which is the CPU work of a read besides the database.
func BenchmarkViews(b *testing.B) {
	cur := benchCurriculum(b)
	h := &Handler{Curriculum: cur, Thresholds: progress.DefaultThresholds}
	s := benchSnapshot(b, cur)
	// The answer encoded as the bot acks it; the frame around it adds the envelope id.
	const envelopeID = "9c2b5b8e-0b7e-4a57-9f39-3c1c3f6b2d11"
	sm := ackFunc(func(id string, p json.RawMessage) error {
		if n := len(`{"envelope_id":"","payload":}`) + len(id) + len(p); n >= slacksocket.MaxAck {
			return fmt.Errorf("ack frame of %d bytes: Slack drops frames of 20 KB or more", n)
		}
		return nil
	})
	ack := func(b *testing.B, r Reply) {
		if err := ackWith(sm, envelopeID, r); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("status", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ms := progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s))
			ack(b, statusView(cur, s, ms, "", h.nextItem(s)))
		}
	})
	b.Run("status_render_only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ms := progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s))
			_ = statusView(cur, s, ms, "", h.nextItem(s))
		}
	})
	b.Run("next", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ack(b, nextView(h.nextItem(s), len(s.Done()), len(cur.Readings)))
		}
	})
	b.Run("list", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ack(b, listView(cur, s, progress.Evaluate(s.Entries, s.Shifts, h.thresholds(s)), ""))
		}
	})
	b.Run("score", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Score(s)
		}
	})
}

// tripCounter counts database round trips: a query outside a batch is one, a pipelined batch is
// one whatever it holds.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *tripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// BenchmarkSlash is one /path command end to end below the socket: parse, the store calls against
// a real Postgres (durability off, as in every test database), and the reply. It shows the
// database round trips each command costs; the load test shows them under concurrency.
func BenchmarkSlash(b *testing.B) {
	cur := benchCurriculum(b)
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	trips := &tripCounter{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	db := store.New(pool)
	h := &Handler{
		Curriculum: cur, Store: db, Users: users{}, Thresholds: progress.DefaultThresholds,
		Now: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
	}
	db.Score = h.Score
	ctx := context.Background()
	seq := 0
	run := func(b *testing.B, user, text string) {
		seq++
		sc := slack.SlashCommand{TeamID: "T1", UserID: user, Command: "/path", Text: text, TriggerID: fmt.Sprintf("bench-%d", seq)}
		r, verb, err := h.Slash(ctx, sc)
		if err != nil {
			b.Fatalf("/path %s: %v", text, err)
		}
		if err := ackWith(ackFunc(func(string, json.RawMessage) error { return nil }), "E1", r); err != nil {
			b.Fatal(err)
		}
		_ = verb
	}
	// A member with some history, enrolled in this process so Enrol is the cached no-op it is
	// for a returning user.
	run(b, "UBENCH", "done "+cur.Readings[0].ID)
	run(b, "UBENCH", "oncall 2026-10-01..2026-10-05")
	// The benchmark function runs several times on the same member: a toggle starts from where
	// the last run left it, so every done and undo really changes something.
	isDone := func(b *testing.B, id string) int {
		s, err := db.Snapshot(ctx, store.Member{TeamID: "T1", UserID: "UBENCH"})
		if err != nil {
			b.Fatal(err)
		}
		if s.Done()[id] {
			return 1
		}
		return 0
	}
	cases := []struct {
		name  string
		texts []string // cycled, so toggles stay balanced
		start func(b *testing.B) int
	}{
		{"status", []string{"status"}, nil},
		{"next", []string{"next"}, nil},
		{"list", []string{"list"}, nil},
		{"done_undo", []string{"done " + cur.Readings[1].ID, "undo " + cur.Readings[1].ID},
			func(b *testing.B) int { return isDone(b, cur.Readings[1].ID) }},
		{"oncall_undo", []string{"oncall 2026-09-01..2026-09-03 night", "undo oncall"}, nil},
		{"bad_input", []string{"frobnicate"}, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			if c.start != nil {
				i = c.start(b)
			}
			b.ReportAllocs()
			before := trips.n.Load()
			for b.Loop() {
				run(b, "UBENCH", c.texts[i%len(c.texts)])
				i++
			}
			b.ReportMetric(float64(trips.n.Load()-before)/float64(b.N), "roundtrips/op")
		})
	}
	b.Run("status_first_use", func(b *testing.B) {
		// A member this process has never seen: Enrol writes before the snapshot.
		b.ReportAllocs()
		before := trips.n.Load()
		i := 0
		for b.Loop() {
			i++
			run(b, fmt.Sprintf("UNEW%08d", i), "status")
		}
		b.ReportMetric(float64(trips.n.Load()-before)/float64(b.N), "roundtrips/op")
	})
}
