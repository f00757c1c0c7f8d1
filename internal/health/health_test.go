package health

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pathbot/pathbot/internal/metrics"
)

type testBundle struct {
	srv  *Server
	reg  *prometheus.Registry
	http *httptest.Server
	logs *syncBuffer
}

// syncBuffer lets the server log from its goroutines while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	srv := New("127.0.0.1:0", reg, metrics.New(reg), slog.New(slog.NewTextHandler(logs, nil)))
	srv.checkTimeout = 100 * time.Millisecond
	ts := httptest.NewServer(srv.routes())
	t.Cleanup(ts.Close)
	return &testBundle{srv: srv, reg: reg, http: ts, logs: logs}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func readyGauge(t *testing.T, reg *prometheus.Registry, check string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "pathbot_ready" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == check {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func ok(context.Context) error { return nil }

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A failing dependency must not make the process look dead.
	b.srv.AddCheck(metrics.CheckDB, func(context.Context) error { return errors.New("down") })
	code, body := get(t, b.http.URL+"/healthz")
	if code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}
}

func TestReadyzAllPass(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.AddCheck(metrics.CheckDB, ok)
	b.srv.AddCheck(metrics.CheckSocket, ok)

	code, body := get(t, b.http.URL+"/readyz")
	if code != http.StatusOK {
		t.Fatalf("GET /readyz = %d %s, want 200", code, body)
	}
	var got readiness
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "ok" || len(got.Failing) != 0 || got.Checks["db"] != "ok" || got.Checks["socket"] != "ok" {
		t.Errorf("body = %+v", got)
	}
	for _, c := range []string{metrics.CheckDB, metrics.CheckSocket} {
		if v := readyGauge(t, b.reg, c); v != 1 {
			t.Errorf("pathbot_ready{check=%q} = %v, want 1", c, v)
		}
	}
}

func TestReadyzWithoutChecks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if code, body := get(t, b.http.URL+"/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz with no checks = %d %s, want 200", code, body)
	}
}

func TestReadyzNamesTheFailingCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.AddCheck(metrics.CheckDB, func(context.Context) error { return errors.New("connection refused") })
	b.srv.AddCheck(metrics.CheckMigrations, ok)

	code, body := get(t, b.http.URL+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz = %d, want 503", code)
	}
	var got readiness
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "unavailable" || len(got.Failing) != 1 || got.Failing[0] != "db" {
		t.Errorf("body = %s, want db failing alone", body)
	}
	if got.Checks["db"] != "connection refused" || got.Checks["migrations"] != "ok" {
		t.Errorf("checks = %v", got.Checks)
	}
	if v := readyGauge(t, b.reg, "db"); v != 0 {
		t.Errorf("pathbot_ready{check=\"db\"} = %v, want 0", v)
	}
	if v := readyGauge(t, b.reg, "migrations"); v != 1 {
		t.Errorf("pathbot_ready{check=\"migrations\"} = %v, want 1", v)
	}
}

func TestReadyzSurvivesStuckAndPanickingChecks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	b.srv.AddCheck("stuck", func(context.Context) error { <-release; return nil }) // ignores ctx
	b.srv.AddCheck("panics", func(context.Context) error { panic("boom") })

	start := time.Now()
	code, body := get(t, b.http.URL+"/readyz")
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("/readyz took %v with a stuck check; the per-check timeout is 100ms", elapsed)
	}
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz = %d, want 503", code)
	}
	if !strings.Contains(body, "timed out") || !strings.Contains(body, "check panicked: boom") {
		t.Errorf("body = %s, want the timeout and the panic reported", body)
	}
}

func TestAddCheckReplaces(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.AddCheck(metrics.CheckSocket, func(context.Context) error { return errors.New("not yet") })
	b.srv.AddCheck(metrics.CheckSocket, ok)
	code, body := get(t, b.http.URL+"/readyz")
	if code != http.StatusOK {
		t.Errorf("GET /readyz = %d %s, want 200 after the check was replaced", code, body)
	}
}

