package slackemu

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// limiter answers 429 for methods under a configured limit. Methods are Web API method
// names, plus "response_url" for response_url posts.
type limiter struct {
	active  atomic.Bool
	mu      sync.Mutex
	bursts  map[string]*burst
	buckets map[string]*bucket
}

type burst struct {
	remaining  int
	retryAfter time.Duration
}

// bucket is a token bucket: perMinute tokens, refilled continuously, so short bursts pass
// the way Slack's "burst behaviour" lets them.
type bucket struct {
	perMinute int
	burst     int
	tokens    float64
	last      time.Time
}

func (l *limiter) init() {
	l.bursts = make(map[string]*burst)
	l.buckets = make(map[string]*bucket)
}

func (l *limiter) refreshActive() { l.active.Store(len(l.bursts)+len(l.buckets) > 0) }

// check consumes one call; it returns the Retry-After to send when the call is limited.
func (l *limiter) check(method string, now time.Time) (time.Duration, bool) {
	if !l.active.Load() {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bursts[method]; b != nil {
		b.remaining--
		if b.remaining <= 0 {
			delete(l.bursts, method)
			l.refreshActive()
		}
		return b.retryAfter, true
	}
	if b := l.buckets[method]; b != nil {
		rate := float64(b.perMinute) / 60 // tokens per second
		b.tokens = math.Min(float64(b.burst), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
		if b.tokens >= 1 {
			b.tokens--
			return 0, false
		}
		return time.Duration((1 - b.tokens) / rate * float64(time.Second)), true
	}
	return 0, false
}

// RateLimit makes the next calls calls to method (a Web API method such as
// "chat.postMessage", or "response_url") fail with HTTP 429 and Retry-After: retryAfter
// in whole seconds, rounded up.
func (s *Server) RateLimit(method string, calls int, retryAfter time.Duration) {
	l := &s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	if calls <= 0 {
		delete(l.bursts, method)
	} else {
		l.bursts[method] = &burst{remaining: calls, retryAfter: retryAfter}
	}
	l.refreshActive()
}

// SetMethodLimit enforces a sustained limit of perMinute calls on method, with bursts up
// to perMinute; beyond it calls get 429 with Retry-After. perMinute <= 0 removes it.
func (s *Server) SetMethodLimit(method string, perMinute int) {
	s.SetMethodLimitBurst(method, perMinute, perMinute)
}

// SetMethodLimitBurst is SetMethodLimit with bursts of up to burst calls (at least 1) instead
// of a minute's worth; the bucket starts full.
func (s *Server) SetMethodLimitBurst(method string, perMinute, burst int) {
	l := &s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	if perMinute <= 0 {
		delete(l.buckets, method)
	} else {
		burst = max(burst, 1)
		l.buckets[method] = &bucket{perMinute: perMinute, burst: burst, tokens: float64(burst), last: time.Now()}
	}
	l.refreshActive()
}

// rateLimited writes a 429 and reports true if method is limited right now.
func (s *Server) rateLimited(w http.ResponseWriter, method string) bool {
	d, limited := s.limits.check(method, time.Now())
	if !limited {
		return false
	}
	secs := int64(math.Ceil(d.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	s.stats.result(method, "429")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
	return true
}

type counters struct {
	envelopes      atomic.Int64
	acked          atomic.Int64
	lateAcks       atomic.Int64
	unknownAcks    atomic.Int64
	oversizeAcks   atomic.Int64
	badFrames      atomic.Int64
	ackTimeouts    atomic.Int64
	dispatchFailed atomic.Int64
	eventRetries   atomic.Int64
	queueFull      atomic.Int64
	commands       atomic.Int64
	answered       atomic.Int64
	refusedAcks    atomic.Int64
	linksOpened    atomic.Int64
	tooManyLinks   atomic.Int64
	badTickets     atomic.Int64

	methods sync.Map // method -> *methodCounts
}

type methodCounts struct {
	calls   atomic.Int64
	results sync.Map // "ok", error code or "429" -> *atomic.Int64
}

func (c *counters) method(m string) *methodCounts {
	if v, ok := c.methods.Load(m); ok {
		return v.(*methodCounts)
	}
	v, _ := c.methods.LoadOrStore(m, &methodCounts{})
	return v.(*methodCounts)
}

func (c *counters) call(m string) { c.method(m).calls.Add(1) }

func (c *counters) result(m, outcome string) {
	mc := c.method(m)
	if v, ok := mc.results.Load(outcome); ok {
		v.(*atomic.Int64).Add(1)
		return
	}
	v, _ := mc.results.LoadOrStore(outcome, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// Stats is a snapshot of the emulator's counters.
type Stats struct {
	Connections    int   // links open now
	LinksOpened    int64 // links ever opened
	TooManyLinks   int64 // links refused with too_many_websockets
	BadTickets     int64 // WebSocket dials with an unknown or reused ticket
	EnvelopesSent  int64
	Acked          int64
	LateAcks       int64 // acks after the deadline, ignored
	UnknownAcks    int64 // acks for no envelope in flight (or duplicates)
	OversizeAcks   int64 // frames of 20,480 bytes or more, dropped like Slack does
	BadFrames      int64 // frames that are not an ack
	AckTimeouts    int64
	DispatchFailed int64 // user-visible failures from missed or undeliverable envelopes
	EventRetries   int64
	SendQueueFull  int64 // envelopes no link could take
	SlashCommands  int64
	Answered       int64
	RefusedAcks    int64 // ack payloads Slack would refuse (invalid_blocks, …)
	// APICalls counts calls by method (including "apps.connections.open" and "response_url").
	APICalls map[string]int64
	// APIResults counts outcomes by method: "ok", the error code, or "429".
	APIResults map[string]map[string]int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		Connections: s.Connections(), LinksOpened: c.linksOpened.Load(), TooManyLinks: c.tooManyLinks.Load(),
		BadTickets: c.badTickets.Load(), EnvelopesSent: c.envelopes.Load(), Acked: c.acked.Load(),
		LateAcks: c.lateAcks.Load(), UnknownAcks: c.unknownAcks.Load(), OversizeAcks: c.oversizeAcks.Load(),
		BadFrames: c.badFrames.Load(), AckTimeouts: c.ackTimeouts.Load(), DispatchFailed: c.dispatchFailed.Load(),
		EventRetries: c.eventRetries.Load(), SendQueueFull: c.queueFull.Load(), SlashCommands: c.commands.Load(),
		Answered: c.answered.Load(), RefusedAcks: c.refusedAcks.Load(),
		APICalls: map[string]int64{}, APIResults: map[string]map[string]int64{},
	}
	c.methods.Range(func(k, v any) bool {
		mc := v.(*methodCounts)
		st.APICalls[k.(string)] = mc.calls.Load()
		res := map[string]int64{}
		mc.results.Range(func(rk, rv any) bool {
			res[rk.(string)] = rv.(*atomic.Int64).Load()
			return true
		})
		st.APIResults[k.(string)] = res
		return true
	})
	return st
}

// Calls is how many times method was called (Web API method name or "response_url").
func (s *Server) Calls(method string) int {
	if v, ok := s.stats.methods.Load(method); ok {
		return int(v.(*methodCounts).calls.Load())
	}
	return 0
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error":"internal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) apiOK(w http.ResponseWriter, method string, v any) {
	s.stats.result(method, "ok")
	writeJSON(w, http.StatusOK, v)
}

// apiErr answers an API error the way Slack does: HTTP 200 with ok false.
func (s *Server) apiErr(w http.ResponseWriter, method, code string, extra map[string]any) {
	s.stats.result(method, code)
	body := map[string]any{"ok": false, "error": code}
	for k, v := range extra {
		body[k] = v
	}
	s.log.Debug("api error", "method", method, "error", code)
	writeJSON(w, http.StatusOK, body)
}
