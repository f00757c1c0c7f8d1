// Package metrics defines every Prometheus series pathbot exports, in one place, so that the
// alert rules in deploy/prometheus and the SLOs in docs/slo.md can rely on exact names, labels and
// histogram buckets. Code elsewhere records through the methods of one *Metrics built at start-up;
// a nil *Metrics records nothing, so packages under test can pass nil instead of building a
// registry they never read.
package metrics

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pathbot/pathbot/internal/version"
)

// Namespace prefixes every pathbot series.
const Namespace = "pathbot"

// Outcomes of a command, the outcome label of pathbot_commands_total. The error-rate alert divides
// OutcomeError by the total, so a user's typo (OutcomeUserError) and a Slack retry we recognised
// (OutcomeDuplicate) must not be booked as OutcomeError.
const (
	OutcomeOK        = "ok"
	OutcomeUserError = "user_error"
	OutcomeError     = "error"
	OutcomeDuplicate = "duplicate"
)

// Socket Mode envelope types, the type label of pathbot_ack_latency_seconds. They are Slack's own
// envelope type names, so a log line and a series can be matched by eye.
const (
	EnvelopeSlashCommands = "slash_commands"
	EnvelopeInteractive   = "interactive"
	EnvelopeEventsAPI     = "events_api"
)

// Special values of the status label of pathbot_slack_api_calls_total. Any other value is the
// error code Slack returned in its "error" field (for example "channel_not_found").
const (
	SlackStatusOK          = "ok"
	SlackStatusRateLimited = "429"
	SlackStatusHTTP5xx     = "http_5xx"
	SlackStatusNetwork     = "network"
)

// Final job states, the state label of pathbot_jobs_total. They are River's job states.
const (
	JobCompleted = "completed"
	JobFailed    = "failed"
	JobSnoozed   = "snoozed"
	JobDiscarded = "discarded"
	JobCancelled = "cancelled"
)

// Readiness checks, the check label of pathbot_ready. The alert PathbotDatabaseUnreachable selects
// CheckDB by name.
const (
	CheckDB         = "db"
	CheckMigrations = "migrations"
	CheckSocket     = "socket"
)

// LatencyBuckets are the upper bounds, in seconds, of the ack and response latency histograms.
// They are fine-grained at the low end because a healthy ack takes well under 10 ms, and 0.5 and 3
// are bounds on purpose: the SLOs in docs/slo.md are "p99 ≤ 500 ms" and "answered within 3 s", and a
// threshold that is a bucket bound is measured exactly rather than interpolated.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3}

// JobDurationBuckets are the upper bounds, in seconds, of pathbot_job_duration_seconds. Jobs talk to
// Slack and may wait out a rate limit, so the range reaches a minute.
var JobDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

type socketState int

const (
	socketNever socketState = iota // not connected yet since start
	socketUp
	socketDown // was connected, lost it
)

// Metrics holds pathbot's series. Build it once with New and share it; all methods are safe for
// concurrent use, and all are no-ops on a nil *Metrics.
type Metrics struct {
	commands         *prometheus.CounterVec
	shed             *prometheus.CounterVec
	ackLatency       *prometheus.HistogramVec
	responseLatency  *prometheus.HistogramVec
	slackCalls       *prometheus.CounterVec
	slackRateLimited *prometheus.CounterVec
	slackRateWait    *prometheus.CounterVec
	jobs             *prometheus.CounterVec
	jobsQueued       *prometheus.GaugeVec
	jobDuration      *prometheus.HistogramVec
	nudgesSent       prometheus.Counter
	nudgesOverdue    prometheus.Gauge
	leaderboardPosts prometheus.Counter
	socketConnected  prometheus.Gauge
	socketReconnects prometheus.Counter
	socketLastConn   prometheus.Gauge
	ready            *prometheus.GaugeVec
	buildInfo        prometheus.Gauge

	// socketMu guards socketState, which tells a reconnect from the first connection and from a
	// repeated report of the same state.
	socketMu    sync.Mutex
	socketState socketState

	// queuedMu guards queuedKinds, the job kinds SetJobsQueued has ever seen.
	queuedMu    sync.Mutex
	queuedKinds map[string]struct{}
}

