package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/slackemu"
)

// FanoutOptions configures RunFanout: how fast the bot sends a week's nudges when many members
// fall due at once. Zero values get the defaults noted.
type FanoutOptions struct {
	// Nudges is how many enrolled members are due for their weekly nudge when the bot starts;
	// default 10,000.
	Nudges int
	// LimitPerMinute is the emulator's limit on chat.postMessage, answered beyond it with 429
	// and Retry-After as Slack does; 0 leaves Slack unthrottled.
	LimitPerMinute int
	// Burst is how many calls the emulator lets through at once before the limit bites; default
	// LimitPerMinute (a minute's worth, the emulator's default).
	Burst int
	// Connections is the bot's SOCKET_CONNECTIONS; default as in Options.
	Connections int
	// Timeout is how long to wait for every nudge; default 5 min, plus twice the time the limit
	// needs when throttled.
	Timeout time.Duration

	BotBinary   string   // default os.Executable()
	DatabaseURL string   // a loopback Postgres; empty starts a throwaway durable cluster
	Env         []string // the bot's base environment; default os.Environ()
	// BotCPUProfile, when set, turns on the bot's pprof endpoint and writes a CPU profile of the
	// bot's first ProfileFor (default 20 s) after it is ready to this file.
	BotCPUProfile string
	ProfileFor    time.Duration
	Log           *slog.Logger
}

// maxNudges bounds a mistyped -nudges.
const maxNudges = 1_000_000

func (o *FanoutOptions) setDefaults() error {
	if o.Nudges == 0 {
		o.Nudges = 10_000
	}
	if o.Burst == 0 {
		o.Burst = o.LimitPerMinute
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
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
		if o.LimitPerMinute > 0 {
			o.Timeout += 2 * idealSpread(o.Nudges, o.LimitPerMinute, o.Burst)
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ProfileFor == 0 {
		o.ProfileFor = 20 * time.Second
	}
	if o.BotBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the pathbot binary to run: %w", err)
		}
		o.BotBinary = exe
	}
	var errs []error
	if o.Nudges < 1 || o.Nudges > maxNudges {
		errs = append(errs, fmt.Errorf("nudges %d: must be between 1 and %d", o.Nudges, maxNudges))
	}
	if o.LimitPerMinute < 0 || o.Burst < 0 {
		errs = append(errs, fmt.Errorf("nudge limit %d/min, burst %d: must not be negative", o.LimitPerMinute, o.Burst))
	}
	if o.Connections < 1 || o.Connections > 10 {
		errs = append(errs, fmt.Errorf("connections %d: Slack allows 1 to 10 Socket Mode connections per app", o.Connections))
	}
	if o.Timeout < time.Second || o.Timeout > 6*time.Hour {
		errs = append(errs, fmt.Errorf("timeout %s: must be between 1s and 6h", o.Timeout))
	}
	return errors.Join(errs...)
}

// idealSpread is how long a client that wastes nothing needs from its first to its last message
// under the emulator's token bucket: the burst goes at once, the rest at the limit.
func idealSpread(n, perMinute, burst int) time.Duration {
	if perMinute <= 0 || n <= burst {
		return 0
	}
	return time.Duration(float64(n-burst) / (float64(perMinute) / 60) * float64(time.Second))
}

