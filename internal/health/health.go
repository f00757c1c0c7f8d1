// Package health serves pathbot's only HTTP endpoints, on HTTP_ADDR: /metrics for Prometheus,
// /healthz for liveness and /readyz for readiness. pathbot talks to Slack over an outbound
// WebSocket and needs no inbound port, so this server exists only for operators and orchestrators;
// it also re-runs the readiness checks on a timer so that pathbot_ready stays current on platforms
// where nothing polls /readyz. Probe is the client side, used by `pathbot health` as a container
// HEALTHCHECK in images that have no shell or curl.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pathbot/pathbot/internal/metrics"
)

// Check reports whether one dependency is usable: nil means ready. It must honour ctx, which
// carries a short deadline.
type Check func(ctx context.Context) error

const (
	// checkTimeout bounds each check. Kubernetes probes time out after 1 s by default and Docker's
	// HEALTHCHECK after the timeout in the Dockerfile, so a check must answer well within that.
	checkTimeout = 800 * time.Millisecond
	// shutdownTimeout bounds the graceful stop; the whole bot must exit within 10 s of SIGTERM.
	shutdownTimeout = 3 * time.Second
	// refreshInterval is how often checks run on their own to keep pathbot_ready current; it is
	// shorter than the 2 m the database alert waits, so a blip of one run does not page.
	refreshInterval = 15 * time.Second
)

// Server is the HTTP server behind /metrics, /healthz and /readyz.
type Server struct {
	addr     string
	gatherer prometheus.Gatherer
	reg      prometheus.Registerer
	metrics  *metrics.Metrics
	log      *slog.Logger
	srv      *http.Server

	// Fields below are changed in tests only.
	pprof           bool
	checkTimeout    time.Duration
	refreshInterval time.Duration

	mu     sync.Mutex
	ln     net.Listener
	names  []string // check names in the order they were added
	checks map[string]Check
	failed map[string]bool // last known state, so only changes are logged
}

// New returns a server for addr (such as ":8080", or "127.0.0.1:0" in tests) exporting reg. A nil
// reg exports prometheus.DefaultGatherer. m, which may be nil, receives pathbot_ready; a nil logger
// discards.
func New(addr string, reg *prometheus.Registry, m *metrics.Metrics, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		addr:            addr,
		gatherer:        prometheus.DefaultGatherer,
		reg:             prometheus.DefaultRegisterer,
		metrics:         m,
		log:             logger,
		checkTimeout:    checkTimeout,
		refreshInterval: refreshInterval,
		checks:          make(map[string]Check),
		failed:          make(map[string]bool),
	}
	if reg != nil {
		s.gatherer, s.reg = reg, reg
	}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	metricsHandler := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		// Keep serving what can be gathered when one collector fails, rather than a 500 that
		// would blind every dashboard at once.
		ErrorHandling: promhttp.ContinueOnError,
	})
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(s.reg, metricsHandler))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.pprof {
		// Profiling for operators and the load test; off by default since it exposes internals.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// EnablePprof serves net/http/pprof under /debug/pprof/; call it before Run.
func (s *Server) EnablePprof() {
	s.pprof = true
	s.srv.Handler = s.routes()
}

// AddCheck registers a readiness check under name (see the metrics.Check constants). Adding a
// name again replaces its check. It is safe to call while the server runs.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.checks[name]; !ok {
		s.names = append(s.names, name)
	}
	s.checks[name] = c
}

// Listen binds the address without serving yet, so that a caller or test can read Addr before Run.
// Run calls it when it has not been called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("health: listen on %s: %w", s.addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the address actually bound (useful with port 0), or "" before Listen or Run.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	s.log.Info("health server listening", "addr", ln.Addr().String())

	refreshDone := make(chan struct{})
	go func() {
		defer close(refreshDone)
		s.refresh(ctx)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.srv.Serve(ln) }()

	var err error
	select {
	case err = <-serveErr:
		// Serve only returns early on a broken listener; nothing to shut down gracefully.
		err = fmt.Errorf("health: serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if serr := s.srv.Shutdown(sctx); serr != nil {
			err = fmt.Errorf("health: shutdown: %w", serr)
		}
		<-serveErr // always http.ErrServerClosed after Shutdown
	}
	<-refreshDone
	return err
}

// refresh runs the checks at start and then on a timer until ctx ends, keeping pathbot_ready
// current even where no probe calls /readyz (Docker Compose, Fly.io, Render).
func (s *Server) refresh(ctx context.Context) {
	t := time.NewTicker(s.refreshInterval)
	defer t.Stop()
	for {
		s.runChecks(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	// Liveness is deliberately only "the process answers HTTP": restarting pathbot because Postgres
	// or Slack is down would not bring either back, and readiness reports those.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// readiness is the /readyz body.
type readiness struct {
	Status  string            `json:"status"`
	Failing []string          `json:"failing,omitempty"`
	Checks  map[string]string `json:"checks"`
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	results := s.runChecks(r.Context())
	body := readiness{Status: "ok", Checks: make(map[string]string, len(results))}
	for _, res := range results {
		if res.err == nil {
			body.Checks[res.name] = "ok"
			continue
		}
		body.Checks[res.name] = truncate(res.err.Error(), 200)
		body.Failing = append(body.Failing, res.name)
	}
	code := http.StatusOK
	if len(body.Failing) > 0 {
		body.Status = "unavailable"
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

type result struct {
	name string
	err  error
}

// runChecks runs every check concurrently, each with its own deadline, publishes the results to
// pathbot_ready and logs changes. A check that ignores its context is reported as timed out and
// left to finish on its own, so one stuck dependency cannot hang the probe.
func (s *Server) runChecks(ctx context.Context) []result {
	s.mu.Lock()
	names := slices.Clone(s.names)
	checks := make([]Check, len(names))
	for i, n := range names {
		checks[i] = s.checks[n]
	}
	s.mu.Unlock()

	results := make([]result, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() {
			results[i] = result{name: names[i], err: s.runCheck(ctx, checks[i])}
		})
	}
	wg.Wait()

	// A run cut short by its caller (a probe that hung up, or shutdown) says nothing about the
	// dependencies, so it changes neither the gauge nor the log.
	if ctx.Err() != nil {
		return results
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, res := range results {
		s.metrics.SetReady(res.name, res.err == nil)
		was := s.failed[res.name]
		switch {
		case res.err != nil && !was:
			s.log.Warn("readiness check failing", "check", res.name, "err", res.err)
		case res.err == nil && was:
			s.log.Info("readiness check passing again", "check", res.name)
		}
		s.failed[res.name] = res.err != nil
	}
	return results
}

func (s *Server) runCheck(ctx context.Context, c Check) error {
	ctx, cancel := context.WithTimeout(ctx, s.checkTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		done <- c(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("timed out after %s: %w", s.checkTimeout, ctx.Err())
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cutting at a byte count can split a rune; drop the broken tail rather than emit invalid UTF-8.
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Probe GETs url and returns nil on a 2xx answer. Without a deadline on ctx it gives up after
// 5 s, so a HEALTHCHECK never hangs. The error carries the start of the body, which for /readyz
// names the failing check.
func Probe(ctx context.Context, url string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health: probe %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: probe: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("health: probe %s: %s: %s", url, resp.Status, truncate(string(body), 512))
	}
	return nil
}
