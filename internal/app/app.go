// Package app assembles pathbot from its parts (config → logger → pool → store → curriculum → bot →
// jobs → health server) and runs them together until the context ends, then shuts them down in
// reverse order. `pathbot serve` and `pathbot dev` both run the bot through Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/config"
	"github.com/pathbot/pathbot/internal/curriculum"
	"github.com/pathbot/pathbot/internal/health"
	"github.com/pathbot/pathbot/internal/metrics"
	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/schedule"
	"github.com/pathbot/pathbot/internal/slackbot"
	"github.com/pathbot/pathbot/internal/store"
)

// drainTimeout bounds how long shutdown waits for in-flight work; with the socket close and the
// pool close it keeps the whole exit well inside 10 s.
const drainTimeout = 7 * time.Second

// NewLogger builds the process logger from LOG_LEVEL and LOG_FORMAT.
func NewLogger(cfg *config.Config) *slog.Logger {
	level, _ := cfg.Level()
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// LoadCurriculum loads CURRICULUM_DIR when set, else the embedded path.
func LoadCurriculum(cfg *config.Config) (*curriculum.Curriculum, error) {
	if cfg.CurriculumDir != "" {
		return curriculum.LoadDir(cfg.CurriculumDir)
	}
	return curriculum.Embedded()
}

// Services are the running parts, handed to hooks (pathbot dev wires the emulator's dev buttons
// to the job system through one).
type Services struct {
	Jobs  *schedule.Jobs
	Store *store.DB
	Bot   *slackbot.Bot
}

// Run is `pathbot serve`: it runs until ctx ends. Hooks run once everything is built, before the
// bot connects.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, hooks ...func(Services)) error {
	cur, err := LoadCurriculum(cfg)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)

	hs := health.New(cfg.HTTPAddr, reg, m, log)
	if cfg.Pprof {
		hs.EnablePprof()
	}
	if err := hs.Listen(); err != nil {
		return err
	}
	healthCtx, stopHealth := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHealth()
	healthDone := make(chan error, 1)
	go func() { healthDone <- hs.Run(healthCtx) }()

	// Until the pool exists the checks fail, so /readyz says not-ready while Postgres is awaited.
	var poolRef atomic.Pointer[pgxpool.Pool]
	notYet := func(context.Context) error { return errors.New("starting: database not connected yet") }
	hs.AddCheck(metrics.CheckDB, func(ctx context.Context) error {
		if p := poolRef.Load(); p != nil {
			return p.Ping(ctx)
		}
		return notYet(ctx)
	})
	hs.AddCheck(metrics.CheckMigrations, notYet)
	hs.AddCheck(metrics.CheckSocket, notYet)

	pool, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	poolRef.Store(pool)
	if err := m.WatchPool(reg, pool.Stat); err != nil {
		return fmt.Errorf("watch pool: %w", err)
	}
	ms, err := newMigrationState(pool)
	if err != nil {
		return err
	}
	defer ms.Close()
	if cfg.MigrateOnStart {
		// Up opens its own connection and takes the advisory lock; skip it when goose, asked
		// over the pool, finds nothing to apply. On any doubt, Up decides as before.
		if pending, err := ms.pending(ctx); err != nil || pending {
			if err := migrate.Up(ctx, cfg.DatabaseURL, log); err != nil {
				return err
			}
		} else {
			log.Debug("migrations already current")
		}
	}
	hs.AddCheck(metrics.CheckMigrations, ms.check)

	st := store.New(pool)
	st.SetCacheSize(cfg.SnapshotCacheSize)
	if err := m.WatchCache(reg, st.CacheStats); err != nil {
		return fmt.Errorf("watch snapshot cache: %w", err)
	}
	if err := m.WatchWrites(reg, st.WriteStats); err != nil {
		return fmt.Errorf("watch writes: %w", err)
	}
	cacheCtx, stopCache := context.WithCancel(context.WithoutCancel(ctx))
	cacheDone := make(chan struct{})
	go func() { defer close(cacheDone); st.Listen(cacheCtx, log) }()
	defer func() { stopCache(); <-cacheDone }()
	teamTZ := cfg.TeamLocation()
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.SlackAPIURL),
		slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second, Transport: newTransport(m)}),
	)
	users := &slackbot.SlackDirectory{API: api}
	h := &slackbot.Handler{
		Curriculum: cur,
		Store:      st,
		Users:      users,
		Thresholds: progress.Thresholds{P95: cfg.LoadtestP95, P99: cfg.LoadtestP99, Max: cfg.LoadtestMax},
		Now:        time.Now,
		Log:        log,

		Admins:                    cfg.Admins,
		TeamTZ:                    teamTZ,
		DefaultLeaderboardChannel: cfg.LeaderboardChannel,
		DefaultNudge:              describeSpec(cfg.NudgeSchedule),
	}
	st.Score = h.Score
	jobs, err := schedule.New(pool, st, api, h, m, schedule.Config{
		NudgeSpec:          cfg.NudgeSchedule,
		LeaderboardSpec:    cfg.LeaderboardSchedule,
		TeamTZ:             teamTZ,
		SweepSpec:          cfg.SweepSchedule,
		LeaderboardChannel: cfg.LeaderboardChannel,
		RescueAfter:        cfg.JobRescueAfter,
		Workers:            cfg.JobWorkers,
	}, log)
	if err != nil {
		return err
	}
	h.Jobs = jobs
	// River starts (a ping, its queue and producer rows, LISTENs, leader election: some hundred
	// ms of round trips, more on a busy host) while the bot connects to Slack rather than before:
	// commands only insert jobs, which River accepts before Start. If River cannot start, the bot
	// stops and Run fails, as before.
	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	jobsStarted := make(chan error, 1)
	if cfg.JobsEnabled {
		go func() {
			err := jobs.Start(ctx)
			if err != nil {
				stopBot()
			}
			jobsStarted <- err
		}()
	} else {
		jobsStarted <- nil
	}
	bot := &slackbot.Bot{Handler: h, API: api, Log: log, Obs: observer{m}, Connections: cfg.SocketConnections, MaxInFlight: cfg.InFlightLimit()}
	for _, hook := range hooks {
		hook(Services{Jobs: jobs, Store: st, Bot: bot})
	}
	hs.AddCheck(metrics.CheckSocket, func(context.Context) error {
		if !bot.Connected() {
			return errors.New("socket mode not connected")
		}
		return nil
	})

	log.Info("pathbot starting", "readings", len(cur.Readings), "milestones", len(cur.Milestones), "slack_api", cfg.SlackAPIURL, "connections", cfg.SocketConnections)
	err = bot.Run(botCtx, drainTimeout)
	if jerr := <-jobsStarted; jerr != nil && err == nil {
		// The bot stopped because River could not start (or start was cut short by shutdown,
		// which Run reported as an error before, too).
		err = jerr
	}
	if cfg.JobsEnabled {
		// River's soft stop: in-flight jobs finish; what doesn't finish in time is cancelled and
		// rescued by another replica later.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if serr := jobs.Stop(sctx); serr != nil {
			log.Warn("stopping jobs", "err", serr)
		}
		cancel()
	}
	stopHealth()
	<-healthDone
	log.Info("pathbot stopped")
	return err
}

