// Package config reads pathbot's configuration from environment variables (go-envconfig) and
// checks it up front, so that a missing or malformed value stops start-up with one line naming the
// variable and what is expected, instead of failing later in the middle of a request.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sethvargo/go-envconfig"
)

// Config is everything `pathbot serve` needs. Secrets carry json:"-" so that logging or dumping
// the config can never leak a token.
type Config struct {
	AppToken    string `env:"SLACK_APP_TOKEN" json:"-"`
	BotToken    string `env:"SLACK_BOT_TOKEN" json:"-"`
	DatabaseURL string `env:"DATABASE_URL" json:"-"`
	SlackAPIURL string `env:"SLACK_API_URL, default=https://slack.com/api/"`

	LogLevel  string `env:"LOG_LEVEL, default=info"`
	LogFormat string `env:"LOG_FORMAT, default=json"`
	HTTPAddr  string `env:"HTTP_ADDR, default=:8080"`
	// Pprof serves net/http/pprof on HTTP_ADDR, for profiling; keep HTTP_ADDR private when on.
	Pprof bool `env:"PPROF, default=false"`

	MigrateOnStart bool   `env:"MIGRATE_ON_START, default=true"`
	CurriculumDir  string `env:"CURRICULUM_DIR"`
	DBMaxConns     int32  `env:"DB_MAX_CONNS, default=20"`
	// MaxInFlight bounds the slash commands, clicks and events this process works on at once;
	// beyond it the bot answers "very busy, nothing was saved" at once instead of queueing work
	// behind the database pool. 0 means InFlightPerConn × DB_MAX_CONNS.
	MaxInFlight int `env:"MAX_IN_FLIGHT, default=0"`
	// SnapshotCacheSize is how many members' progress snapshots this process keeps in memory for
	// read-only commands; 0 turns the cache off (every command reads Postgres).
	SnapshotCacheSize int `env:"SNAPSHOT_CACHE_SIZE, default=50000"`
	// SocketConnections is how many Socket Mode links this process keeps open; Slack allows up to
	// 10 per app in total and spreads envelopes across them.
	SocketConnections int `env:"SOCKET_CONNECTIONS, default=1"`

	// The team's acceptable tail latency for the load-test milestone, unless a team sets its own.
	LoadtestP95 time.Duration `env:"LOADTEST_P95, default=200ms"`
	LoadtestP99 time.Duration `env:"LOADTEST_P99, default=500ms"`
	LoadtestMax time.Duration `env:"LOADTEST_MAX, default=2s"`

	LeaderboardChannel string   `env:"LEADERBOARD_CHANNEL"`
	Admins             []string `env:"PATHBOT_ADMINS"`

	// Schedules are robfig/cron specs. Nudges fire on each member's own wall clock (their Slack
	// time zone); the leaderboard on the team's.
	NudgeSchedule       string        `env:"NUDGE_SCHEDULE, default=0 9 * * MON"`
	LeaderboardSchedule string        `env:"LEADERBOARD_SCHEDULE, default=0 16 * * FRI"`
	TeamTimezone        string        `env:"TEAM_TIMEZONE, default=UTC"`
	SweepSchedule       string        `env:"SWEEP_SCHEDULE, default=@every 1m"`
	JobsEnabled         bool          `env:"JOBS_ENABLED, default=true"`
	JobWorkers          int           `env:"JOB_WORKERS, default=30"`
	JobRescueAfter      time.Duration `env:"JOB_RESCUE_AFTER, default=5m"`
}

// Need says which groups of settings a subcommand requires.
type Need int

const (
	NeedDatabase Need = 1 << iota
	NeedSlack
)

// Load reads the configuration from the process environment.
func Load(ctx context.Context, need Need) (*Config, error) {
	return LoadFrom(ctx, envconfig.OsLookuper(), need)
}

// LoadFrom reads the configuration through l; tests pass a map.
func LoadFrom(ctx context.Context, l envconfig.Lookuper, need Need) (*Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		return nil, decodeError(err)
	}
	if err := c.validate(need); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeError turns go-envconfig's "FieldName: cause" into "ENV_VAR: cause".
func decodeError(err error) error {
	msg := err.Error()
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if prefix := f.Name + ": "; strings.HasPrefix(msg, prefix) {
			name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			return fmt.Errorf("%s: %s (expected %s)", name, strings.TrimPrefix(msg, prefix), expected(f.Type))
		}
	}
	return err
}

func expected(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "a duration such as 200ms or 2s"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int32:
		return "a whole number"
	}
	return "a valid value"
}

