package progress

import (
	"slices"
	"testing"
	"time"
)

// benchInputs is a member well along the path, as /path status evaluates them on every call:
// ten pieces of evidence and twenty on-call shifts, some backfilled (older dates logged later),
// some overlapping, some day- or night-only. Like the store returns them, both are in logging
// order.
func benchInputs() ([]Entry, []Shift) {
	at := func(h int) time.Time {
		return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
	}
	entries := []Entry{
		{Milestone: Languages, Key: "Golang", At: at(5)},
		{Milestone: Design, Key: KeyDoc, Detail: "https://docs.example.com/payments-v2", At: at(10)},
		{Milestone: Design, Key: KeyReview, Detail: "@alice @bob", At: at(30)},
		{Milestone: Languages, Key: "python3", At: at(50)},
		{Milestone: Languages, Key: "go", At: at(60)},
		{Milestone: Messaging, Key: "kafka", Detail: "order-service", At: at(70)},
		{Milestone: WireFormat, Key: "JSON", Detail: "billing", At: at(80)},
		{Milestone: Deploy, Key: KeyPaaS, Detail: "heroku", At: at(90)},
		{Milestone: LoadTest, Key: "run", Load: &LoadResult{RPS: 800, P95: 150 * time.Millisecond, P99: 400 * time.Millisecond, Max: time.Second}, At: at(100)},
		{Milestone: LoadTest, Key: "run", Load: &LoadResult{RPS: 5000, P95: 120 * time.Millisecond, P99: 300 * time.Millisecond, Max: 1200 * time.Millisecond}, At: at(110)},
	}
	parts := []Part{PartFull, PartDay, PartNight, PartFull}
	from := Date{Year: 2026, Month: time.March, Day: 2}
	var shifts []Shift
	for i := 0; i < 20; i++ {
		start := from.AddDays(3 * ((i * 7) % 20)) // short rotations, logged out of date order, some overlapping
		shifts = append(shifts, Shift{From: start, To: start.AddDays(i%3 + 1), Part: parts[i%len(parts)], At: at(200 + 24*i)})
	}
	return entries, shifts
}

func BenchmarkEvaluate(b *testing.B) {
	entries, shifts := benchInputs()
	b.Run("logged_order", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Evaluate(entries, shifts, DefaultThresholds)
		}
	})
	// Evaluate must not rely on the store's order: the same member with everything reversed.
	entries, shifts = slices.Clone(entries), slices.Clone(shifts)
	slices.Reverse(entries)
	slices.Reverse(shifts)
	b.Run("reversed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Evaluate(entries, shifts, DefaultThresholds)
		}
	})
}