// New builds the series and registers them, with the Go runtime and process collectors, on reg.
// A nil reg builds working series that are exported nowhere, which is what most tests want. It
// panics if pathbot's own series are already registered on reg, as that is a wiring bug.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "commands_total",
			Help:      "Commands handled, by command and outcome (ok, user_error, error, duplicate).",
		}, []string{"command", "outcome"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "requests_shed_total",
			Help:      "Requests refused without doing any work (nothing written) because the bot was overloaded, by envelope type and reason (busy, late).",
		}, []string{"type", "reason"}),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "ack_latency_seconds",
			Help:      "Time from receiving a Socket Mode envelope to acknowledging it, by envelope type.",
			Buckets:   LatencyBuckets,
		}, []string{"type"}),
		responseLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "response_latency_seconds",
			Help:      "Time from receiving a command to the user seeing its answer, by command.",
			Buckets:   LatencyBuckets,
		}, []string{"command"}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "slack_api_calls_total",
			Help:      `Slack Web API calls, by method and status ("ok", Slack's error code, "429", "http_5xx" or "network").`,
		}, []string{"method", "status"}),
		slackRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "slack_rate_limited_total",
			Help:      "Slack Web API calls answered with HTTP 429, by method.",
		}, []string{"method"}),
		slackRateWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "slack_rate_limit_wait_seconds_total",
			Help:      "Seconds Slack told us to wait (Retry-After) before calling a method again.",
		}, []string{"method"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "jobs_total",
			Help:      "Background job attempts that finished, by kind and state (completed, failed, snoozed, discarded, cancelled).",
		}, []string{"kind", "state"}),
		jobsQueued: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "jobs_queued",
			Help:      "Background jobs waiting to run (available or retryable), by kind.",
		}, []string{"kind"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "job_duration_seconds",
			Help:      "Time a background job attempt took, by kind.",
			Buckets:   JobDurationBuckets,
		}, []string{"kind"}),
		nudgesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "nudges_sent_total",
			Help:      "Nudges delivered to Slack.",
		}),
		nudgesOverdue: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "nudges_overdue",
			Help:      "Nudges due more than an hour ago and not sent yet.",
		}),
		leaderboardPosts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "leaderboard_posts_total",
			Help:      "Leaderboards posted to the leaderboard channel.",
		}),
		socketConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "socket_connected",
			Help:      "1 while the Socket Mode WebSocket is connected, else 0.",
		}),
		socketReconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "socket_reconnects_total",
			Help:      "Times the bot regained a Socket Mode connection after having none.",
		}),
		socketLastConn: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "socket_last_connected_timestamp_seconds",
			Help:      "Unix time the bot last went from no Socket Mode connection to connected.",
		}),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "ready",
			Help:      "1 if the named readiness check passed when last run, else 0.",
		}, []string{"check"}),
		buildInfo: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "build_info",
			Help:      "Always 1; its labels identify the running build.",
			ConstLabels: prometheus.Labels{
				"version":   version.Version,
				"commit":    version.Commit,
				"goversion": runtime.Version(),
			},
		}),
		queuedKinds: make(map[string]struct{}),
	}
	m.buildInfo.Set(1)

	if reg == nil {
		return m
	}
	reg.MustRegister(
		m.commands, m.shed, m.ackLatency, m.responseLatency,
		m.slackCalls, m.slackRateLimited, m.slackRateWait,
		m.jobs, m.jobsQueued, m.jobDuration,
		m.nudgesSent, m.nudgesOverdue, m.leaderboardPosts,
		m.socketConnected, m.socketReconnects, m.socketLastConn,
		m.ready, m.buildInfo,
	)
	// prometheus.DefaultRegisterer comes with these two already; that is not an error.
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
	return m
}

// CommandHandled counts one command with its outcome (one of the Outcome constants). command must
// come from pathbot's fixed set of commands, never from user input, to keep the series few.
func (m *Metrics) CommandHandled(command, outcome string) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(command, outcome).Inc()
}

// RequestShed counts one request of the given envelope type (one of the Envelope constants) that
// was refused under overload for reason (one of the Shed constants): the user got a "busy, nothing
// was saved" answer, or nothing if the ack was too late anyway, and nothing was written.
func (m *Metrics) RequestShed(envelopeType, reason string) {
	if m == nil {
		return
	}
	m.shed.WithLabelValues(envelopeType, reason).Inc()
}

