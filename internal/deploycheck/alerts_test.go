package deploycheck

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pathbot/pathbot/internal/metrics"
)

type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type alertTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name      string `yaml:"name"`
		RuleTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

const runbookBase = "https://github.com/pathbot/pathbot/blob/main/docs/runbook.md#"

// exportedSeries lists every series name pathbot exports, from the metrics package itself, so
// that alerts and docs cannot drift from the code.
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	// Vectors export nothing until they have a child: touch each once.
	m.CommandHandled("c", metrics.OutcomeOK)
	m.ObserveAck(metrics.EnvelopeEventsAPI, time.Millisecond)
	m.ObserveResponse("c", time.Millisecond)
	m.SlackAPICall("chat.postMessage", metrics.SlackStatusOK)
	m.SlackRateLimited("chat.postMessage", time.Second)
	m.JobFinished("k", metrics.JobCompleted, time.Millisecond)
	m.SetJobsQueued(map[string]int{"k": 1})
	m.SetReady(metrics.CheckDB, true)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	// The pool collector reports nothing without a pool; its descriptions name its series.
	descs := make(chan *prometheus.Desc, 32)
	metrics.NewPoolCollector(func() *pgxpool.Stat { return nil }).Describe(descs)
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	return names
}

var seriesRef = regexp.MustCompile(`\bpathbot_[a-z0-9_]*[a-z0-9]`)

// checkSeriesExist reports pathbot_* names in text that the code does not export. Histogram
// suffixes are stripped to their family name.
func checkSeriesExist(t *testing.T, where, text string, exported map[string]bool) {
	t.Helper()
	for _, ref := range seriesRef.FindAllString(text, -1) {
		name := ref
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(ref, suffix); ok && exported[base] {
				name = base
			}
		}
		if !exported[name] {
			t.Errorf("%s refers to %s, which pathbot does not export", where, ref)
		}
	}
}

func TestAlertsAreWellFormed(t *testing.T) {
	t.Parallel()
	var rules alertRules
	load(t, "deploy/prometheus/alerts.yaml", &rules)
	runbook := string(read(t, "docs/runbook.md"))
	exported := exportedSeries(t)

	seen := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if seen[r.Alert] {
				t.Errorf("alert %s is defined twice", r.Alert)
			}
			seen[r.Alert] = true
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", r.Alert, a)
				}
			}
			if want := runbookBase + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			// GitHub derives the #anchor from the heading text.
			if !strings.Contains(runbook, "\n## "+r.Alert+"\n") {
				t.Errorf("%s: docs/runbook.md has no \"## %s\" section", r.Alert, r.Alert)
			}
			checkSeriesExist(t, r.Alert, r.Expr, exported)
		}
	}
	for _, want := range []string{
		"PathbotSocketDisconnected", "PathbotCommandErrorRate", "PathbotSlowResponses",
		"PathbotJobsFailing", "PathbotJobsPilingUp", "PathbotNudgesLate",
		"PathbotDatabaseUnreachable", "PathbotDown",
	} {
		if !seen[want] {
			t.Errorf("alerts.yaml lacks %s", want)
		}
	}

	var tests alertTests
	load(t, "deploy/prometheus/alerts_test.yaml", &tests)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, rt := range tc.RuleTests {
			if len(rt.ExpAlerts) > 0 {
				fires[rt.Alertname] = true
			} else {
				quiet[rt.Alertname] = true
			}
		}
	}
	for alert := range seen {
		if !fires[alert] {
			t.Errorf("alerts_test.yaml never shows %s firing", alert)
		}
		if !quiet[alert] {
			t.Errorf("alerts_test.yaml never shows %s staying quiet", alert)
		}
	}
}

func TestDocsNameRealSeries(t *testing.T) {
	t.Parallel()
	exported := exportedSeries(t)
	for _, doc := range []string{"docs/runbook.md", "docs/slo.md"} {
		checkSeriesExist(t, doc, string(read(t, doc)), exported)
	}
}
