package command

import "testing"

// BenchmarkParse covers what /path sees most under load (status, done, oncall) and the heavier
// forms (loadtest and log lines with several values, bad input that builds a usage message).
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"empty", ""},
		{"status", "status"},
		{"status_mention", "status <@U123ABC|alice>"},
		{"next", "next"},
		{"list", "list talks"},
		{"done_id", "done tail-at-scale"},
		{"done_title", "done “The Tail at Scale”"},
		{"undo", "undo tail at scale"},
		{"oncall_range", "oncall 2026-01-05..2026-01-11 night"},
		{"loadtest", "loadtest rps=5,000 p95=120ms p99=300ms max=1.2s https://grafana.example.com/d/checkout"},
		{"log_languages", "log languages Go, Python, Rust"},
		{"bad_verb", "frobnicate the widgets"},
		{"bad_date", "oncall 2026-02-30"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bc.text, today); err != nil && bc.name[:3] != "bad" {
					b.Fatalf("Parse(%q): %v", bc.text, err)
				}
			}
		})
	}
}
