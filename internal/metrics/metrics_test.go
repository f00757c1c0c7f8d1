package metrics

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pathbot/pathbot/internal/version"
)

func newRegistered(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(reg), reg
}

// recordOneOfEach touches every series so that vectors have at least one child to gather.
func recordOneOfEach(m *Metrics) {
	m.CommandHandled("progress", OutcomeOK)
	m.RequestShed(EnvelopeSlashCommands, "busy")
	m.ObserveAck(EnvelopeSlashCommands, 2*time.Millisecond)
	m.ObserveResponse("progress", 120*time.Millisecond)
	m.SlackAPICall("chat.postMessage", SlackStatusOK)
	m.SlackAPICall("chat.postMessage", SlackStatusRateLimited)
	m.SlackRateLimited("chat.postMessage", 30*time.Second)
	m.JobFinished("nudge", JobCompleted, time.Second)
	m.SetJobsQueued(map[string]int{"nudge": 3})
	m.NudgeSent()
	m.SetNudgesOverdue(2)
	m.LeaderboardPosted()
	m.SocketConnected()
	m.SetReady(CheckDB, true)
}

// TestSeriesContract pins every name and type that alerts, dashboards and docs/slo.md rely on.
func TestSeriesContract(t *testing.T) {
	t.Parallel()
	m, reg := newRegistered(t)
	recordOneOfEach(m)

	want := map[string]string{
		"pathbot_commands_total":                          "COUNTER",
		"pathbot_requests_shed_total":                     "COUNTER",
		"pathbot_ack_latency_seconds":                     "HISTOGRAM",
		"pathbot_response_latency_seconds":                "HISTOGRAM",
		"pathbot_slack_api_calls_total":                   "COUNTER",
		"pathbot_slack_rate_limited_total":                "COUNTER",
		"pathbot_slack_rate_limit_wait_seconds_total":     "COUNTER",
		"pathbot_jobs_total":                              "COUNTER",
		"pathbot_jobs_queued":                             "GAUGE",
		"pathbot_job_duration_seconds":                    "HISTOGRAM",
		"pathbot_nudges_sent_total":                       "COUNTER",
		"pathbot_nudges_overdue":                          "GAUGE",
		"pathbot_leaderboard_posts_total":                 "COUNTER",
		"pathbot_socket_connected":                        "GAUGE",
		"pathbot_socket_reconnects_total":                 "COUNTER",
		"pathbot_socket_last_connected_timestamp_seconds": "GAUGE",
		"pathbot_ready":                                   "GAUGE",
		"pathbot_build_info":                              "GAUGE",
		"go_goroutines":                                   "GAUGE",
	}
	if runtime.GOOS == "linux" {
		want["process_resident_memory_bytes"] = "GAUGE"
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string, len(families))
	for _, f := range families {
		got[f.GetName()] = f.GetType().String()
	}
	for name, typ := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("series %s is not exported", name)
		case g != typ:
			t.Errorf("series %s has type %v, want %v", name, g, typ)
		}
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	m, reg := newRegistered(t)
	recordOneOfEach(m)

	want := map[string][]string{
		"pathbot_commands_total":           {"command", "outcome"},
		"pathbot_requests_shed_total":      {"type", "reason"},
		"pathbot_ack_latency_seconds":      {"type"},
		"pathbot_response_latency_seconds": {"command"},
		"pathbot_slack_api_calls_total":    {"method", "status"},
		"pathbot_slack_rate_limited_total": {"method"},
		"pathbot_jobs_total":               {"kind", "state"},
		"pathbot_jobs_queued":              {"kind"},
		"pathbot_job_duration_seconds":     {"kind"},
		"pathbot_ready":                    {"check"},
		"pathbot_build_info":               {"commit", "goversion", "version"},
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		labels, ok := want[f.GetName()]
		if !ok {
			continue
		}
		var names []string
		for _, lp := range f.GetMetric()[0].GetLabel() {
			names = append(names, lp.GetName())
		}
		slices.Sort(names)
		slices.Sort(labels)
		if !slices.Equal(names, labels) {
			t.Errorf("%s has labels %v, want %v", f.GetName(), names, labels)
		}
	}
}

// TestLint runs Prometheus's own naming rules (units, _total suffixes, help text) on our series.
func TestLint(t *testing.T) {
	t.Parallel()
	m, reg := newRegistered(t)
	recordOneOfEach(m)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "pathbot_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestSLOThresholdsAreBucketBounds(t *testing.T) {
	t.Parallel()
	for _, bound := range []float64{0.5, 3} {
		if !slices.Contains(LatencyBuckets, bound) {
			t.Errorf("LatencyBuckets lack %v, an SLO threshold in docs/slo.md", bound)
		}
	}
	if LatencyBuckets[0] != 0.0005 || LatencyBuckets[len(LatencyBuckets)-1] != 3 {
		t.Errorf("LatencyBuckets = %v, want 0.0005 … 3", LatencyBuckets)
	}
	if !slices.IsSorted(LatencyBuckets) || !slices.IsSorted(JobDurationBuckets) {
		t.Error("buckets must be sorted")
	}
}