func (c *Config) validate(need Need) error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if need&NeedSlack != 0 {
		switch {
		case c.AppToken == "":
			bad("SLACK_APP_TOKEN", "missing; expected the app-level token (xapp-…) with connections:write")
		case !strings.HasPrefix(c.AppToken, "xapp-"):
			bad("SLACK_APP_TOKEN", "expected an app-level token starting with xapp-")
		}
		switch {
		case c.BotToken == "":
			bad("SLACK_BOT_TOKEN", "missing; expected the bot token (xoxb-…) from OAuth & Permissions")
		case !strings.HasPrefix(c.BotToken, "xoxb-"):
			bad("SLACK_BOT_TOKEN", "expected a bot token starting with xoxb-")
		}
		u, err := url.Parse(c.SlackAPIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("SLACK_API_URL", "expected an http(s) URL such as https://slack.com/api/")
		} else if !strings.HasSuffix(c.SlackAPIURL, "/") {
			// slack-go joins endpoint and method by plain concatenation.
			c.SlackAPIURL += "/"
		}
	}
	if need&NeedDatabase != 0 {
		if c.DatabaseURL == "" {
			bad("DATABASE_URL", "missing; expected a Postgres URL such as postgres://user:pass@host:5432/pathbot")
		} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL", "expected a Postgres URL starting with postgres://")
		}
		if c.DBMaxConns < 2 || c.DBMaxConns > 1000 {
			bad("DB_MAX_CONNS", "expected a number between 2 and 1000, got %d", c.DBMaxConns)
		}
	}
	if _, err := c.Level(); err != nil {
		bad("LOG_LEVEL", "expected debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("LOG_FORMAT", "expected json or text, got %q", c.LogFormat)
	}
	if c.MaxInFlight < 0 || c.MaxInFlight > 100000 {
		bad("MAX_IN_FLIGHT", "expected 0 (%d × DB_MAX_CONNS) or a number up to 100000, got %d", InFlightPerConn, c.MaxInFlight)
	}
	if c.SnapshotCacheSize < 0 || c.SnapshotCacheSize > 10_000_000 {
		bad("SNAPSHOT_CACHE_SIZE", "expected 0 (off) or a number of members up to 10000000, got %d", c.SnapshotCacheSize)
	}
	if c.SocketConnections < 1 || c.SocketConnections > 10 {
		bad("SOCKET_CONNECTIONS", "expected 1 to 10 (Slack allows at most 10 Socket Mode connections), got %d", c.SocketConnections)
	}
	for name, d := range map[string]time.Duration{"LOADTEST_P95": c.LoadtestP95, "LOADTEST_P99": c.LoadtestP99, "LOADTEST_MAX": c.LoadtestMax} {
		if d <= 0 || d > time.Hour {
			bad(name, "expected a duration between 1ms and 1h, got %s", d)
		}
	}
	if c.LoadtestP95 > c.LoadtestP99 || c.LoadtestP99 > c.LoadtestMax {
		bad("LOADTEST_P95", "expected LOADTEST_P95 ≤ LOADTEST_P99 ≤ LOADTEST_MAX")
	}
	if _, err := time.LoadLocation(c.TeamTimezone); err != nil {
		bad("TEAM_TIMEZONE", "expected an IANA time zone such as Europe/Berlin, got %q", c.TeamTimezone)
	}
	for name, spec := range map[string]string{"NUDGE_SCHEDULE": c.NudgeSchedule, "LEADERBOARD_SCHEDULE": c.LeaderboardSchedule, "SWEEP_SCHEDULE": c.SweepSchedule} {
		if _, err := cron.ParseStandard(spec); err != nil {
			bad(name, "expected a cron spec such as \"0 9 * * MON\" or \"@every 1m\", got %q", spec)
		}
	}
	if c.JobWorkers < 1 || c.JobWorkers > 1000 {
		bad("JOB_WORKERS", "expected 1 to 1000, got %d", c.JobWorkers)
	}
	if c.JobRescueAfter < 10*time.Second {
		bad("JOB_RESCUE_AFTER", "expected at least 10s, got %s", c.JobRescueAfter)
	}
	if c.CurriculumDir != "" && strings.TrimSpace(c.CurriculumDir) == "" {
		bad("CURRICULUM_DIR", "expected a directory path")
	}
	return errors.Join(errs...)
}

// InFlightPerConn is the default bound on work in flight per database connection. Reads are mostly
// served from the snapshot cache and writes wait in the store's group-commit lanes, not on a
// connection, so a command in flight costs a goroutine and a few kilobytes: 256 per connection
// (5,120 at the default pool, a second of the 5,000/s load test) rides out the queue of a
// machine at its limit, and is still far
// below the tens of thousands of goroutines that pile up, each slower than the last, when
// nothing bounds them. Since the Socket Mode link hands envelopes over as soon as they are read,
// the queue of a machine at its limit is all in flight: at 5,000/s 64 per connection told 0.6%
// and 1.2% of the users of two runs "busy" where every command was answered within 0.7 s with
// 128 (docs/benchmarks.md, "Fourth version"); with 128, 10,000 members' first commands in the
// test's first seconds (each a cache miss and an enrolment) still filled it in 4 runs of 17
// ("Fifth version").
const InFlightPerConn = 256

// InFlightLimit is MAX_IN_FLIGHT, or InFlightPerConn × DB_MAX_CONNS when it is 0.
func (c *Config) InFlightLimit() int {
	if c.MaxInFlight > 0 {
		return c.MaxInFlight
	}
	return InFlightPerConn * max(int(c.DBMaxConns), 1)
}

// TeamLocation is TEAM_TIMEZONE, loaded (validate has checked it).
func (c *Config) TeamLocation() *time.Location {
	loc, err := time.LoadLocation(c.TeamTimezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Level is the slog level named by LOG_LEVEL.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}
