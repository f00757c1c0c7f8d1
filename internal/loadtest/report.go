package loadtest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is everything a run measured. Latencies are in milliseconds, from the time each request
// was due to be sent.
type Report struct {
	Started        time.Time         `json:"started"`
	Machine        Machine           `json:"machine"`
	Config         RunConfig         `json:"config"`
	PostgresSource string            `json:"postgres_source"`
	Postgres       map[string]string `json:"postgres_settings"`
	BotPID         int               `json:"bot_pid"`
	Warmup         *Phase            `json:"warmup,omitempty"`
	// Phases holds the measured run, or every step of -find-max.
	Phases    []*Phase      `json:"phases"`
	FindMax   *FindMax      `json:"find_max,omitempty"`
	Bot       ProcessStats  `json:"bot"`
	Generator ProcessStats  `json:"generator"`
	Emulator  EmulatorStats `json:"emulator"`
	Verify    Verification  `json:"verify"`
	// Failures counts every request that failed or got the wrong answer, warm-up included, by
	// kind; Pass is true when there are none and the database matches.
	Failures map[string]int64 `json:"failures"`
	Pass     bool             `json:"pass"`
}

// Machine is the host the run was on.
type Machine struct {
	CPUModel    string `json:"cpu_model"`
	Cores       int    `json:"cores"`
	MemoryBytes int64  `json:"memory_bytes"`
	Kernel      string `json:"kernel,omitempty"`
	OS          string `json:"os"`
	GoVersion   string `json:"go_version"`
}

// RunConfig is what was asked for.
type RunConfig struct {
	Rate         float64 `json:"rate"`
	Duration     string  `json:"duration"`
	Warmup       string  `json:"warmup"`
	Users        int     `json:"users"`
	Connections  int     `json:"connections"`
	DBMaxConns   int     `json:"db_max_conns"`
	BotBinary    string  `json:"bot_binary"`
	FindMax      bool    `json:"find_max"`
	StepDuration string  `json:"step_duration,omitempty"`
	MaxP99Ms     float64 `json:"max_p99_ms"`
	Seed         uint64  `json:"seed"`
	Readings     int     `json:"readings"`
	// BotTuning holds the runtime and pool settings found in the bot's environment.
	BotTuning map[string]string `json:"bot_tuning,omitempty"`
	// GeneratorProcs is GOMAXPROCS of the load generator's process.
	GeneratorProcs int `json:"generator_procs"`
	// BotNice and PostgresNice are the niceness the bot and Postgres ran at (Options.Nice); the
	// generator's is 0.
	BotNice      int `json:"bot_nice"`
	PostgresNice int `json:"postgres_nice"`
}

// Phase is one stretch of load at one rate.
type Phase struct {
	Name       string  `json:"name"`
	TargetRate float64 `json:"target_rate"`
	Seconds    float64 `json:"seconds"`
	Ramp       bool    `json:"ramp,omitempty"` // the rate rose from 0 to TargetRate: half as many sent
	Sent       int64   `json:"sent"`
	Answered   int64   `json:"answered"`
	Failed     int64   `json:"failed"`
	// StartedAt is when the first request was due, the zero of PerSecond's offsets, to line
	// them up with the bot's and Postgres's logs.
	StartedAt time.Time `json:"started_at"`
	// AchievedRate is requests sent per second over the sending window; AnsweredRate is answers
	// per second from the first due time to the last answer.
	AchievedRate float64            `json:"achieved_rate"`
	AnsweredRate float64            `json:"answered_rate"`
	Ack          Latency            `json:"ack_ms"`
	Response     Latency            `json:"response_ms"`
	SendLag      Latency            `json:"send_lag_ms"`
	ByKind       map[string]KindRow `json:"by_kind"`
	Errors       map[string]int64   `json:"errors"`
	CPU          CPU                `json:"cpu"`
	Pass         bool               `json:"pass"`
	// PerSecond is the response latency second by second, to tell when the tail happened and
	// so what caused it (a sweep, a checkpoint, GC). Empty for the warm-up.
	PerSecond []SecondStat `json:"per_second,omitempty"`
}

// KindRow is one command kind's share and answer latency.
type KindRow struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
}