func TestCommandsAndLatency(t *testing.T) {
	t.Parallel()
	m, reg := newRegistered(t)
	m.CommandHandled("progress", OutcomeOK)
	m.CommandHandled("progress", OutcomeOK)
	m.CommandHandled("progress", OutcomeError)
	m.CommandHandled("done", OutcomeUserError)
	m.ObserveResponse("progress", 400*time.Millisecond)

	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP pathbot_commands_total Commands handled, by command and outcome (ok, user_error, error, duplicate).
# TYPE pathbot_commands_total counter
pathbot_commands_total{command="done",outcome="user_error"} 1
pathbot_commands_total{command="progress",outcome="error"} 1
pathbot_commands_total{command="progress",outcome="ok"} 2
# HELP pathbot_response_latency_seconds Time from receiving a command to the user seeing its answer, by command.
# TYPE pathbot_response_latency_seconds histogram
pathbot_response_latency_seconds_bucket{command="progress",le="0.0005"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.001"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.0025"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.005"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.01"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.025"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.05"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.1"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.25"} 0
pathbot_response_latency_seconds_bucket{command="progress",le="0.5"} 1
pathbot_response_latency_seconds_bucket{command="progress",le="1"} 1
pathbot_response_latency_seconds_bucket{command="progress",le="2"} 1
pathbot_response_latency_seconds_bucket{command="progress",le="3"} 1
pathbot_response_latency_seconds_bucket{command="progress",le="+Inf"} 1
pathbot_response_latency_seconds_sum{command="progress"} 0.4
pathbot_response_latency_seconds_count{command="progress"} 1
`), "pathbot_commands_total", "pathbot_response_latency_seconds")
	if err != nil {
		t.Error(err)
	}
}

func TestRequestsShed(t *testing.T) {
	t.Parallel()
	m, reg := newRegistered(t)
	m.RequestShed(EnvelopeSlashCommands, "busy")
	m.RequestShed(EnvelopeSlashCommands, "busy")
	m.RequestShed(EnvelopeInteractive, "late")

	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP pathbot_requests_shed_total Requests refused without doing any work (nothing written) because the bot was overloaded, by envelope type and reason (busy, late).
# TYPE pathbot_requests_shed_total counter
pathbot_requests_shed_total{reason="busy",type="slash_commands"} 2
pathbot_requests_shed_total{reason="late",type="interactive"} 1
`), "pathbot_requests_shed_total")
	if err != nil {
		t.Error(err)
	}
}

func TestAckLatencyByType(t *testing.T) {
	t.Parallel()
	m, reg := newRegistered(t)
	m.ObserveAck(EnvelopeInteractive, 700*time.Microsecond)
	m.ObserveAck(EnvelopeEventsAPI, 4*time.Second)
	if n := testutil.CollectAndCount(m.ackLatency); n != 2 {
		t.Errorf("ack latency has %d series, want 2", n)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "pathbot_ack_latency_seconds" {
			continue
		}
		for _, mt := range f.GetMetric() {
			h := mt.GetHistogram()
			typ := mt.GetLabel()[0].GetValue()
			// The first bucket holding the observation must be the one its value falls in.
			var first float64
			for _, b := range h.GetBucket() {
				if b.GetCumulativeCount() == 1 {
					first = b.GetUpperBound()
					break
				}
			}
			switch typ {
			case EnvelopeInteractive:
				if first != 0.001 {
					t.Errorf("0.7 ms landed first in le=%v, want 0.001", first)
				}
			case EnvelopeEventsAPI:
				if first != 0 { // above 3 s: only +Inf, which client_golang does not list
					t.Errorf("4 s landed in le=%v, want only +Inf", first)
				}
			}
		}
	}
}

func TestSlackCalls(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)
	m.SlackAPICall("chat.postMessage", SlackStatusOK)
	m.SlackAPICall("chat.postMessage", "channel_not_found")
	for _, wait := range []time.Duration{1500 * time.Millisecond, 2 * time.Second} {
		m.SlackAPICall("chat.postMessage", SlackStatusRateLimited)
		m.SlackRateLimited("chat.postMessage", wait)
	}

	for _, tc := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.slackCalls.WithLabelValues("chat.postMessage", SlackStatusOK), 1},
		{m.slackCalls.WithLabelValues("chat.postMessage", "channel_not_found"), 1},
		{m.slackCalls.WithLabelValues("chat.postMessage", "429"), 2},
		{m.slackRateLimited.WithLabelValues("chat.postMessage"), 2},
		{m.slackRateWait.WithLabelValues("chat.postMessage"), 3.5},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.c, got, tc.want)
		}
	}
}

