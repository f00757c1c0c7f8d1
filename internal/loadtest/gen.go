package loadtest

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/pathbot/pathbot/internal/slackemu"
)

// Histograms cover 1 µs to 2 minutes with three significant digits, far past the emulator's
// patience, so no sample is ever clipped.
const (
	histMin = 1
	histMax = int64(2 * time.Minute / time.Microsecond)
	histSig = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histSig) }

// phase collects one stretch of load at one rate: the warm-up, the headline run, or one step of
// -find-max.
type phase struct {
	name   string
	rate   float64
	dur    time.Duration
	record bool // false for the warm-up, whose latencies are not reported
	// ramp raises the rate steadily from nothing to rate over dur (the warm-up), instead of
	// starting at it: see offset.
	ramp bool

	mu       sync.Mutex
	ack      *hdrhistogram.Histogram
	resp     *hdrhistogram.Histogram
	lag      *hdrhistogram.Histogram // how late the generator itself sent, to show it kept up
	byKind   [numKinds]*hdrhistogram.Histogram
	perSec   perSecond
	kinds    [numKinds]int64
	errs     map[string]int64
	answered int64
	failed   int64
	lastDone time.Time

	sent      atomic.Int64
	pending   sync.WaitGroup
	started   time.Time
	lastSent  time.Time
	usage     usage
	cpuBefore cpuSample
}

func newPhase(name string, rate float64, dur time.Duration, record bool) *phase {
	p := &phase{name: name, rate: rate, dur: dur, record: record, ack: newHist(), resp: newHist(), lag: newHist(), errs: map[string]int64{}}
	for k := range p.byKind {
		p.byKind[k] = newHist()
	}
	if record {
		p.perSec = newPerSecond(dur)
	}
	return p
}

func micros(d time.Duration) int64 { return max(d.Microseconds(), histMin) }

// generator drives the emulator open-loop.
type generator struct {
	emu   *slackemu.Server
	model *model
	res   *resources
}

// run sends rate requests per second for dur: request i is due at start + i/rate whatever
// happened to earlier ones, and every latency is measured from that due time, so a stall anywhere
// (including in the generator) shows up in the numbers instead of quietly lowering the load. It
// returns when every request has ended or ctx is done.
func (g *generator) run(ctx context.Context, p *phase) {
	n := int(p.rate * p.dur.Seconds())
	if p.ramp {
		n /= 2
	}
	p.cpuBefore = g.res.sample()
	// Start a moment ahead so the first request is not already late.
	p.started = time.Now().Add(time.Millisecond)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := 0; i < n; i++ {
		due := p.started.Add(p.offset(i, n))
		if wait := time.Until(due); wait > 0 {
			// The timer wakes us within about a millisecond; the requests that fell due meanwhile
			// go out together and carry that wait in their latency.
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		g.send(p, due)
	}
	p.lastSent = time.Now()
	done := make(chan struct{})
	go func() { p.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	p.usage = g.res.since(p.cpuBefore)
}

// offset is when request i of the phase's n is due after its start: one every 1/rate, or on the
// ramp, n·(t/dur)² sent by t, so that the rate grows steadily from nothing to rate at dur.
//
// The warm-up ramps because every simulated member's first command is a first contact (an
// enrolment, a write, and the read that fills the cache): at full rate from the first
// millisecond, 10,000 members make nearly 10,000 of them in two seconds, a burst no real
// workspace sends, which in some runs filled the bot's in-flight bound before it had warmed up.
func (p *phase) offset(i, n int) time.Duration {
	if p.ramp {
		return time.Duration(float64(p.dur) * math.Sqrt(float64(i)/float64(n)))
	}
	return time.Duration(float64(i) * float64(time.Second) / p.rate)
}

func (g *generator) send(p *phase, due time.Time) {
	r := g.model.next(due, p)
	p.pending.Add(1)
	p.sent.Add(1)
	lag := time.Since(due)
	g.emu.SlashCommandAsync(g.model.userIDs[r.user], "", "/path", r.text, func(res *slackemu.Result) {
		defer p.pending.Done()
		g.finish(r, res, lag)
	})
}

func (g *generator) finish(r *request, res *slackemu.Result, lag time.Duration) {
	text := ""
	if len(res.Messages) > 0 {
		text = res.Messages[0].Text
	}
	o := g.model.complete(r, res.Error, res.Answered, text)
	p := r.phase
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kinds[r.kind]++
	if o.errKind != "" {
		p.errs[o.errKind]++
	}
	// An answer that is not the one due (busy, an error, a wrong answer) is a failure too.
	if o.failed || o.errKind != "" {
		p.failed++
	}
	if !o.failed {
		p.answered++
	}
	end := res.AnsweredAt
	if o.failed {
		// A failure still took the user this long to learn about; counting it keeps the tail
		// honest instead of dropping the worst requests from it.
		end = time.Now()
	}
	if end.After(p.lastDone) {
		p.lastDone = end
	}
	if !p.record {
		return
	}
	_ = p.lag.RecordValue(micros(lag))
	if res.Acked {
		_ = p.ack.RecordValue(micros(res.AckedAt.Sub(r.sched)))
	}
	d := micros(end.Sub(r.sched))
	_ = p.resp.RecordValue(d)
	_ = p.byKind[r.kind].RecordValue(d)
	p.perSec.record(r.sched.Sub(p.started), d)
}
