// Package loadtest drives the real pathbot through the local Slack emulator at a fixed arrival
// rate and reports what users would see: it starts Postgres (DATABASE_URL on this machine, or a
// throwaway durable cluster), the emulator in this process and `pathbot serve` as a child process
// so that the bot's CPU and memory are measured apart from the load generator's, then sends a
// realistic mix of /path commands from thousands of simulated members over Socket Mode, open-loop
// (request i is due at start + i/rate and its latency counts from then, so a stall cannot hide
// by slowing the load), and records the ack and answer latencies in HDR histograms. At the end it
// stops the bot and checks the database row by row against the writes the bot answered as saved:
// a load test that loses or invents data fails however fast it was. FindMax steps the rate up to
// the highest one the bot sustains within a p99 bound and without a single failure.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/app"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/slackemu"
)

// Options configures Run. Zero values get the defaults noted.
type Options struct {
	Rate     float64       // requests per second; default 5000
	Duration time.Duration // default 60 s
	Warmup   time.Duration // load ramping up to Rate before measuring, not reported; negative skips it; default 10 s
	Users    int           // simulated members; default 10,000
	// Connections is the bot's SOCKET_CONNECTIONS (Slack allows 10 per app); the emulator spreads
	// envelopes across them. Default: SOCKET_CONNECTIONS from the environment, else 1.
	Connections int

	// FindMax steps through Steps, StepDuration each, and reports the highest rate passed: p99
	// response at most MaxP99 and no failure. After the first failing step it tries up to Refine
	// rates between it and the last passing one.
	FindMax      bool
	Steps        []float64     // default 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, …, 20000
	StepDuration time.Duration // default 12 s
	MaxP99       time.Duration // default 50 ms
	Refine       int           // default 3; negative for none

	// BotBinary is the pathbot executable to run as `serve`; default os.Executable().
	BotBinary string
	// DatabaseURL is a loopback Postgres to use; empty starts a throwaway durable cluster.
	DatabaseURL string
	// Env is the environment the bot inherits before the load test sets its own variables;
	// default os.Environ(). Set DB_MAX_CONNS or CURRICULUM_DIR here to change the bot's.
	Env []string
	// BotCPUProfile, when set, turns on the bot's pprof endpoint (PPROF=true) and writes a CPU
	// profile of the bot over the measured run to this file. Not with FindMax.
	BotCPUProfile string
	// Seed makes the command mix reproducible; default 1.
	Seed uint64
	// GeneratorProcs is GOMAXPROCS for this process (load generator and Slack emulator) while
	// the load test runs; default 1, negative leaves it as it is. Everything it does fits in
	// one core, and one P spares the cost of handing goroutines between threads (waking and
	// parking them, spinning for work), which was most of its CPU: CPU the bot and Postgres
	// then have.
	GeneratorProcs int
	// Nice is the niceness the bot and the load test's own Postgres run at, the load generator
	// and emulator staying at theirs; default 10, negative leaves them at the generator's. The
	// generator plays Slack and its users, who in production run on other machines: on one
	// shared machine, every moment it waits for a core is counted as the bot's latency (its send
	// lag), and the requests it then sends late arrive as a burst real traffic would not be. It
	// needs about a third of a core, so first call on a core costs the bot and Postgres little.
	// A Postgres given by DATABASE_URL is left as it is, and so is the nudge fan-out (-nudges),
	// which measures throughput, not latency.
	Nice int
	// Log receives progress lines; nil discards.
	Log *slog.Logger
}

// Bounds keep a mistyped flag from running for hours or flooding the machine.
const (
	maxRate     = 200_000
	maxDuration = 30 * time.Minute
	maxUsers    = 1_000_000
	maxSteps    = 40
)

var defaultSteps = []float64{1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 20000}