// Latency is a distribution summary in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// CPU is the CPU time each party used during a phase: seconds, and percent of one core
// (200% is two cores busy).
type CPU struct {
	BotSeconds         float64 `json:"bot_seconds"`
	BotPercent         float64 `json:"bot_percent"`
	GeneratorSeconds   float64 `json:"generator_seconds"`
	GeneratorPercent   float64 `json:"generator_percent"`
	PostgresSeconds    float64 `json:"postgres_seconds"`
	PostgresPercent    float64 `json:"postgres_percent"`
	MachineBusyPercent float64 `json:"machine_busy_percent"` // of all cores together, 100% = saturated
	// OtherPercent is CPU used by everything else on the machine, in percent of one core: a
	// high value means the numbers were taken on a busy machine.
	OtherPercent float64 `json:"other_percent"`
	// BotCPUPerRequest is the bot's CPU time per request sent, in microseconds.
	BotCPUPerRequest float64 `json:"bot_cpu_us_per_request"`
	// GeneratorCPUPerRequest is the same for the load generator with the Slack emulator: CPU
	// the bot and Postgres do not get on a shared machine.
	GeneratorCPUPerRequest float64 `json:"generator_cpu_us_per_request"`
}

// ProcessStats describes a whole process over the whole run.
type ProcessStats struct {
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	// ShutdownSeconds is how long the bot took to exit after SIGTERM; Killed is true when it
	// had not exited within 30 s and was killed, as an orchestrator would.
	ShutdownSeconds float64 `json:"shutdown_seconds,omitempty"`
	Killed          bool    `json:"killed,omitempty"`
	LogLines        int     `json:"log_lines,omitempty"`
	LogTail         string  `json:"log_tail,omitempty"`
}

// EmulatorStats is what the emulated Slack counted.
type EmulatorStats struct {
	Envelopes        int64            `json:"envelopes"`
	Acked            int64            `json:"acked"`
	LateAcks         int64            `json:"late_acks"`
	DispatchFailed   int64            `json:"dispatch_failed"`
	RefusedAcks      int64            `json:"refused_acks"`
	OversizeAcks     int64            `json:"oversize_acks"`
	SendQueueFull    int64            `json:"send_queue_full"`
	ResponseURLPosts int64            `json:"response_url_posts"`
	APICalls         map[string]int64 `json:"api_calls"`
}

// FindMax is the result of stepping the rate up; the steps are the report's phases.
type FindMax struct {
	Criterion string  `json:"criterion"`
	MaxRate   float64 `json:"max_rate"` // 0 when no step passed
}

// busyOther is the CPU other processes may use during a phase, in percent of one core, before the
// report warns that the machine was not quiet enough for the numbers to mean much.
const busyOther = 15

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(h *hdrhistogram.Histogram) Latency {
	q := func(p float64) float64 { return float64(h.ValueAtQuantile(p)) / 1000 }
	return Latency{Count: h.TotalCount(), P50: q(50), P90: q(90), P95: q(95), P99: q(99), P999: q(99.9), Max: float64(h.Max()) / 1000}
}

// report summarizes a finished phase; pass applies the -find-max bar.
func (p *phase) report(maxP99 time.Duration) *Phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph := &Phase{
		Name: p.name, StartedAt: p.started.UTC(), TargetRate: p.rate, Seconds: p.dur.Seconds(), Ramp: p.ramp, Sent: p.sent.Load(),
		Answered: p.answered, Failed: p.failed, Errors: maps.Clone(p.errs),
		Ack: summarize(p.ack), Response: summarize(p.resp), SendLag: summarize(p.lag),
		ByKind: map[string]KindRow{}, PerSecond: p.perSec.rows(),
	}
	if w := p.lastSent.Sub(p.started).Seconds(); w > 0 && ph.Sent > 1 {
		// n requests span n-1 intervals; counting it that way gives the target rate exactly when
		// the generator kept up.
		ph.AchievedRate = float64(ph.Sent-1) / max(w, float64(ph.Sent-1)/p.rate)
	}
	if w := p.lastDone.Sub(p.started).Seconds(); w > 0 {
		ph.AnsweredRate = float64(ph.Answered) / w
	}
	for k := range numKinds {
		if p.kinds[k] > 0 {
			h := p.byKind[k]
			ph.ByKind[k.String()] = KindRow{Count: p.kinds[k], P50: float64(h.ValueAtQuantile(50)) / 1000, P99: float64(h.ValueAtQuantile(99)) / 1000}
		}
	}
	u := p.usage
	if secs := u.Wall.Seconds(); secs > 0 {
		ph.CPU = CPU{
			BotSeconds: u.Bot, BotPercent: 100 * u.Bot / secs,
			GeneratorSeconds: u.Gen, GeneratorPercent: 100 * u.Gen / secs,
			PostgresSeconds: u.Postgres, PostgresPercent: 100 * u.Postgres / secs,
		}
		if u.MachineAll > 0 {
			ph.CPU.MachineBusyPercent = 100 * u.MachineBusy / u.MachineAll
			ph.CPU.OtherPercent = max(0, 100*(u.MachineBusy-u.Bot-u.Gen-u.Postgres)/secs)
		}
		if ph.Sent > 0 {
			ph.CPU.BotCPUPerRequest = 1e6 * u.Bot / float64(ph.Sent)
			ph.CPU.GeneratorCPUPerRequest = 1e6 * u.Gen / float64(ph.Sent)
		}
	}
	var errs int64
	for _, n := range ph.Errors {
		errs += n
	}
	ph.Pass = errs == 0 && ph.Failed == 0 && ph.Response.P99 <= ms(maxP99)
	return ph
}

