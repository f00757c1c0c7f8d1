package progress

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MinRPS is the throughput a load test must beat. The path says "> 1000 req / sec", so exactly
// 1000 is not enough.
const MinRPS = 1000

// MaxRPS and MaxLatency bound what a logged load test may claim; anything beyond is far more
// likely a typo (a missing unit, an extra zero) than a measurement.
const (
	MaxRPS     = 10_000_000
	MaxLatency = time.Hour
)

// LoadResult is one load-test run as the engineer reports it.
type LoadResult struct {
	RPS           float64
	P95, P99, Max time.Duration
	Link          string // where the results can be seen; optional
}

// Thresholds is the tail latency a load test must stay within. A zero field means the
// default, so a team that overrides only one limit keeps the others.
type Thresholds struct {
	P95, P99, Max time.Duration
}

// DefaultThresholds is the "acceptable tail latency" used unless a team sets its own.
var DefaultThresholds = Thresholds{
	P95: 200 * time.Millisecond,
	P99: 500 * time.Millisecond,
	Max: 2 * time.Second,
}

func (th Thresholds) withDefaults() Thresholds {
	if th.P95 <= 0 {
		th.P95 = DefaultThresholds.P95
	}
	if th.P99 <= 0 {
		th.P99 = DefaultThresholds.P99
	}
	if th.Max <= 0 {
		th.Max = DefaultThresholds.Max
	}
	return th
}

// LoadPasses reports whether r proves the load-test milestone under th and, when it does not,
// a short reason naming every limit it missed, e.g. "p99 700ms > 500ms".
func LoadPasses(r LoadResult, th Thresholds) (bool, string) {
	if err := ValidateLoad(r); err != nil {
		return false, err.Error()
	}
	th = th.withDefaults()
	var misses []string
	if r.RPS <= MinRPS {
		misses = append(misses, "needs > "+FormatNumber(MinRPS)+" req/s")
	}
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p95", r.P95, th.P95},
		{"p99", r.P99, th.P99},
		{"max", r.Max, th.Max},
	} {
		if c.got > c.want {
			misses = append(misses, fmt.Sprintf("%s %v > %v", c.name, c.got, c.want))
		}
	}
	return len(misses) == 0, strings.Join(misses, ", ")
}

// passes is LoadPasses's verdict on a valid r under th with its defaults applied, without
// building the reason, which Evaluate needs only for the best failing run.
func passes(r LoadResult, th Thresholds) bool {
	return r.RPS > MinRPS && r.P95 <= th.P95 && r.P99 <= th.P99 && r.Max <= th.Max
}

// ValidateLoad refuses a load-test result that cannot be a real measurement: no or absurd
// throughput, missing or absurd latencies, or percentiles out of order.
func ValidateLoad(r LoadResult) error {
	switch {
	case math.IsNaN(r.RPS) || r.RPS <= 0:
		return errors.New("requests per second must be a number above zero")
	case r.RPS > MaxRPS:
		return fmt.Errorf("%s req/s is more than %s; check the number", FormatNumber(r.RPS), FormatNumber(MaxRPS))
	}
	return validateTail(r.P95, r.P99, r.Max)
}

// ValidateThresholds refuses limits no team could mean: zero, over an hour, or out of order.
func ValidateThresholds(th Thresholds) error {
	return validateTail(th.P95, th.P99, th.Max)
}

func validateTail(p95, p99, maxLat time.Duration) error {
	for _, c := range []struct {
		name string
		d    time.Duration
	}{{"p95", p95}, {"p99", p99}, {"max", maxLat}} {
		if c.d <= 0 {
			return fmt.Errorf("%s must be above zero", c.name)
		}
		if c.d > MaxLatency {
			return fmt.Errorf("%s of %v is over an hour; check the unit", c.name, c.d)
		}
	}
	if p95 > p99 {
		return fmt.Errorf("p95 (%v) can't be above p99 (%v): 95%% of requests finish before 99%% do", p95, p99)
	}
	if p99 > maxLat {
		return fmt.Errorf("p99 (%v) can't be above max (%v)", p99, maxLat)
	}
	return nil
}

// FormatNumber writes v with thousands separators ("1,200", "1,000.5") as the bot shows
// throughput.
func FormatNumber(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	// Evaluate formats a few numbers on every /path status, so the digits go to a stack buffer
	// and only the result is allocated.
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], v, 'f', -1, 64)
	sign := 0
	if s[0] == '-' {
		sign = 1
	}
	whole := bytes.IndexByte(s, '.')
	if whole < 0 {
		whole = len(s)
	}
	digits := whole - sign
	var b strings.Builder
	b.Grow(len(s) + (digits-1)/3)
	b.Write(s[:sign])
	for i := sign; i < whole; i++ {
		if i > sign && (whole-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	b.Write(s[whole:])
	return b.String()
}