func (o *Options) setDefaults() error {
	if o.Rate == 0 {
		o.Rate = 5000
	}
	if o.Duration == 0 {
		o.Duration = 60 * time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = 10 * time.Second
	}
	if o.Users == 0 {
		o.Users = 10_000
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Connections == 0 {
		o.Connections = 1
		if v, ok := lookupEnv(o.Env, "SOCKET_CONNECTIONS"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				o.Connections = n
			}
		}
	}
	if len(o.Steps) == 0 {
		o.Steps = defaultSteps
	}
	if o.StepDuration == 0 {
		o.StepDuration = 12 * time.Second
	}
	if o.MaxP99 == 0 {
		o.MaxP99 = 50 * time.Millisecond
	}
	if o.Refine == 0 {
		o.Refine = 3
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.GeneratorProcs == 0 {
		o.GeneratorProcs = 1
	}
	if o.Nice == 0 {
		o.Nice = 10
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.BotBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the pathbot binary to run: %w", err)
		}
		o.BotBinary = exe
	}
	var errs []error
	if o.Rate < 1 || o.Rate > maxRate {
		errs = append(errs, fmt.Errorf("rate %g: must be between 1 and %d per second", o.Rate, maxRate))
	}
	if o.Duration < time.Second || o.Duration > maxDuration {
		errs = append(errs, fmt.Errorf("duration %s: must be between 1s and %s", o.Duration, maxDuration))
	}
	if o.Warmup > maxDuration {
		errs = append(errs, fmt.Errorf("warmup %s: at most %s", o.Warmup, maxDuration))
	}
	if o.Users < 1 || o.Users > maxUsers {
		errs = append(errs, fmt.Errorf("users %d: must be between 1 and %d", o.Users, maxUsers))
	}
	if o.Connections < 1 || o.Connections > 10 {
		errs = append(errs, fmt.Errorf("connections %d: Slack allows 1 to 10 Socket Mode connections per app", o.Connections))
	}
	if o.FindMax && o.BotCPUProfile != "" {
		errs = append(errs, errors.New("a bot CPU profile covers one measured run, not the steps of find-max"))
	}
	if o.FindMax {
		if len(o.Steps) > maxSteps {
			errs = append(errs, fmt.Errorf("%d steps: at most %d", len(o.Steps), maxSteps))
		}
		for _, s := range o.Steps {
			if s < 1 || s > maxRate {
				errs = append(errs, fmt.Errorf("step %g: must be between 1 and %d per second", s, maxRate))
			}
		}
		if o.StepDuration < time.Second || o.StepDuration > 5*time.Minute {
			errs = append(errs, fmt.Errorf("step duration %s: must be between 1s and 5m", o.StepDuration))
		}
	}
	return errors.Join(errs...)
}

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// botEnv is opt.Env with the variables that wire the bot to the emulator and the database.
func botEnv(base []string, emu *slackemu.Server, dbURL, httpAddr string, connections int) []string {
	set := map[string]string{
		"SLACK_API_URL":      emu.APIURL(),
		"SLACK_APP_TOKEN":    emu.Config().AppToken,
		"SLACK_BOT_TOKEN":    emu.Config().BotToken,
		"DATABASE_URL":       dbURL,
		"HTTP_ADDR":          httpAddr,
		"LOG_LEVEL":          "warn",
		"LOG_FORMAT":         "text",
		"SOCKET_CONNECTIONS": strconv.Itoa(connections),
		// Already migrated; the bot still checks it is current before it reports ready.
		"MIGRATE_ON_START": "false",
	}
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := set[k]; !ours {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		env = append(env, k+"="+set[k])
	}
	return env
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// Run performs the load test and returns its report. The error is about the run itself (a bot
// that would not start, a database that could not be read); failures of the bot under load are
// in the report, see Report.Err.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if err := opt.setDefaults(); err != nil {
		return nil, err
	}
	log := opt.Log
	rep := &Report{Started: time.Now().UTC(), Machine: machineInfo()}
	if opt.GeneratorProcs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(opt.GeneratorProcs))
	}

	r, err := newRig(ctx, log, rigOptions{databaseURL: opt.DatabaseURL, teamPrefix: "TLOAD", users: opt.Users,
		env: opt.Env, pprof: opt.BotCPUProfile != "", connections: opt.Connections})
	if err != nil {
		return nil, err
	}
	defer r.close(ctx)
	workDir, team, db, emu, env, cfg := r.workDir, r.team, r.db, r.emu, r.env, r.cfg
	rep.Postgres, rep.PostgresSource = r.pgSettings, r.pgSource

	// The bot's own curriculum, so "done <id>" names readings it knows.
	cur, err := app.LoadCurriculum(cfg)
	if err != nil {
		return nil, err
	}
	readings := make([]string, len(cur.Readings))
	for i, it := range cur.Readings {
		readings[i] = it.ID
	}
	if len(readings) == 0 {
		return nil, errors.New("the curriculum has no readings to mark done")
	}
	rep.Config = RunConfig{
		Rate: opt.Rate, Duration: opt.Duration.String(), Warmup: max(opt.Warmup, 0).String(), Users: opt.Users,
		Connections: opt.Connections, DBMaxConns: int(cfg.DBMaxConns), BotBinary: opt.BotBinary,
		FindMax: opt.FindMax, MaxP99Ms: ms(opt.MaxP99), Seed: opt.Seed, Readings: len(readings),
		GeneratorProcs: runtime.GOMAXPROCS(0),
	}
	if opt.FindMax {
		rep.Config.StepDuration = opt.StepDuration.String()
	}
	rep.Config.BotTuning = r.botTuning()

	log.Info("starting the bot", "binary", opt.BotBinary, "connections", opt.Connections)
	b, err := startBot(ctx, opt.BotBinary, env, workDir, opt.Connections, emu)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _, _ = b.stop()
		}
	}()
	rep.BotPID = b.pid()
	if opt.Nice > 0 {
		// The measurement still stands without it; the report says what each ran at.
		if err := renice(b.pid(), opt.Nice); err != nil {
			log.Warn("could not lower the bot's priority", "err", err)
		} else {
			rep.Config.BotNice = opt.Nice
		}
		if db.postmaster != 0 {
			if err := renice(db.postmaster, opt.Nice); err != nil {
				log.Warn("could not lower Postgres's priority", "err", err)
			} else {
				rep.Config.PostgresNice = opt.Nice
			}
		}
	}

	m := newModel(readings, team, opt.Users, opt.Seed, progress.FromTime(time.Now(), time.UTC))
	g := &generator{emu: emu, model: m, res: newResources(b.pid(), db.postmaster)}

	runPhase := func(p *phase) *Phase {
		// Start each stretch with the generator's own garbage collected, not the previous one's.
		runtime.GC()
		log.Info("load", "phase", p.name, "rate", p.rate, "duration", p.dur)
		g.run(ctx, p)
		ph := p.report(opt.MaxP99)
		log.Info("load done", "phase", p.name, "sent", ph.Sent, "failed", ph.Failed,
			"p99_response_ms", ph.Response.P99, "bot_cpu_pct", ph.CPU.BotPercent)
		return ph
	}

	first := opt.Rate
	if opt.FindMax {
		first = opt.Steps[0]
	}
	if opt.Warmup > 0 {
		w := newPhase("warmup", first, opt.Warmup, false)
		w.ramp = true
		rep.Warmup = runPhase(w)
		g.settle(ctx)
	}
	if opt.FindMax {
		rep.FindMax, rep.Phases = g.findMax(ctx, opt, runPhase)
	} else if ctx.Err() == nil {
		var profiled chan error
		if opt.BotCPUProfile != "" {
			profiled = make(chan error, 1)
			go func() { profiled <- b.cpuProfile(ctx, opt.Duration, opt.BotCPUProfile) }()
		}
		rep.Phases = append(rep.Phases, runPhase(newPhase("run", opt.Rate, opt.Duration, true)))
		if profiled != nil {
			if err := <-profiled; err != nil {
				return nil, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load test interrupted: %w", err)
	}

	// Let an overloaded bot work off its backlog before asking it to stop, so the shutdown
	// measured is the one a rolling deploy would see, not the tail of the overload.
	g.settle(ctx)
	rep.Bot.PeakRSSBytes, _ = ProcStatusBytes(b.pid(), "VmHWM")
	rep.Bot.CPUSeconds, _ = procCPU(b.pid(), false)
	rep.Generator.PeakRSSBytes, _ = ProcStatusBytes(os.Getpid(), "VmHWM")
	rep.Generator.CPUSeconds, _ = procCPU(os.Getpid(), false)
	stopped = true
	took, killed, err := b.stop()
	if err != nil {
		return nil, err
	}
	rep.Bot.ShutdownSeconds, rep.Bot.Killed = took.Seconds(), killed
	rep.Bot.LogLines = b.logLines()
	if rep.Bot.LogLines > 0 {
		rep.Bot.LogTail = b.logTail()
	}
	st := emu.Stats()
	rep.Emulator = EmulatorStats{
		Envelopes: st.EnvelopesSent, Acked: st.Acked, LateAcks: st.LateAcks, DispatchFailed: st.DispatchFailed,
		RefusedAcks: st.RefusedAcks, OversizeAcks: st.OversizeAcks, SendQueueFull: st.SendQueueFull,
		ResponseURLPosts: st.APICalls["response_url"], APICalls: st.APICalls,
	}

	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if rep.Verify, err = verify(vctx, db, m); err != nil {
		return nil, err
	}
	rep.finish()
	return rep, nil
}

// settle waits for the bot to go quiet between stretches of load: after an overloaded step it can
// still be finishing handlers whose envelopes Slack gave up on, which would otherwise count
// against the next step.
func (g *generator) settle(ctx context.Context) {
	const window = 500 * time.Millisecond
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		before, err := procCPU(g.res.botPID, false)
		if err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(window):
		}
		after, err := procCPU(g.res.botPID, false)
		// Below a tenth of a core the bot is only keeping its links and pool alive.
		if err != nil || (after-before)/window.Seconds() < 0.1 {
			return
		}
	}
}

