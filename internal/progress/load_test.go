package progress

import (
	"math"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestLoadPasses(t *testing.T) {
	t.Parallel()
	good := LoadResult{RPS: 1001, P95: 150 * ms, P99: 400 * ms, Max: 1500 * ms}
	with := func(f func(*LoadResult)) LoadResult {
		r := good
		f(&r)
		return r
	}
	tests := []struct {
		name       string
		r          LoadResult
		th         Thresholds
		want       bool
		wantReason string
	}{
		{"1001 req/s within limits", good, DefaultThresholds, true, ""},
		{"exactly 1000 req/s is not more than 1000", with(func(r *LoadResult) { r.RPS = 1000 }), DefaultThresholds, false, "needs > 1,000 req/s"},
		{"1000.5 req/s is more than 1000", with(func(r *LoadResult) { r.RPS = 1000.5 }), DefaultThresholds, true, ""},
		{"p95 over", with(func(r *LoadResult) { r.P95 = 201 * ms }), DefaultThresholds, false, "p95 201ms > 200ms"},
		{"p99 over", with(func(r *LoadResult) { r.P99 = 700 * ms }), DefaultThresholds, false, "p99 700ms > 500ms"},
		{"max over", with(func(r *LoadResult) { r.Max = 2001 * ms }), DefaultThresholds, false, "max 2.001s > 2s"},
		{"exactly at every limit passes", LoadResult{RPS: 5000, P95: 200 * ms, P99: 500 * ms, Max: 2 * time.Second}, DefaultThresholds, true, ""},
		{"every miss is named", LoadResult{RPS: 10, P95: 300 * ms, P99: 600 * ms, Max: 3 * time.Second}, DefaultThresholds, false,
			"needs > 1,000 req/s, p95 300ms > 200ms, p99 600ms > 500ms, max 3s > 2s"},
		{"stricter custom thresholds", good, Thresholds{P95: 100 * ms, P99: 300 * ms, Max: time.Second}, false,
			"p95 150ms > 100ms, p99 400ms > 300ms, max 1.5s > 1s"},
		{"looser custom thresholds", with(func(r *LoadResult) { r.P99 = 900 * ms }), Thresholds{P95: 200 * ms, P99: time.Second, Max: 2 * time.Second}, true, ""},
		{"zero thresholds mean the defaults", with(func(r *LoadResult) { r.P99 = 700 * ms }), Thresholds{}, false, "p99 700ms > 500ms"},
		{"one custom threshold keeps the other defaults", with(func(r *LoadResult) { r.Max = 3 * time.Second }), Thresholds{P99: time.Second}, false, "max 3s > 2s"},
		{"an invalid measurement never passes", with(func(r *LoadResult) { r.P95 = 0 }), DefaultThresholds, false, "p95 must be above zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, reason := LoadPasses(tt.r, tt.th)
			if got != tt.want || reason != tt.wantReason {
				t.Errorf("LoadPasses(%+v, %+v) = %v, %q; want %v, %q", tt.r, tt.th, got, reason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestValidateLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r       LoadResult
		wantErr string // substring; empty means valid
	}{
		{"valid", LoadResult{RPS: 1, P95: time.Microsecond, P99: time.Microsecond, Max: time.Microsecond}, ""},
		{"largest allowed", LoadResult{RPS: MaxRPS, P95: time.Hour, P99: time.Hour, Max: time.Hour}, ""},
		{"zero rps", LoadResult{P95: ms, P99: ms, Max: ms}, "above zero"},
		{"negative rps", LoadResult{RPS: -5, P95: ms, P99: ms, Max: ms}, "above zero"},
		{"NaN rps", LoadResult{RPS: math.NaN(), P95: ms, P99: ms, Max: ms}, "above zero"},
		{"infinite rps", LoadResult{RPS: math.Inf(1), P95: ms, P99: ms, Max: ms}, "+Inf req/s is more than 10,000,000"},
		{"absurd rps", LoadResult{RPS: MaxRPS + 1, P95: ms, P99: ms, Max: ms}, "10,000,001 req/s is more than 10,000,000"},
		{"zero p99", LoadResult{RPS: 5, P95: ms, Max: ms}, "p99 must be above zero"},
		{"negative max", LoadResult{RPS: 5, P95: ms, P99: ms, Max: -ms}, "max must be above zero"},
		{"over an hour", LoadResult{RPS: 5, P95: ms, P99: ms, Max: time.Hour + 1}, "max of 1h0m0.000000001s is over an hour"},
		{"p95 above p99", LoadResult{RPS: 5, P95: 300 * ms, P99: 200 * ms, Max: time.Second}, "p95 (300ms) can't be above p99 (200ms)"},
		{"p99 above max", LoadResult{RPS: 5, P95: 100 * ms, P99: 2 * time.Second, Max: time.Second}, "p99 (2s) can't be above max (1s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateLoad(tt.r)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateLoad(%+v) = %v, want nil", tt.r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateLoad(%+v) = %v, want an error containing %q", tt.r, err, tt.wantErr)
			}
		})
	}
}

func TestValidateThresholds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		th    Thresholds
		valid bool
	}{
		{"defaults", DefaultThresholds, true},
		{"all equal", Thresholds{P95: time.Second, P99: time.Second, Max: time.Second}, true},
		{"zero", Thresholds{}, false},
		{"out of order", Thresholds{P95: time.Second, P99: 500 * ms, Max: 2 * time.Second}, false},
		{"over an hour", Thresholds{P95: ms, P99: ms, Max: 2 * time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateThresholds(tt.th); (err == nil) != tt.valid {
				t.Errorf("ValidateThresholds(%+v) = %v, want valid %v", tt.th, err, tt.valid)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {1200, "1,200"}, {1000.5, "1,000.5"},
		{12345678, "12,345,678"}, {-1234, "-1,234"}, {100000, "100,000"}, {math.Inf(1), "+Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := FormatNumber(tt.in); got != tt.want {
				t.Errorf("FormatNumber(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
