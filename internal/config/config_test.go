package config

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"SLACK_APP_TOKEN": "xapp-1-A-secret",
		"SLACK_BOT_TOKEN": "xoxb-secret",
		"DATABASE_URL":    "postgres://u:p@localhost:5432/pathbot",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "<unset>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		need    Need
		wantErr string // substring; "" means success
	}{
		{"all good", good, NeedSlack | NeedDatabase, ""},
		{"missing app token", with("SLACK_APP_TOKEN", "<unset>"), NeedSlack, "SLACK_APP_TOKEN: missing"},
		{"bot token in app slot", with("SLACK_APP_TOKEN", "xoxb-1"), NeedSlack, "SLACK_APP_TOKEN: expected an app-level token"},
		{"app token in bot slot", with("SLACK_BOT_TOKEN", "xapp-1"), NeedSlack, "SLACK_BOT_TOKEN: expected a bot token"},
		{"missing database", with("DATABASE_URL", "<unset>"), NeedDatabase, "DATABASE_URL: missing"},
		{"database not needed", with("DATABASE_URL", "<unset>"), NeedSlack, ""},
		{"mysql url", with("DATABASE_URL", "mysql://x"), NeedDatabase, "DATABASE_URL: expected a Postgres URL"},
		{"bad api url", with("SLACK_API_URL", "not a url"), NeedSlack, "SLACK_API_URL"},
		{"bad level", with("LOG_LEVEL", "loud"), 0, "LOG_LEVEL"},
		{"bad duration", with("LOADTEST_P95", "fast"), 0, "LOADTEST_P95"},
		{"p95 over p99", with("LOADTEST_P95", "900ms"), 0, "LOADTEST_P95 ≤ LOADTEST_P99"},
		{"bad bool", with("MIGRATE_ON_START", "perhaps"), 0, "MIGRATE_ON_START"},
		{"too many sockets", with("SOCKET_CONNECTIONS", "11"), 0, "SOCKET_CONNECTIONS"},
		{"negative in-flight bound", with("MAX_IN_FLIGHT", "-1"), 0, "MAX_IN_FLIGHT"},
		{"in-flight bound not a number", with("MAX_IN_FLIGHT", "lots"), 0, "MAX_IN_FLIGHT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadFrom(context.Background(), envconfig.MapLookuper(tt.env), tt.need)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks a token: %v", err)
			}
			_ = c
		})
	}
}

func TestAPIURLGetsTrailingSlash(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(context.Background(), envconfig.MapLookuper(map[string]string{
		"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:3000/api",
	}), NeedSlack)
	if err != nil {
		t.Fatal(err)
	}
	if c.SlackAPIURL != "http://127.0.0.1:3000/api/" {
		t.Fatalf("SlackAPIURL = %q", c.SlackAPIURL)
	}
}

func TestInFlightLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		want int
	}{
		{map[string]string{}, 256 * 20},
		{map[string]string{"DB_MAX_CONNS": "8"}, 256 * 8},
		{map[string]string{"DB_MAX_CONNS": "8", "MAX_IN_FLIGHT": "50"}, 50},
	} {
		c, err := LoadFrom(context.Background(), envconfig.MapLookuper(tt.env), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.InFlightLimit(); got != tt.want {
			t.Errorf("%v: InFlightLimit() = %d, want %d", tt.env, got, tt.want)
		}
	}
}

// TestEnvExampleDocumentsEveryVariable keeps .env.example (and so the README's table) complete.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	ty := reflect.TypeOf(Config{})
	for i := 0; i < ty.NumField(); i++ {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("env"), ",")
		if !strings.Contains(string(raw), "\n"+name+"=") {
			t.Errorf(".env.example does not document %s", name)
		}
	}
}
