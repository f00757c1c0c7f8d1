// Package devenv runs the whole of pathbot on one machine, as `pathbot dev` does: a PostgreSQL
// server (the one at DATABASE_URL, or a private, durable cluster whose data survives restarts), the
// migrations, the local Slack emulator with its web UI and a seeded team, and the real bot in this
// process, connected to the emulator over Socket Mode exactly as it would connect to Slack. Start
// returns once the bot holds a Socket Mode link, so whoever opens the UI can use it at once, and
// the Env it returns stops everything in reverse order. The logic lives here rather than in
// cmd/pathbot so that tests can start the same environment in-process.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/app"
	"github.com/pathbot/pathbot/internal/config"
	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/pgcluster"
	"github.com/pathbot/pathbot/internal/slackemu"
)

// Defaults of Options.
const (
	DefaultAddr     = "127.0.0.1:3000"
	DefaultHTTPAddr = "127.0.0.1:8081"
	// DefaultDataDir is relative to the working directory, which for `make dev` is the repository
	// root, where .gitignore already excludes it.
	DefaultDataDir = ".pathbot/postgres"
	// DatabaseName is the database pathbot uses inside the private cluster.
	DatabaseName = "pathbot"
)

// connectTimeout bounds the wait for the bot's first Socket Mode link. Against the local emulator
// it takes well under a second; a minute leaves room for a slow first database connection.
const connectTimeout = time.Minute

// Options configures Start. Zero values get the defaults above.
type Options struct {
	// Addr is where the emulator and its web UI listen.
	Addr string
	// HTTPAddr is where the bot serves /healthz, /readyz and /metrics. Port 0 picks a free port.
	HTTPAddr string
	// DatabaseURL, when set, is used as it is and no cluster is started.
	DatabaseURL string
	// DataDir holds the private cluster used when DatabaseURL is empty.
	DataDir string
	// Base is the rest of the bot's configuration; Start overrides what points at the emulator,
	// the database and the listen address. Nil loads it from the environment.
	Base *config.Config
	// Emulator tunes the emulator (ping interval, ack timeout, …); Links gets the metrics link.
	Emulator slackemu.Config
	// Logger receives the bot's, the emulator's and the cluster's logs. Nil builds the bot's
	// logger from Base (LOG_LEVEL, text format) on stderr.
	Logger *slog.Logger
}

// Env is a running development environment.
type Env struct {
	// Emulator is the Slack stand-in the bot is connected to.
	Emulator *slackemu.Server
	// URL is the emulator's web UI, e.g. "http://127.0.0.1:3000", without a trailing slash.
	URL string
	// MetricsURL is the bot's Prometheus endpoint.
	MetricsURL string
	// DatabaseURL is the database the bot uses.
	DatabaseURL string
	// DataDir is the private cluster's directory, "" when DatabaseURL was given.
	DataDir string
	// Config is what the bot runs with.
	Config *config.Config

	log     *slog.Logger
	cancel  context.CancelFunc
	cluster *pgcluster.Cluster
	botDone chan struct{}
	botErr  error

	stopOnce sync.Once
	stopErr  error
}

// Start brings the environment up and returns once the bot is connected to the emulator. The bot
// runs until ctx ends or Stop is called; either way, call Wait (or Stop) to shut the rest down.
// On error everything already started has been stopped again.
func Start(ctx context.Context, opt Options) (*Env, error) {
	opt = withDefaults(opt)
	base := opt.Base
	if base == nil {
		var err error
		if base, err = config.Load(ctx, 0); err != nil {
			return nil, fmt.Errorf("load configuration: %w", err)
		}
	}
	cfg := *base
	cfg.LogFormat = "text"
	log := opt.Logger
	if log == nil {
		log = app.NewLogger(&cfg)
	}

	e := &Env{log: log, botDone: make(chan struct{}), Config: &cfg}
	// Ports are checked before Postgres starts, so a taken port fails in a moment, not after the
	// several seconds a first initdb takes.
	httpAddr, err := reserve(opt.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("the bot's metrics address %s is not available (%w); choose another with -http-addr", opt.HTTPAddr, err)
	}
	emuCfg := opt.Emulator
	emuCfg.Links = map[string]string{"metrics": "http://" + httpAddr + "/metrics"}
	for k, v := range opt.Emulator.Links {
		emuCfg.Links[k] = v
	}
	if emuCfg.Logger == nil {
		emuCfg.Logger = log
	}
	emu := slackemu.New(emuCfg)
	if err := emu.Start(opt.Addr); err != nil {
		_ = emu.Close()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%s is already in use (is another pathbot dev running?); stop it or choose another address with -addr", opt.Addr)
		}
		return nil, fmt.Errorf("start the Slack emulator: %w", err)
	}
	emu.SeedTeammates()
	e.Emulator = emu
	e.URL = strings.TrimSuffix(emu.URL(), "/")
	e.MetricsURL = emuCfg.Links["metrics"]

	if err := e.startDatabase(ctx, opt); err != nil {
		return nil, errors.Join(err, e.shutdown())
	}

	cfg.SlackAPIURL = emu.APIURL()
	cfg.AppToken = emu.Config().AppToken
	cfg.BotToken = emu.Config().BotToken
	cfg.DatabaseURL = e.DatabaseURL
	cfg.HTTPAddr = httpAddr
	cfg.LeaderboardChannel = emu.ChannelID("path-leaderboard")
	cfg.MigrateOnStart = false // Start migrated already, before the bot could see an old schema

	botCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	go func() {
		defer close(e.botDone)
		e.botErr = app.Run(botCtx, &cfg, log, e.devButtons)
	}()

	if err := e.waitConnected(ctx); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