// finish totals the failures and decides Pass.
func (r *Report) finish() {
	r.Failures = map[string]int64{}
	phases := r.Phases
	if r.Warmup != nil {
		phases = append([]*Phase{r.Warmup}, phases...)
	}
	for _, p := range phases {
		for k, n := range p.Errors {
			r.Failures[k] += n
		}
	}
	if r.Verify.Lost > 0 {
		r.Failures["lost_writes"] = int64(r.Verify.Lost)
	}
	if r.Verify.Extra > 0 {
		r.Failures["extra_writes"] = int64(r.Verify.Extra)
	}
	if r.Bot.Killed {
		r.Failures["shutdown_killed"] = 1
	}
	r.Pass = len(r.Failures) == 0
}

// Err says why the run did not pass: a plain load test passes with no failure at all and a
// database that matches; -find-max only needs the database to match, since the steps past the
// maximum fail by design.
func (r *Report) Err() error {
	if r.Verify.Lost > 0 || r.Verify.Extra > 0 {
		return fmt.Errorf("the database does not match the answers: %d lost and %d extra writes", r.Verify.Lost, r.Verify.Extra)
	}
	if r.FindMax != nil {
		if r.FindMax.MaxRate == 0 {
			return errors.New("no step passed")
		}
		return nil
	}
	if !r.Pass {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Failures)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Failures[k]))
		}
		return fmt.Errorf("failures: %s", strings.Join(parts, ", "))
	}
	return nil
}