// ObserveAck records how long an envelope of the given type (one of the Envelope constants) took to
// be acknowledged. Slack retries what is not acked within 3 s, so this is the latency that matters
// most.
func (m *Metrics) ObserveAck(envelopeType string, d time.Duration) {
	if m == nil {
		return
	}
	m.ackLatency.WithLabelValues(envelopeType).Observe(d.Seconds())
}

// ObserveResponse records how long a command took from receipt to its answer being posted.
func (m *Metrics) ObserveResponse(command string, d time.Duration) {
	if m == nil {
		return
	}
	m.responseLatency.WithLabelValues(command).Observe(d.Seconds())
}

// SlackAPICall counts one Web API call by method (such as "chat.postMessage") and status (one of
// the SlackStatus constants or Slack's error code). Every call is counted here, 429s included.
func (m *Metrics) SlackAPICall(method, status string) {
	if m == nil {
		return
	}
	m.slackCalls.WithLabelValues(method, status).Inc()
}

// SlackRateLimited records, in addition to SlackAPICall(method, SlackStatusRateLimited), that
// Slack answered HTTP 429 and asked us to wait for the Retry-After duration.
func (m *Metrics) SlackRateLimited(method string, wait time.Duration) {
	if m == nil {
		return
	}
	m.slackRateLimited.WithLabelValues(method).Inc()
	m.slackRateWait.WithLabelValues(method).Add(wait.Seconds())
}

// JobFinished records one job attempt of the given kind that ended in state (one of the Job
// constants) after running for d.
func (m *Metrics) JobFinished(kind, state string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, state).Inc()
	m.jobDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// SetJobsQueued publishes a fresh count of waiting jobs per kind. A kind seen before but missing
// from counts is set to 0 rather than left at its old value: a GROUP BY query returns no row for a
// kind with nothing queued, and a stale non-zero gauge would keep PathbotJobsPilingUp firing.
func (m *Metrics) SetJobsQueued(counts map[string]int) {
	if m == nil {
		return
	}
	m.queuedMu.Lock()
	defer m.queuedMu.Unlock()
	for kind := range m.queuedKinds {
		if _, ok := counts[kind]; !ok {
			m.jobsQueued.WithLabelValues(kind).Set(0)
		}
	}
	for kind, n := range counts {
		m.queuedKinds[kind] = struct{}{}
		m.jobsQueued.WithLabelValues(kind).Set(float64(n))
	}
}

// NudgeSent counts one nudge delivered to Slack.
func (m *Metrics) NudgeSent() {
	if m == nil {
		return
	}
	m.nudgesSent.Inc()
}

// SetNudgesOverdue publishes how many nudges are more than an hour past due and still unsent.
func (m *Metrics) SetNudgesOverdue(n int) {
	if m == nil {
		return
	}
	m.nudgesOverdue.Set(float64(n))
}

// LeaderboardPosted counts one leaderboard posted.
func (m *Metrics) LeaderboardPosted() {
	if m == nil {
		return
	}
	m.leaderboardPosts.Inc()
}

// SocketConnected records that the bot has a Socket Mode connection. Callers with several links
// call it whenever any link is up, repeatedly if they like: only the step from "no link" to "a link"
// counts, as a reconnect when it is not the first, and moves the last-connected timestamp. A link
// that Slack refreshes while another stays up is routine and not counted.
func (m *Metrics) SocketConnected() {
	if m == nil {
		return
	}
	m.socketMu.Lock()
	defer m.socketMu.Unlock()
	switch m.socketState {
	case socketUp:
		return
	case socketDown:
		m.socketReconnects.Inc()
	}
	m.socketState = socketUp
	m.socketConnected.Set(1)
	m.socketLastConn.SetToCurrentTime()
}

// SocketDisconnected records that the bot has no Socket Mode connection at all.
func (m *Metrics) SocketDisconnected() {
	if m == nil {
		return
	}
	m.socketMu.Lock()
	defer m.socketMu.Unlock()
	if m.socketState == socketUp {
		m.socketState = socketDown
	}
	m.socketConnected.Set(0)
}

// SetReady publishes the latest result of a readiness check (one of the Check constants).
func (m *Metrics) SetReady(check string, ok bool) {
	if m == nil {
		return
	}
	v := 0.0
	if ok {
		v = 1
	}
	m.ready.WithLabelValues(check).Set(v)
}