func TestFailuresAreLoggedOnlyWhenTheyChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var down atomic.Bool
	down.Store(true)
	b.srv.AddCheck(metrics.CheckDB, func(context.Context) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	for range 3 {
		get(t, b.http.URL+"/readyz")
	}
	down.Store(false)
	for range 2 {
		get(t, b.http.URL+"/readyz")
	}
	logs := b.logs.String()
	if n := strings.Count(logs, "readiness check failing"); n != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs, "readiness check passing again"); n != 1 {
		t.Errorf("logged the recovery %d times, want once:\n%s", n, logs)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := get(t, b.http.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{"pathbot_build_info{", "pathbot_socket_connected 0", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The scrape itself is counted, which shows the handler is instrumented on our registry.
	if n, err := testutil.GatherAndCount(b.reg, "promhttp_metric_handler_requests_total"); err != nil || n == 0 {
		t.Errorf("promhttp_metric_handler_requests_total: %d series, err %v", n, err)
	}
}

func TestOnlyGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Post(b.http.URL+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d, want 405", resp.StatusCode)
	}
}

// TestRunProbeAndShutdown drives the real listener: port 0, Addr, Probe, and a clean stop.
func TestRunProbeAndShutdown(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	srv := New("127.0.0.1:0", reg, metrics.New(reg), nil)
	if srv.Addr() != "" {
		t.Errorf("Addr before Listen = %q, want empty", srv.Addr())
	}
	var dbUp atomic.Bool
	srv.AddCheck(metrics.CheckDB, func(context.Context) error {
		if !dbUp.Load() {
			return errors.New("no route to host")
		}
		return nil
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	if addr == "" || strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr after Listen = %q, want a real port", addr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()

	base := "http://" + addr
	if err := Probe(context.Background(), base+"/healthz"); err != nil {
		t.Errorf("Probe /healthz: %v", err)
	}
	err := Probe(context.Background(), base+"/readyz")
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), `"db"`) {
		t.Errorf("Probe /readyz with the db down = %v, want a 503 naming db", err)
	}
	dbUp.Store(true)
	if err := Probe(context.Background(), base+"/readyz"); err != nil {
		t.Errorf("Probe /readyz with the db up: %v", err)
	}

	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := Probe(context.Background(), base+"/healthz"); err == nil {
		t.Error("Probe succeeded after shutdown")
	}
}

// TestRefreshKeepsGaugeCurrent covers platforms where nothing calls /readyz: the gauge must still
// follow the dependency.
func TestRefreshKeepsGaugeCurrent(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	srv := New("127.0.0.1:0", reg, metrics.New(reg), nil)
	srv.refreshInterval = 10 * time.Millisecond
	var up atomic.Bool
	srv.AddCheck(metrics.CheckDB, func(context.Context) error {
		if !up.Load() {
			return errors.New("down")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Error(err)
		}
	})

	waitFor := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for readyGauge(t, reg, "db") != want {
			if time.Now().After(deadline) {
				t.Fatalf("pathbot_ready{check=\"db\"} never became %v", want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(0)
	up.Store(true)
	waitFor(1)
}

func TestRunFailsOnBusyAddress(t *testing.T) {
	t.Parallel()
	first := New("127.0.0.1:0", nil, nil, nil)
	if err := first.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-firstDone })
	second := New(first.Addr(), nil, nil, nil)
	if err := second.Run(context.Background()); err == nil {
		t.Error("Run on an address in use returned nil")
	}
}

func TestProbeErrors(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		http.Error(w, "teapot", http.StatusTeapot)
	}))
	t.Cleanup(ts.Close)

	if err := Probe(context.Background(), ts.URL+"/x"); err == nil || !strings.Contains(err.Error(), "418") {
		t.Errorf("Probe on a 418 = %v, want an error with the status", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := Probe(ctx, ts.URL+"/slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Probe past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if err := Probe(context.Background(), "http://127.0.0.1:1/healthz"); err == nil {
		t.Error("Probe on a closed port returned nil")
	}
	if err := Probe(context.Background(), "::not a url"); err == nil {
		t.Error("Probe on a bad URL returned nil")
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate kept %q", got)
	}
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("truncate split a rune: %q", got)
	}
}