// FanoutReport is what RunFanout measured. Times are seconds.
type FanoutReport struct {
	Started        time.Time         `json:"started"`
	Machine        Machine           `json:"machine"`
	Config         FanoutConfig      `json:"config"`
	PostgresSource string            `json:"postgres_source"`
	Postgres       map[string]string `json:"postgres_settings"`
	BotPID         int               `json:"bot_pid"`

	// From the moment the bot process was started: ready (Socket Mode connected, /readyz
	// answering), first and last nudge DM. Spread is first to last DM.
	ReadySeconds   float64 `json:"ready_seconds"`
	FirstDMSeconds float64 `json:"first_dm_seconds"`
	LastDMSeconds  float64 `json:"last_dm_seconds"`
	SpreadSeconds  float64 `json:"spread_seconds"`
	// Rate is nudges per second from the first DM to the last.
	Rate float64 `json:"nudges_per_second"`

	// Throttled runs: the limit, and the rates achieved against it. Sustained counts every nudge
	// past the burst over the whole spread (100% = no time lost at all next to a client that
	// wastes nothing). Limited counts from the moment Slack's bucket first ran dry (replayed from
	// the messages' timestamps) to the last DM: how fully the bot used the limit while it was
	// the bottleneck. LimitedFromSeconds is 0 when the bucket never ran dry.
	LimitPerMinute     int     `json:"limit_per_minute,omitempty"`
	Burst              int     `json:"burst,omitempty"`
	IdealSpread        float64 `json:"ideal_spread_seconds,omitempty"`
	SustainedPerMin    float64 `json:"sustained_per_minute,omitempty"`
	SustainedPercent   float64 `json:"sustained_percent_of_limit,omitempty"`
	LimitedFromSeconds float64 `json:"limited_from_seconds,omitempty"`
	LimitedPerMin      float64 `json:"limited_per_minute,omitempty"`
	LimitedPercent     float64 `json:"limited_percent_of_limit,omitempty"`

	// What Slack saw: chat.postMessage calls and the 429s among them, and every method's calls.
	PostMessageCalls int64            `json:"post_message_calls"`
	RateLimited      int64            `json:"rate_limited_429"`
	APICalls         map[string]int64 `json:"api_calls"`

	// Correctness, from the emulator's message store: every member must have exactly one nudge
	// DM. Duplicates counts the extra messages, Missing the members with none.
	Members     int            `json:"members"`
	Nudged      int            `json:"nudged"`
	Duplicates  int            `json:"duplicates"`
	Missing     int            `json:"missing"`
	Examples    []string       `json:"examples,omitempty"`
	Deliveries  map[string]int `json:"deliveries"` // the bot's delivery records by status
	JobStates   map[string]int `json:"job_states"` // River nudge jobs by state at the end
	TimedOut    bool           `json:"timed_out"`
	Bot         ProcessStats   `json:"bot"`
	BotCPUPerDM float64        `json:"bot_cpu_us_per_nudge"`
	// CPU is what each party used from the bot's start to the last nudge (BotCPUPerRequest is
	// per nudge); OtherPercent is the rest of the machine, which makes the times above noisy.
	CPU  CPU  `json:"cpu"`
	Pass bool `json:"pass"`
}

// FanoutConfig is what was asked for.
type FanoutConfig struct {
	Nudges      int               `json:"nudges"`
	Connections int               `json:"connections"`
	DBMaxConns  int               `json:"db_max_conns"`
	JobWorkers  int               `json:"job_workers"`
	BotBinary   string            `json:"bot_binary"`
	BotTuning   map[string]string `json:"bot_tuning,omitempty"`
}

