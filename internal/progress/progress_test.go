package progress

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// at is t0 plus n hours, so tests can order entries by when they were logged.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

func load(rps float64, p95, p99, maxLat time.Duration) *LoadResult {
	return &LoadResult{RPS: rps, P95: p95, P99: p99, Max: maxLat}
}

func TestEvaluateOrderAndEmpty(t *testing.T) {
	t.Parallel()
	got := Evaluate(nil, nil, DefaultThresholds)
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
		if s.Done || !s.DoneAt.IsZero() || s.Have != 0 || s.Missing == "" || s.Summary == "" {
			t.Errorf("%s with nothing logged = %+v; want not done, Have 0, a summary and what is missing", s.ID, s)
		}
	}
	if want := MilestoneIDs(); !slices.Equal(ids, want) {
		t.Errorf("Evaluate ids = %v, want %v", ids, want)
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	sh := func(from, to string, p Part, n int) Shift {
		return Shift{From: day(t, from), To: day(t, to), Part: p, At: at(n)}
	}
	tests := []struct {
		name        string
		entries     []Entry
		shifts      []Shift
		th          Thresholds
		id          string
		wantDone    bool
		wantHave    float64
		wantNeed    float64
		wantSummary string
		wantMissing string    // checked only when not empty
		wantDoneAt  time.Time // checked only when done
	}{
		{
			name: "design all three steps in any order", id: Design,
			entries: []Entry{
				{Milestone: Design, Key: KeyFeedback, At: at(3)},
				{Milestone: Design, Key: KeyDoc, Detail: "https://docs/x", At: at(1)},
				{Milestone: Design, Key: KeyReview, Detail: "alice", At: at(2)},
			},
			wantDone: true, wantHave: 3, wantNeed: 3, wantSummary: "design: doc ✓ review ✓ feedback ✓", wantDoneAt: at(3),
		},
		{
			name: "design two of three", id: Design,
			entries: []Entry{
				{Milestone: Design, Key: KeyDoc, Detail: "https://docs/x", At: at(1)},
				{Milestone: Design, Key: KeyReview, Detail: "alice", At: at(2)},
				{Milestone: Design, Key: KeyReview, Detail: "bob", At: at(3)},
			},
			wantHave: 2, wantNeed: 3, wantSummary: "design: doc ✓ review ✓ feedback ✗", wantMissing: "Incorporate the feedback.",
		},
		{
			name: "design review without a reviewer does not count", id: Design,
			entries: []Entry{
				{Milestone: Design, Key: KeyDoc, Detail: "https://docs/x", At: at(1)},
				{Milestone: Design, Key: KeyReview, Detail: "  ", At: at(2)},
				{Milestone: Design, Key: KeyFeedback, At: at(3)},
				{Milestone: Design, Key: "brainstorm", Detail: "x", At: at(4)},
			},
			wantHave: 2, wantNeed: 3, wantSummary: "design: doc ✓ review ✗ feedback ✓", wantMissing: "Review it with at least one teammate.",
		},
		{
			name: "design nothing", id: Design, wantNeed: 3, wantSummary: "design: doc ✗ review ✗ feedback ✗",
			wantMissing: "Write up the design in a doc, review it with at least one teammate and incorporate the feedback.",
		},
		{
			name: "languages one", id: Languages,
			entries:  []Entry{{Milestone: Languages, Key: "go", At: at(1)}, {Milestone: Languages, Key: "golang", At: at(2)}},
			wantHave: 1, wantNeed: 2, wantSummary: "languages: Go (1/2)", wantMissing: "Build a service in a second programming language besides Go.",
		},
		{
			name: "languages two distinct after normalizing", id: Languages,
			entries: []Entry{
				{Milestone: Languages, Key: "go", At: at(1)},
				{Milestone: Languages, Key: "Golang", At: at(2)},
				{Milestone: Languages, Key: "c++", At: at(3)},
				{Milestone: Languages, Key: "python", At: at(4)},
			},
			wantDone: true, wantHave: 3, wantNeed: 2, wantSummary: "languages: Go, C++, Python ✓", wantDoneAt: at(3),
		},
		{
			name: "languages ignores non-languages", id: Languages,
			entries:  []Entry{{Milestone: Languages, Key: "go", At: at(1)}, {Milestone: Languages, Key: "json", At: at(2)}},
			wantHave: 1, wantNeed: 2, wantSummary: "languages: Go (1/2)",
		},
		{
			name: "messaging needs system and broker", id: Messaging,
			entries: []Entry{
				{Milestone: Messaging, Key: "kafka", At: at(1)},
				{Milestone: Messaging, Key: "", Detail: "orders", At: at(2)},
				{Milestone: Messaging, Key: "Kafka", Detail: "orders", At: at(3)},
				{Milestone: Messaging, Key: "SQS", Detail: "billing", At: at(4)},
			},
			wantDone: true, wantHave: 1, wantNeed: 1, wantSummary: "messaging: orders via Kafka ✓", wantDoneAt: at(3),
		},
		{
			name: "messaging broker alone is not enough", id: Messaging,
			entries:  []Entry{{Milestone: Messaging, Key: "kafka", At: at(1)}},
			wantNeed: 1, wantSummary: "messaging: nothing logged yet",
		},
		{
			name: "wire format accepted", id: WireFormat,
			entries: []Entry{
				{Milestone: WireFormat, Key: "json", Detail: "api", At: at(1)},
				{Milestone: WireFormat, Key: "grpc", Detail: "payments", At: at(2)},
			},
			wantDone: true, wantHave: 1, wantNeed: 1, wantSummary: "wire format: Protocol Buffers for payments ✓", wantDoneAt: at(2),
		},
		{
			name: "wire format JSON and XML only", id: WireFormat,
			entries: []Entry{
				{Milestone: WireFormat, Key: "json", At: at(1)},
				{Milestone: WireFormat, Key: "soap", At: at(2)},
			},
			wantNeed: 1, wantSummary: "wire format: nothing logged yet",
		},
		{
			name: "deploy paas only", id: Deploy,
			entries:  []Entry{{Milestone: Deploy, Key: KeyPaaS, Detail: "heroku", At: at(1)}, {Milestone: Deploy, Key: KeyPaaS, Detail: "fly.io", At: at(2)}},
			wantHave: 1, wantNeed: 2, wantSummary: "deploy: PaaS ✓ IaaS ✗",
			wantMissing: "Deploy an application yourself to infrastructure as a service (e.g. a VM on AWS EC2).",
		},
		{
			name: "deploy both", id: Deploy,
			entries: []Entry{
				{Milestone: Deploy, Key: KeyIaaS, Detail: "aws ec2", At: at(1)},
				{Milestone: Deploy, Key: "saas", Detail: "x", At: at(2)},
				{Milestone: Deploy, Key: KeyPaaS, Detail: "heroku", At: at(3)},
			},
			wantDone: true, wantHave: 2, wantNeed: 2, wantSummary: "deploy: PaaS ✓ IaaS ✓", wantDoneAt: at(3),
		},
		{
			name: "loadtest exactly 1000 req/s is not done", id: LoadTest,
			entries:  []Entry{{Milestone: LoadTest, Load: load(1000, 100*ms, 200*ms, 300*ms), At: at(1)}},
			wantNeed: 1, wantSummary: "load test: best 1,000 req/s but needs > 1,000 req/s",
			wantMissing: "Load-test a service you built and show it handles more than 1,000 req/s with p95 ≤ 200ms, p99 ≤ 500ms and max ≤ 2s.",
		},
		{
			name: "loadtest 1001 req/s is done", id: LoadTest,
			entries:  []Entry{{Milestone: LoadTest, Load: load(1001, 100*ms, 200*ms, 300*ms), At: at(1)}},
			wantDone: true, wantHave: 1, wantNeed: 1, wantSummary: "load test: 1,001 req/s, p95 100ms, p99 200ms, max 300ms ✓", wantDoneAt: at(1),
		},
		{
			name: "loadtest best failing run is the fastest", id: LoadTest,
			entries: []Entry{
				{Milestone: LoadTest, Load: load(800, 100*ms, 200*ms, 300*ms), At: at(1)},
				{Milestone: LoadTest, Load: load(1200, 100*ms, 700*ms, 900*ms), At: at(2)},
				{Milestone: LoadTest, Load: nil, At: at(3)},
			},
			wantNeed: 1, wantSummary: "load test: best 1,200 req/s but p99 700ms > 500ms",
		},
		{
			name: "loadtest a passing run wins over a faster failing one", id: LoadTest,
			entries: []Entry{
				{Milestone: LoadTest, Load: load(9000, 100*ms, 900*ms, 900*ms), At: at(1)},
				{Milestone: LoadTest, Load: load(1500, 100*ms, 200*ms, 300*ms), At: at(2)},
				{Milestone: LoadTest, Load: load(2500, 100*ms, 200*ms, 300*ms), At: at(3)},
			},
			wantDone: true, wantHave: 1, wantNeed: 1, wantSummary: "load test: 2,500 req/s, p95 100ms, p99 200ms, max 300ms ✓", wantDoneAt: at(2),
		},
		{
			name: "loadtest ignores runs that are not measurements", id: LoadTest,
			entries: []Entry{
				{Milestone: LoadTest, Load: load(5e9, 100*ms, 200*ms, 300*ms), At: at(1)},
				{Milestone: LoadTest, Load: load(5000, 0, 0, 0), At: at(2)},
				{Milestone: LoadTest, Load: load(900, 100*ms, 200*ms, 300*ms), At: at(3)},
			},
			wantNeed: 1, wantSummary: "load test: best 900 req/s but needs > 1,000 req/s",
		},
		{
			name: "loadtest custom thresholds", id: LoadTest, th: Thresholds{P95: 50 * ms, P99: 100 * ms, Max: 200 * ms},
			entries:  []Entry{{Milestone: LoadTest, Load: load(5000, 100*ms, 200*ms, 300*ms), At: at(1)}},
			wantNeed: 1, wantSummary: "load test: best 5,000 req/s but p95 100ms > 50ms, p99 200ms > 100ms, max 300ms > 200ms",
			wantMissing: "Load-test a service you built and show it handles more than 1,000 req/s with p95 ≤ 50ms, p99 ≤ 100ms and max ≤ 200ms.",
		},
		{
			name: "oncall 20.5 is not done", id: OnCall,
			shifts:   []Shift{sh("2026-01-01", "2026-01-20", PartFull, 1), sh("2026-01-21", "2026-01-21", PartDay, 2)},
			wantHave: 20.5, wantNeed: 21, wantSummary: "on-call 20.5/21 days",
			wantMissing: "Be on call for 0.5 more days (a day shift and a night shift make one).",
		},
		{
			name: "oncall 21 is done when the completing shift was logged", id: OnCall,
			shifts: []Shift{
				sh("2026-01-21", "2026-01-21", PartNight, 5),
				sh("2026-01-01", "2026-01-20", PartFull, 1),
				sh("2026-01-01", "2026-01-03", PartFull, 2),
				sh("2026-01-21", "2026-01-21", PartDay, 3),
				sh("2026-02-01", "2026-02-05", PartFull, 9),
			},
			wantDone: true, wantHave: 26, wantNeed: 21, wantSummary: "on-call 26/21 days", wantDoneAt: at(5),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th := tt.th
			if th == (Thresholds{}) {
				th = DefaultThresholds
			}
			all := Evaluate(tt.entries, tt.shifts, th)
			i := slices.IndexFunc(all, func(s MilestoneStatus) bool { return s.ID == tt.id })
			if i < 0 {
				t.Fatalf("no status for %s", tt.id)
			}
			got := all[i]
			if got.Done != tt.wantDone || got.Have != tt.wantHave || got.Need != tt.wantNeed || got.Summary != tt.wantSummary {
				t.Errorf("got Done=%v Have=%v Need=%v Summary=%q\nwant Done=%v Have=%v Need=%v Summary=%q",
					got.Done, got.Have, got.Need, got.Summary, tt.wantDone, tt.wantHave, tt.wantNeed, tt.wantSummary)
			}
			if tt.wantDone {
				if !got.DoneAt.Equal(tt.wantDoneAt) || got.Missing != "" {
					t.Errorf("DoneAt=%v Missing=%q, want DoneAt=%v and nothing missing", got.DoneAt, got.Missing, tt.wantDoneAt)
				}
			} else {
				if !got.DoneAt.IsZero() || got.Missing == "" {
					t.Errorf("DoneAt=%v Missing=%q, want zero DoneAt and something missing", got.DoneAt, got.Missing)
				}
				if tt.wantMissing != "" && got.Missing != tt.wantMissing {
					t.Errorf("Missing = %q, want %q", got.Missing, tt.wantMissing)
				}
			}
		})
	}
}

func TestEvaluateDoesNotReorderInput(t *testing.T) {
	t.Parallel()
	entries := []Entry{{Milestone: Languages, Key: "go", At: at(2)}, {Milestone: Languages, Key: "rust", At: at(1)}}
	shifts := []Shift{{From: day(t, "2026-01-01"), To: day(t, "2026-01-21"), At: at(2)}, {From: day(t, "2026-01-01"), To: day(t, "2026-01-01"), At: at(1)}}
	wantEntries, wantShifts := slices.Clone(entries), slices.Clone(shifts)
	Evaluate(entries, shifts, DefaultThresholds)
	if !slices.Equal(entries, wantEntries) || !slices.Equal(shifts, wantShifts) {
		t.Errorf("Evaluate reordered its input: %v %v", entries, shifts)
	}
}

func TestMilestoneIDs(t *testing.T) {
	t.Parallel()
	ids := MilestoneIDs()
	ids[0] = "changed"
	tests := []struct {
		id   string
		want bool
	}{{Design, true}, {WireFormat, true}, {OnCall, true}, {"changed", false}, {"wire", false}}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			if got := IsMilestone(tt.id); got != tt.want {
				t.Errorf("IsMilestone(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}