// Text renders the report for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "pathbot load test, %s\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "machine   %s, %d cores, %.1f GiB, %s, %s\n", r.Machine.CPUModel, r.Machine.Cores,
		float64(r.Machine.MemoryBytes)/(1<<30), r.Machine.OS, r.Machine.GoVersion)
	fmt.Fprintf(&b, "postgres  %s %s: %s\n", r.PostgresSource, r.Postgres["server_version"], pgSettings(r.Postgres))
	fmt.Fprintf(&b, "bot       %s serve, pid %d, SOCKET_CONNECTIONS=%d, DB_MAX_CONNS=%d", c.BotBinary, r.BotPID, c.Connections, c.DBMaxConns)
	for _, k := range slices.Sorted(maps.Keys(c.BotTuning)) {
		fmt.Fprintf(&b, ", %s=%s", k, c.BotTuning[k])
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "priority  load generator and emulator nice 0, bot nice %d, postgres nice %d\n", c.BotNice, c.PostgresNice)
	if c.FindMax {
		fmt.Fprintf(&b, "load      find-max, %s per step, %d users, warm-up %s ramping up, mix 50%% status · 15%% next/list · 20%% done/undo · 10%% oncall · 5%% bad input\n",
			c.StepDuration, c.Users, c.Warmup)
	} else {
		fmt.Fprintf(&b, "load      %g req/s for %s, %d users, warm-up %s ramping up, mix 50%% status · 15%% next/list · 20%% done/undo · 10%% oncall · 5%% bad input\n",
			c.Rate, c.Duration, c.Users, c.Warmup)
	}
	b.WriteString("\nlatency from each request's due time, ms\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\ttarget/s\tachieved/s\tsent\tfailed\t\tp50\tp90\tp95\tp99\tp99.9\tmax\tbot CPU\tpg CPU\tgen CPU\tother\tmachine\t")
	for _, p := range r.Phases {
		for i, l := range []struct {
			name string
			lat  Latency
		}{{"ack", p.Ack}, {"response", p.Response}} {
			head := "\t\t\t\t\t"
			cpu := "\t\t\t\t\t"
			if i == 0 {
				head = fmt.Sprintf("%s\t%g\t%.0f\t%d\t%d\t", p.Name, p.TargetRate, p.AchievedRate, p.Sent, p.Failed)
				cpu = fmt.Sprintf("%.0f%%\t%.0f%%\t%.0f%%\t%.0f%%\t%.0f%%", p.CPU.BotPercent, p.CPU.PostgresPercent,
					p.CPU.GeneratorPercent, p.CPU.OtherPercent, p.CPU.MachineBusyPercent)
			}
			fmt.Fprintf(tw, "%s%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", head, l.name,
				l.lat.P50, l.lat.P90, l.lat.P95, l.lat.P99, l.lat.P999, l.lat.Max, cpu)
		}
	}
	_ = tw.Flush()
	b.WriteString("(CPU in % of one core; other = the rest of the machine; machine = all cores, 100% saturated)\n")
	for _, p := range r.Phases {
		if p.CPU.OtherPercent > busyOther {
			fmt.Fprintf(&b, "warning: during %s other work on the machine used %.0f%% of a core; its numbers understate what pathbot can do\n",
				p.Name, p.CPU.OtherPercent)
		}
	}

	if len(r.Phases) == 1 {
		p := r.Phases[0]
		b.WriteString("\nby command (response ms)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kind\tcount\tp50\tp99\t")
		for k := range numKinds {
			if row, ok := p.ByKind[k.String()]; ok {
				fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t\n", k, row.Count, row.P50, row.P99)
			}
		}
		_ = tw.Flush()
		fmt.Fprintf(&b, "generator send lag p99 %.2f ms, max %.2f ms; CPU per request: bot %.0f µs, generator %.0f µs\n",
			p.SendLag.P99, p.SendLag.Max, p.CPU.BotCPUPerRequest, p.CPU.GeneratorCPUPerRequest)
		writeSlowestSeconds(&b, p)
	}
	if r.FindMax != nil {
		if r.FindMax.MaxRate > 0 {
			fmt.Fprintf(&b, "\nfind-max: %g req/s is the highest rate sustained with %s\n", r.FindMax.MaxRate, r.FindMax.Criterion)
		} else {
			fmt.Fprintf(&b, "\nfind-max: no step passed (%s)\n", r.FindMax.Criterion)
		}
	}
	fmt.Fprintf(&b, "\nbot        peak RSS %.1f MiB, %.1f CPU s over the run, %d log lines at warn+, exited %.1f s after SIGTERM",
		float64(r.Bot.PeakRSSBytes)/(1<<20), r.Bot.CPUSeconds, r.Bot.LogLines, r.Bot.ShutdownSeconds)
	if r.Bot.Killed {
		b.WriteString(" (killed: it had not exited within 30 s)")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "generator  peak RSS %.1f MiB, %.1f CPU s over the run, GOMAXPROCS=%d (load generator + Slack emulator)\n",
		float64(r.Generator.PeakRSSBytes)/(1<<20), r.Generator.CPUSeconds, r.Config.GeneratorProcs)
	e := r.Emulator
	fmt.Fprintf(&b, "slack      %d envelopes, %d acked, %d late acks, %d dispatch_failed, %d refused acks, %d response_url posts\n",
		e.Envelopes, e.Acked, e.LateAcks, e.DispatchFailed, e.RefusedAcks, e.ResponseURLPosts)
	v := r.Verify
	fmt.Fprintf(&b, "database   %d users checked: %d/%d readings and %d/%d on-call shifts as answered; %d lost, %d extra, %d uncertain (unanswered writes)\n",
		v.UsersChecked, v.ReadingsFound, v.ReadingsExpected, v.ShiftsFound, v.ShiftsExpected, v.Lost, v.Extra, v.Uncertain)
	for _, ex := range v.Examples {
		fmt.Fprintf(&b, "           %s\n", ex)
	}
	if len(r.Failures) == 0 {
		b.WriteString("failures   none\n")
	} else {
		b.WriteString("failures  ")
		for _, k := range slices.Sorted(maps.Keys(r.Failures)) {
			fmt.Fprintf(&b, " %s=%d", k, r.Failures[k])
		}
		b.WriteString("\n")
	}
	if r.Bot.LogTail != "" {
		b.WriteString(r.Bot.LogTail + "\n")
	}
	return b.String()
}

func pgSettings(s map[string]string) string {
	var parts []string
	for _, k := range []string{"fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections"} {
		if v, ok := s[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// writeSlowestSeconds lists the seconds holding the worst responses, so that the p99.9 and max
// above can be matched to what the bot or Postgres was doing then; -json has every second.
func writeSlowestSeconds(b *strings.Builder, p *Phase) {
	slow := slowestSeconds(p.PerSecond, 5)
	if len(slow) == 0 {
		return
	}
	fmt.Fprintf(b, "\nslowest seconds (response ms, by the second each request was due; offset 0 = %s)\n",
		p.StartedAt.Format("15:04:05.000Z07:00"))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "offset s\tcount\tp99\tmax\t")
	for _, s := range slow {
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.2f\t\n", s.Offset, s.Count, s.P99, s.Max)
	}
	_ = tw.Flush()
}