// connect opens the pool and waits for Postgres with backoff instead of crash-looping, so a bot
// started before its database simply reports not-ready until the database answers.
func connect(ctx context.Context, cfg *config.Config, log *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := store.Connect(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pctx)
		cancel()
		if err == nil {
			return pool, nil
		}
		log.Warn("database not reachable yet; retrying", "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			pool.Close()
			return nil, fmt.Errorf("waiting for the database: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

// observer feeds the bot's events to Prometheus.
type observer struct{ m *metrics.Metrics }

func (o observer) Command(command, outcome string, ack, response time.Duration) {
	o.m.CommandHandled(command, outcome)
	o.m.ObserveResponse(command, response)
}
func (o observer) Ack(t string, d time.Duration) { o.m.ObserveAck(t, d) }
func (o observer) Shed(t, reason string)         { o.m.RequestShed(t, reason) }
func (o observer) SocketConnected(up bool) {
	if up {
		o.m.SocketConnected()
	} else {
		o.m.SocketDisconnected()
	}
}

// describeSpec turns the common "M H * * D" nudge spec into words for /path settings.
func describeSpec(spec string) string {
	var m, h int
	var dow string
	if n, _ := fmt.Sscanf(spec, "%d %d * * %s", &m, &h, &dow); n == 3 {
		days := map[string]string{"0": "Sunday", "1": "Monday", "2": "Tuesday", "3": "Wednesday", "4": "Thursday", "5": "Friday", "6": "Saturday",
			"SUN": "Sunday", "MON": "Monday", "TUE": "Tuesday", "WED": "Wednesday", "THU": "Thursday", "FRI": "Friday", "SAT": "Saturday"}
		if d, ok := days[strings.ToUpper(dow)]; ok {
			return fmt.Sprintf("%s %02d:%02d", d, h, m)
		}
	}
	return spec
}