// RunFanout makes Nudges members' weekly nudges due, starts the bot and measures how long it
// takes to send them all, how close to Slack's limit it gets when throttled, and whether every
// member got exactly one. The error is about the run itself; a bot that lost or doubled nudges
// is in the report, see FanoutReport.Err.
func RunFanout(ctx context.Context, opt FanoutOptions) (*FanoutReport, error) {
	if err := opt.setDefaults(); err != nil {
		return nil, err
	}
	log := opt.Log
	rep := &FanoutReport{Started: time.Now().UTC(), Machine: machineInfo(), Members: opt.Nudges,
		LimitPerMinute: opt.LimitPerMinute}
	if opt.LimitPerMinute > 0 {
		rep.Burst = opt.Burst
		rep.IdealSpread = idealSpread(opt.Nudges, opt.LimitPerMinute, opt.Burst).Seconds()
	}
	r, err := newRig(ctx, log, rigOptions{databaseURL: opt.DatabaseURL, teamPrefix: "TNUDGE", users: opt.Nudges,
		env: opt.Env, pprof: opt.BotCPUProfile != "", connections: opt.Connections})
	if err != nil {
		return nil, err
	}
	defer r.close(ctx)
	workDir, team, db, emu, env, cfg := r.workDir, r.team, r.db, r.emu, r.env, r.cfg
	rep.Postgres, rep.PostgresSource = r.pgSettings, r.pgSource
	if opt.LimitPerMinute > 0 {
		emu.SetMethodLimitBurst("chat.postMessage", opt.LimitPerMinute, opt.Burst)
	}

	// Enrolled members whose nudge fell due a minute ago, with names and time zones already
	// fetched (so the sweep goes straight to enqueueing) and no DM channel known yet, as in the
	// first week after a team adopts pathbot.
	log.Info("seeding due members", "members", opt.Nudges)
	for _, q := range []string{
		`INSERT INTO teams (team_id) VALUES ($1)`,
		`INSERT INTO members (team_id, user_id, display_name, tz, tz_checked_at, next_nudge_at)
		 SELECT $1, 'UL' || lpad(i::text, 7, '0'), 'Load User ' || i, 'UTC', now(), now() - interval '1 minute'
		 FROM generate_series(0, $2 - 1) AS i`,
	} {
		args := []any{team}
		if strings.Contains(q, "$2") {
			args = append(args, opt.Nudges)
		}
		if _, err := db.pool.Exec(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("seed members: %w", err)
		}
	}

	rep.Config = FanoutConfig{Nudges: opt.Nudges, Connections: opt.Connections, DBMaxConns: int(cfg.DBMaxConns),
		JobWorkers: cfg.JobWorkers, BotBinary: opt.BotBinary}
	rep.Config.BotTuning = r.botTuning()

	log.Info("starting the bot", "binary", opt.BotBinary, "limit_per_minute", opt.LimitPerMinute)
	res := newResources(0, db.postmaster)
	before := res.sample()
	start := time.Now()
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
	rep.ReadySeconds = time.Since(start).Seconds()
	var profiled chan error
	if opt.BotCPUProfile != "" {
		profiled = make(chan error, 1)
		go func() { profiled <- b.cpuProfile(ctx, opt.ProfileFor, opt.BotCPUProfile) }()
	}

	rep.TimedOut = !waitNudges(ctx, emu, opt.Nudges, start.Add(opt.Timeout), log)
	res.botPID = b.pid()
	u := res.since(before)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nudge fan-out interrupted: %w", err)
	}
	// Let the bot finish what it has in flight, so a late duplicate would be seen.
	settleJobs(ctx, db, team, 10*time.Second)
	if profiled != nil {
		if err := <-profiled; err != nil {
			return nil, err
		}
	}

	rep.Bot.PeakRSSBytes, _ = ProcStatusBytes(b.pid(), "VmHWM")
	rep.Bot.CPUSeconds, _ = procCPU(b.pid(), false)
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
	rep.APICalls = st.APICalls
	rep.PostMessageCalls = st.APICalls["chat.postMessage"]
	rep.RateLimited = st.APIResults["chat.postMessage"]["429"]
	rep.count(emu, r.users, start)
	if rep.Deliveries, err = countBy(ctx, db, `SELECT status, count(*) FROM deliveries WHERE team_id = $1 AND kind = 'nudge' GROUP BY status`, team); err != nil {
		return nil, err
	}
	if rep.JobStates, err = countBy(ctx, db, `SELECT state::text, count(*) FROM river_job WHERE kind = 'nudge' AND args->>'team_id' = $1 GROUP BY state`, team); err != nil {
		return nil, err
	}
	if rep.Nudged > 0 && rep.Bot.CPUSeconds > 0 {
		rep.BotCPUPerDM = 1e6 * rep.Bot.CPUSeconds / float64(rep.Nudged)
	}
	if secs := u.Wall.Seconds(); secs > 0 {
		// The bot did not exist at the first sample (it counts as 0): all its CPU time is in this one.
		rep.CPU = CPU{BotSeconds: u.Bot, GeneratorSeconds: u.Gen, PostgresSeconds: u.Postgres}
		rep.CPU.BotPercent = 100 * rep.CPU.BotSeconds / secs
		rep.CPU.GeneratorPercent = 100 * u.Gen / secs
		rep.CPU.PostgresPercent = 100 * u.Postgres / secs
		if u.MachineAll > 0 {
			rep.CPU.MachineBusyPercent = 100 * u.MachineBusy / u.MachineAll
			rep.CPU.OtherPercent = max(0, 100*(u.MachineBusy-rep.CPU.BotSeconds-u.Gen-u.Postgres)/secs)
		}
		if rep.Nudged > 0 {
			rep.CPU.BotCPUPerRequest = 1e6 * rep.CPU.BotSeconds / float64(rep.Nudged)
		}
	}
	rep.Pass = rep.Err() == nil
	return rep, nil
}