func TestJobs(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)
	m.JobFinished("nudge", JobCompleted, 50*time.Millisecond)
	m.JobFinished("nudge", JobFailed, 2*time.Second)
	m.JobFinished("leaderboard", JobCompleted, time.Second)

	if got := testutil.ToFloat64(m.jobs.WithLabelValues("nudge", JobFailed)); got != 1 {
		t.Errorf("failed nudge jobs = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(m.jobs); got != 3 {
		t.Errorf("jobs_total has %d series, want 3", got)
	}
	if got := testutil.CollectAndCount(m.jobDuration); got != 2 {
		t.Errorf("job_duration_seconds has %d series, want 2", got)
	}
}

func TestSetJobsQueuedZeroesKindsThatEmptied(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)
	m.SetJobsQueued(map[string]int{"nudge": 40, "leaderboard": 1})
	m.SetJobsQueued(map[string]int{"leaderboard": 2})

	if got := testutil.ToFloat64(m.jobsQueued.WithLabelValues("nudge")); got != 0 {
		t.Errorf("nudge queued = %v after it emptied, want 0", got)
	}
	if got := testutil.ToFloat64(m.jobsQueued.WithLabelValues("leaderboard")); got != 2 {
		t.Errorf("leaderboard queued = %v, want 2", got)
	}
}

func TestNudgesAndLeaderboard(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)
	m.NudgeSent()
	m.NudgeSent()
	m.SetNudgesOverdue(5)
	m.SetNudgesOverdue(1)
	m.LeaderboardPosted()

	if got := testutil.ToFloat64(m.nudgesSent); got != 2 {
		t.Errorf("nudges sent = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.nudgesOverdue); got != 1 {
		t.Errorf("nudges overdue = %v, want 1 (the latest value)", got)
	}
	if got := testutil.ToFloat64(m.leaderboardPosts); got != 1 {
		t.Errorf("leaderboard posts = %v, want 1", got)
	}
}

func TestSocket(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)

	if got := testutil.ToFloat64(m.socketConnected); got != 0 {
		t.Fatalf("connected before any connection = %v, want 0", got)
	}
	before := float64(time.Now().Unix())
	m.SocketConnected()
	if got := testutil.ToFloat64(m.socketConnected); got != 1 {
		t.Errorf("connected = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.socketReconnects); got != 0 {
		t.Errorf("the first connection counted as %v reconnects, want 0", got)
	}
	if ts := testutil.ToFloat64(m.socketLastConn); ts < before || ts > float64(time.Now().Unix()+1) {
		t.Errorf("last connected timestamp %v is not now", ts)
	}

	m.SocketDisconnected()
	if got := testutil.ToFloat64(m.socketConnected); got != 0 {
		t.Errorf("connected after disconnect = %v, want 0", got)
	}
	m.SocketConnected()
	m.SocketConnected() // a second link, or the same state reported again
	m.SocketDisconnected()
	m.SocketDisconnected()
	m.SocketConnected()
	if got := testutil.ToFloat64(m.socketReconnects); got != 2 {
		t.Errorf("reconnects = %v, want 2", got)
	}
}

func TestSocketDisconnectBeforeFirstConnection(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)
	m.SocketDisconnected() // a failed first dial
	m.SocketConnected()
	if got := testutil.ToFloat64(m.socketReconnects); got != 0 {
		t.Errorf("the first successful connection counted as %v reconnects, want 0", got)
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	m, _ := newRegistered(t)
	m.SetReady(CheckDB, true)
	m.SetReady(CheckSocket, false)
	m.SetReady(CheckDB, false)
	if got := testutil.ToFloat64(m.ready.WithLabelValues(CheckDB)); got != 0 {
		t.Errorf("ready{db} = %v, want 0", got)
	}
	m.SetReady(CheckSocket, true)
	if got := testutil.ToFloat64(m.ready.WithLabelValues(CheckSocket)); got != 1 {
		t.Errorf("ready{socket} = %v, want 1", got)
	}
}

func TestBuildInfo(t *testing.T) {
	t.Parallel()
	_, reg := newRegistered(t)
	want := `
# HELP pathbot_build_info Always 1; its labels identify the running build.
# TYPE pathbot_build_info gauge
pathbot_build_info{commit="` + version.Commit + `",goversion="` + runtime.Version() + `",version="` + version.Version + `"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pathbot_build_info"); err != nil {
		t.Error(err)
	}
}

func TestNilMetricsRecordsNothing(t *testing.T) {
	t.Parallel()
	var m *Metrics
	recordOneOfEach(m) // must not panic
	m.SocketDisconnected()
	if err := m.WatchPool(prometheus.NewRegistry(), nil); err != nil {
		t.Error(err)
	}
}

func TestNilRegistererStillCounts(t *testing.T) {
	t.Parallel()
	m := New(nil)
	m.NudgeSent()
	if got := testutil.ToFloat64(m.nudgesSent); got != 1 {
		t.Errorf("nudges sent = %v, want 1", got)
	}
}

// TestCoexistsWithDefaultCollectors covers New(prometheus.DefaultRegisterer), which already has
// the Go and process collectors.
func TestCoexistsWithDefaultCollectors(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	New(reg)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestRegisteringTwicePanics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	New(reg)
	defer func() {
		if recover() == nil {
			t.Error("a second New on the same registry did not panic")
		}
	}()
	New(reg)
}