func withDefaults(opt Options) Options {
	if opt.Addr == "" {
		opt.Addr = DefaultAddr
	}
	if opt.HTTPAddr == "" {
		opt.HTTPAddr = DefaultHTTPAddr
	}
	if opt.DataDir == "" {
		opt.DataDir = DefaultDataDir
	}
	return opt
}

// reserve checks that addr can be listened on and resolves port 0 to a concrete free port, so
// that the emulator's metrics link points at the port the bot will bind. The bot binds it a
// moment later; on a developer's machine nothing else races for it.
func reserve(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return "", errors.New("already in use")
		}
		return "", err
	}
	bound := ln.Addr().(*net.TCPAddr)
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("release %s: %w", bound, err)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" || bound.IP.IsUnspecified() {
		// A wildcard listener is reachable on loopback, and that is what a link can point at.
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(bound.Port)), nil
}

// startDatabase settles DatabaseURL: the given server, or the private cluster with the pathbot
// database created on first use; then it applies the migrations.
func (e *Env) startDatabase(ctx context.Context, opt Options) error {
	e.DatabaseURL = opt.DatabaseURL
	if e.DatabaseURL == "" {
		dir, err := filepath.Abs(opt.DataDir)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", opt.DataDir, err)
		}
		e.log.Info("starting the private PostgreSQL cluster", "dir", dir)
		c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Durable: true, Logger: e.log})
		if err != nil {
			// pgcluster's message already says how to install PostgreSQL when it is missing.
			return fmt.Errorf("%w (or set DATABASE_URL to use a server you run yourself)", err)
		}
		e.cluster, e.DataDir = c, dir
		if err := createDatabase(ctx, c.URL("postgres"), DatabaseName); err != nil {
			return err
		}
		e.DatabaseURL = c.URL(DatabaseName)
	}
	if err := migrate.Up(ctx, e.DatabaseURL, e.log); err != nil {
		return err // migrate's errors name the database and the migration
	}
	return nil
}

// createDatabase creates name on the server at adminURL unless it exists, which it does on every
// run after the first.
func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to the private cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// waitConnected returns once the emulator sees the bot's link, or why it never will.
func (e *Env) waitConnected(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	connected := make(chan error, 1)
	go func() { connected <- e.Emulator.WaitConnections(wctx, 1) }()
	select {
	case err := <-connected:
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("stopped while waiting for the bot to connect: %w", ctx.Err())
			}
			return fmt.Errorf("the bot did not connect to the emulator within %s: %w", connectTimeout, err)
		}
		return nil
	case <-e.botDone:
		cancel()
		if e.botErr != nil {
			return fmt.Errorf("the bot stopped before connecting: %w", e.botErr)
		}
		return errors.New("the bot stopped before connecting")
	}
}

// Done is closed when the bot has stopped, because ctx ended, Stop was called or it failed.
func (e *Env) Done() <-chan struct{} { return e.botDone }

// Wait blocks until the bot stops, then closes the emulator and stops the private cluster. It
// returns the bot's error, if any, joined with shutdown errors; a stop through ctx or Stop is not
// an error. Calling it again returns the same result.
func (e *Env) Wait() error {
	<-e.botDone
	e.stopOnce.Do(func() {
		e.stopErr = errors.Join(e.botErr, e.shutdown())
	})
	return e.stopErr
}

// Stop stops the bot and then everything else, like Wait.
func (e *Env) Stop() error {
	if e.cancel != nil {
		e.cancel()
	}
	return e.Wait()
}

// shutdown closes what outlives the bot, newest first.
func (e *Env) shutdown() error {
	var errs []error
	if e.Emulator != nil {
		if err := e.Emulator.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the emulator: %w", err))
		}
	}
	if e.cluster != nil {
		if err := e.cluster.Stop(); err != nil {
			errs = append(errs, err) // it names the data directory
		}
	}
	return errors.Join(errs...)
}

// devButtons puts the proactive half within a click in the web UI: nudges and the leaderboard
// normally wait for their weekly schedule.
func (e *Env) devButtons(s app.Services) {
	team := e.Emulator.Config().TeamID
	e.Emulator.AddDevAction("Send everyone's weekly nudge now", func(ctx context.Context) error {
		_, err := s.Jobs.NudgeAll(ctx, team, "dev-"+time.Now().Format("150405.000"))
		return err
	})
	e.Emulator.AddDevAction("Post the leaderboard now", func(ctx context.Context) error {
		return s.Jobs.PostLeaderboard(ctx, team, slackemu.LeaderboardChannelID, "dev-"+time.Now().Format("150405.000"))
	})
	e.Emulator.AddDevAction("Run the scheduler sweep now", func(ctx context.Context) error {
		_, err := s.Jobs.Sweep(ctx, time.Now())
		return err
	})
}