// waitNudges waits until n nudges were accepted by Slack or the deadline passes, logging progress.
func waitNudges(ctx context.Context, emu *slackemu.Server, n int, deadline time.Time, log *slog.Logger) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		ok := emu.Stats().APIResults["chat.postMessage"]["ok"]
		if ok >= int64(n) {
			return true
		}
		if time.Now().After(deadline) {
			log.Warn("gave up waiting for the nudges", "sent", ok, "want", n)
			return false
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			log.Info("nudging", "sent", ok, "of", n)
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// settleJobs waits up to d for the bot to have no nudge job of team left to run.
func settleJobs(ctx context.Context, db *database, team string, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var left int
		err := db.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'nudge' AND args->>'team_id' = $1
		    AND state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`, team).Scan(&left)
		if err != nil || left == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A message posted by a job that was still finishing shows up now, not after the count.
	time.Sleep(500 * time.Millisecond)
}

func countBy(ctx context.Context, db *database, q string, args ...any) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// count reads every member's DM from the emulator: one nudge each, and when they were sent.
func (r *FanoutReport) count(emu *slackemu.Server, users []string, start time.Time) {
	var times []time.Time
	for _, u := range users {
		n := 0
		for _, m := range emu.Messages(emu.DMChannel(u)) {
			if !strings.Contains(string(m.Blocks), "pathbot-nudge-") {
				continue
			}
			n++
			if t, ok := tsTime(m.TS); ok {
				times = append(times, t)
			}
		}
		switch {
		case n == 0:
			r.Missing++
			r.example("%s got no nudge", u)
		case n > 1:
			r.Duplicates += n - 1
			r.example("%s got %d nudges", u, n)
		}
		if n > 0 {
			r.Nudged++
		}
	}
	if len(times) == 0 {
		return
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	first, last := times[0], times[len(times)-1]
	r.FirstDMSeconds = first.Sub(start).Seconds()
	r.LastDMSeconds = last.Sub(start).Seconds()
	spread := last.Sub(first).Seconds()
	r.SpreadSeconds = spread
	if spread > 0 {
		r.Rate = float64(len(times)-1) / spread
	}
	if r.LimitPerMinute <= 0 || spread <= 0 {
		return
	}
	if len(times) > r.Burst {
		r.SustainedPerMin = 60 * float64(len(times)-r.Burst) / spread
		r.SustainedPercent = 100 * r.SustainedPerMin / float64(r.LimitPerMinute)
	}
	// Replay the emulator's bucket: full at the first DM, refilled continuously, one token a DM.
	rate := float64(r.LimitPerMinute) / 60
	tokens, prev := float64(r.Burst), first
	for k, t := range times {
		tokens = math.Min(float64(r.Burst), tokens+t.Sub(prev).Seconds()*rate) - 1
		prev = t
		if tokens < 1 && k < len(times)-1 {
			if w := last.Sub(t).Seconds(); w > 0 {
				r.LimitedFromSeconds = t.Sub(start).Seconds()
				r.LimitedPerMin = 60 * float64(len(times)-1-k) / w
				r.LimitedPercent = 100 * r.LimitedPerMin / float64(r.LimitPerMinute)
			}
			break
		}
	}
}

func (r *FanoutReport) example(format string, args ...any) {
	if len(r.Examples) < maxExamples {
		r.Examples = append(r.Examples, fmt.Sprintf(format, args...))
	}
}

// tsTime reads a Slack message timestamp ("1700000000.000100").
func tsTime(ts string) (time.Time, bool) {
	sec, frac, ok := strings.Cut(ts, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return time.Unix(s, us*1000), true
}

// Err says why the run failed: a nudge lost or sent twice, or one not recorded as sent.
func (r *FanoutReport) Err() error {
	var parts []string
	if r.Missing > 0 {
		parts = append(parts, fmt.Sprintf("%d members got no nudge", r.Missing))
	}
	if r.Duplicates > 0 {
		parts = append(parts, fmt.Sprintf("%d duplicate nudges", r.Duplicates))
	}
	if r.TimedOut {
		parts = append(parts, "timed out")
	}
	if sent := r.Deliveries["sent"]; sent != r.Members {
		parts = append(parts, fmt.Sprintf("%d of %d deliveries recorded as sent (%v)", sent, r.Members, r.Deliveries))
	}
	if r.Bot.Killed {
		parts = append(parts, "the bot had to be killed")
	}
	if len(parts) == 0 {
		return nil
	}
	return errors.New(strings.Join(parts, "; "))
}

// Text renders the report for a terminal.
func (r *FanoutReport) Text() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "pathbot nudge fan-out, %s\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "machine     %s, %d cores, %.1f GiB, %s, %s\n", r.Machine.CPUModel, r.Machine.Cores,
		float64(r.Machine.MemoryBytes)/(1<<30), r.Machine.OS, r.Machine.GoVersion)
	fmt.Fprintf(&b, "postgres    %s %s: %s\n", r.PostgresSource, r.Postgres["server_version"], pgSettings(r.Postgres))
	fmt.Fprintf(&b, "bot         %s serve, pid %d, JOB_WORKERS=%d, DB_MAX_CONNS=%d, SOCKET_CONNECTIONS=%d", c.BotBinary, r.BotPID,
		c.JobWorkers, c.DBMaxConns, c.Connections)
	for _, k := range slices.Sorted(maps.Keys(c.BotTuning)) {
		fmt.Fprintf(&b, ", %s=%s", k, c.BotTuning[k])
	}
	b.WriteString("\n")
	if r.LimitPerMinute > 0 {
		fmt.Fprintf(&b, "slack       chat.postMessage limited to %d/min (%.1f/s), bursts of %d\n", r.LimitPerMinute, float64(r.LimitPerMinute)/60, r.Burst)
	} else {
		b.WriteString("slack       unthrottled\n")
	}
	fmt.Fprintf(&b, "load        %d members due when the bot starts\n\n", c.Nudges)

	fmt.Fprintf(&b, "bot ready        %6.2f s after start\n", r.ReadySeconds)
	fmt.Fprintf(&b, "first nudge DM   %6.2f s after start\n", r.FirstDMSeconds)
	fmt.Fprintf(&b, "last nudge DM    %6.2f s after start\n", r.LastDMSeconds)
	fmt.Fprintf(&b, "first → last     %6.2f s: %.0f nudges/s\n", r.SpreadSeconds, r.Rate)
	if r.LimitPerMinute > 0 {
		fmt.Fprintf(&b, "limit            %d/min; a client wasting nothing needs %.1f s first → last\n", r.LimitPerMinute, r.IdealSpread)
		if r.SustainedPerMin > 0 {
			fmt.Fprintf(&b, "sustained        %.0f/min past the burst over the whole spread = %.1f%% of the limit\n",
				r.SustainedPerMin, r.SustainedPercent)
		}
		if r.LimitedFromSeconds > 0 {
			fmt.Fprintf(&b, "at the limit     Slack's bucket ran dry %.2f s after start; from then %.0f/min = %.1f%% of the limit\n",
				r.LimitedFromSeconds, r.LimitedPerMin, r.LimitedPercent)
		} else {
			b.WriteString("at the limit     never: Slack's bucket never ran dry (raise -nudges or lower -nudge-burst)\n")
		}
	}
	fmt.Fprintf(&b, "chat.postMessage %d calls, %d answered 429", r.PostMessageCalls, r.RateLimited)
	var others []string
	for _, m := range slices.Sorted(maps.Keys(r.APICalls)) {
		if m != "chat.postMessage" && m != "apps.connections.open" && m != "auth.test" {
			others = append(others, fmt.Sprintf("%s %d", m, r.APICalls[m]))
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, "; other calls: %s", strings.Join(others, ", "))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "\ncorrectness      %d members: %d nudged, %d missing, %d duplicates; deliveries %v; jobs %v\n",
		r.Members, r.Nudged, r.Missing, r.Duplicates, r.Deliveries, r.JobStates)
	for _, ex := range r.Examples {
		fmt.Fprintf(&b, "                 %s\n", ex)
	}
	cpu := r.CPU
	fmt.Fprintf(&b, "CPU to last DM   bot %.0f%%, postgres %.0f%%, emulator+harness %.0f%%, other %.0f%% (of one core); machine %.0f%% busy\n",
		cpu.BotPercent, cpu.PostgresPercent, cpu.GeneratorPercent, cpu.OtherPercent, cpu.MachineBusyPercent)
	if cpu.OtherPercent > busyOther {
		fmt.Fprintf(&b, "warning: other work on the machine used %.0f%% of a core; the times above understate what pathbot can do\n", cpu.OtherPercent)
	}
	fmt.Fprintf(&b, "bot              peak RSS %.1f MiB, %.1f CPU s (%.0f µs per nudge), %d log lines at warn+, exited %.1f s after SIGTERM\n",
		float64(r.Bot.PeakRSSBytes)/(1<<20), r.Bot.CPUSeconds, r.BotCPUPerDM, r.Bot.LogLines, r.Bot.ShutdownSeconds)
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "result           FAIL: %v\n", err)
	} else {
		b.WriteString("result           pass: every member got exactly one nudge\n")
	}
	if r.Bot.LogTail != "" {
		b.WriteString(r.Bot.LogTail + "\n")
	}
	return b.String()
}