// findMax runs the steps until one fails, then narrows the gap to the last passing rate. It
// returns the result and every step run, in order.
func (g *generator) findMax(ctx context.Context, opt Options, run func(*phase) *Phase) (*FindMax, []*Phase) {
	fm := &FindMax{Criterion: fmt.Sprintf("p99 response ≤ %s and no failures", opt.MaxP99)}
	var steps []*Phase
	step := func(rate float64) bool {
		ph := run(newPhase(fmt.Sprintf("step %g/s", rate), rate, opt.StepDuration, true))
		steps = append(steps, ph)
		if ph.Pass && rate > fm.MaxRate {
			fm.MaxRate = rate
		}
		g.settle(ctx)
		return ph.Pass
	}
	lastPass, firstFail := 0.0, 0.0
	for _, rate := range opt.Steps {
		if ctx.Err() != nil {
			return fm, steps
		}
		if !step(rate) {
			firstFail = rate
			break
		}
		lastPass = rate
	}
	for range max(opt.Refine, 0) {
		if firstFail == 0 || ctx.Err() != nil {
			break
		}
		// Rates are rounded to 50/s: finer than that is below the run-to-run noise.
		mid := float64(int((lastPass+firstFail)/2/50) * 50)
		if mid <= lastPass || mid >= firstFail {
			break
		}
		if step(mid) {
			lastPass = mid
		} else {
			firstFail = mid
		}
	}
	return fm, steps
}
