package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/loadtest"
)

// loadtestCmd is `pathbot loadtest`: the real bot, as a child process, driven through the Slack
// emulator at a fixed arrival rate. The report goes to stdout (text, or JSON with -json) and
// progress to stderr; the exit status is non-zero when any request failed or the database does
// not hold exactly the writes that were answered as saved.
func loadtestCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pathbot loadtest [flags]

Starts Postgres (DATABASE_URL on this machine, else a throwaway durable cluster), the Slack
emulator and `+"`pathbot serve`"+` as a child process, sends /path commands open-loop at -rate per
second from -users simulated members, and reports ack and answer latency percentiles, failures,
the bot's CPU and peak memory, and whether the database holds exactly the answered writes.

With -nudges N it measures the weekly nudge fan-out instead: N enrolled members are due when
the bot starts, and the report says how long the bot took from its start and from the first to
the last nudge DM, its rate, with -nudge-limit how close it came to Slack's limit on
chat.postMessage and how many 429s it drew, and whether every member got exactly one nudge.

Flags:
`)
		fs.PrintDefaults()
	}
	rate := fs.Float64("rate", 5000, "requests per second")
	duration := fs.Duration("duration", 60*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 10*time.Second, "load ramping up to the rate (the first step's with -find-max) before measuring, not reported (0 for none)")
	users := fs.Int("users", 10_000, "simulated members")
	connections := fs.Int("connections", 0, "the bot's Socket Mode connections, 1-10 (default: $SOCKET_CONNECTIONS, else 1)")
	findMax := fs.Bool("find-max", false, "step the rate up and report the highest one passing -max-p99 with no failures")
	steps := fs.String("steps", "", "comma-separated rates for -find-max (default 1000,2000,3000,4000,5000,6000,8000,10000,12000,15000,20000)")
	stepDuration := fs.Duration("step-duration", 12*time.Second, "how long each -find-max step lasts")
	maxP99 := fs.Duration("max-p99", 50*time.Millisecond, "the p99 response latency a -find-max step must stay within")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	bin := fs.String("bot", "", "pathbot binary to run as the bot (default: this executable)")
	seed := fs.Uint64("seed", 1, "seed of the command mix")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load generator and emulator (this process, not the bot) to `file`")
	botProfile := fs.String("bot-cpuprofile", "", "write a CPU profile of the bot over the measured run to `file` (turns on the bot's PPROF endpoint)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	genProcs := fs.Int("generator-procs", 0, "GOMAXPROCS of the load generator and emulator (default 1)")
	nice := fs.Int("nice", 0, "niceness of the bot and the load test's own Postgres, the generator staying at 0, so that its waits for a core are not counted as the bot's latency (default 10; -1: the generator's)")
	nudges := fs.Int("nudges", 0, "measure the nudge fan-out: this many members due at once (instead of the command load)")
	nudgeLimit := fs.Int("nudge-limit", 0, "with -nudges: limit the emulator's chat.postMessage to this many calls per minute (0: unthrottled)")
	nudgeBurst := fs.Int("nudge-burst", 0, "with -nudge-limit: calls the emulator lets through at once (default: a minute's worth)")
	nudgeTimeout := fs.Duration("nudge-timeout", 0, "with -nudges: how long to wait for every nudge (default 5m, plus twice what the limit needs)")
	var botEnv envFlags
	fs.Var(&botEnv, "bot-env", "`KEY=VALUE` added to the bot's environment only, e.g. DB_MAX_CONNS=8 or GOMAXPROCS=1 (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var env []string
	if len(botEnv) > 0 {
		env = append(os.Environ(), botEnv...)
	}
	var log *slog.Logger
	if !*quiet {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	if *nudges > 0 {
		rep, err := loadtest.RunFanout(ctx, loadtest.FanoutOptions{
			Nudges: *nudges, LimitPerMinute: *nudgeLimit, Burst: *nudgeBurst, Timeout: *nudgeTimeout,
			Connections: *connections, BotBinary: *bin, DatabaseURL: os.Getenv("DATABASE_URL"),
			BotCPUProfile: *botProfile, Env: env, Log: log,
		})
		if err != nil {
			return err
		}
		return printReport(rep, *asJSON)
	}
	opt := loadtest.Options{
		Rate: *rate, Duration: *duration, Warmup: *warmup, Users: *users, Connections: *connections, GeneratorProcs: *genProcs, Nice: *nice,
		FindMax: *findMax, StepDuration: *stepDuration, MaxP99: *maxP99,
		BotBinary: *bin, DatabaseURL: os.Getenv("DATABASE_URL"), Seed: *seed, BotCPUProfile: *botProfile,
		Env: env, Log: log,
	}
	if *warmup == 0 {
		opt.Warmup = -1 // the package reads zero as "default"
	}
	if *steps != "" {
		for _, s := range strings.Split(*steps, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return fmt.Errorf("-steps: %q is not a rate", s)
			}
			opt.Steps = append(opt.Steps, v)
		}
	}
	rep, err := loadtest.Run(ctx, opt)
	if err != nil {
		return err
	}
	return printReport(rep, *asJSON)
}

// printReport writes a load test's report as text or JSON; the error is the run's verdict.
func printReport(rep interface {
	Text() string
	Err() error
}, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else {
		fmt.Print(rep.Text())
	}
	return rep.Err()
}

// envFlags collects repeated -bot-env KEY=VALUE flags.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }

func (e *envFlags) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}
