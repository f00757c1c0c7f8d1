package app

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pathbot/pathbot/internal/metrics"
)

// newTransport counts Slack API calls by method and HTTP outcome. The Slack error code inside an
// HTTP 200 body is not visible here; callers log those.
func newTransport(m *metrics.Metrics) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// One bot process talks to one Slack host; keep plenty of idle connections for bursts.
	base.MaxIdleConnsPerHost = 100
	return &countingTransport{base: base, m: m}
}

type countingTransport struct {
	base http.RoundTripper
	m    *metrics.Metrics
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if !strings.Contains(method, ".") {
		method = "response_url"
	}
	resp, err := t.base.RoundTrip(r)
	switch {
	case err != nil:
		t.m.SlackAPICall(method, "network")
	case resp.StatusCode == http.StatusTooManyRequests:
		t.m.SlackAPICall(method, "429")
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		t.m.SlackRateLimited(method, time.Duration(secs)*time.Second)
	case resp.StatusCode >= 500:
		t.m.SlackAPICall(method, "http_5xx")
	default:
		t.m.SlackAPICall(method, "ok")
	}
	return resp, err
}
