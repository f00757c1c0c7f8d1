package deploycheck

import (
	"strings"
	"testing"
)

// flyTables reads fly.toml into table name → key → raw value. go.mod has no TOML library and
// fly.toml needs only tables and key = value lines, which is all this understands.
func flyTables(t *testing.T) map[string]map[string]string {
	t.Helper()
	tables := map[string]map[string]string{"": {}}
	cur := ""
	for i, line := range strings.Split(string(read(t, "deploy/fly/fly.toml")), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			cur = strings.Trim(line, "[] ")
			if tables[cur] == nil {
				tables[cur] = map[string]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("fly.toml:%d: cannot read %q", i+1, line)
			}
			tables[cur][strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return tables
}

func TestFly(t *testing.T) {
	t.Parallel()
	tables := flyTables(t)
	// A worker: Socket Mode dials out, so nothing may route public traffic to the Machines.
	for name := range tables {
		if name == "http_service" || name == "services" ||
			strings.HasPrefix(name, "http_service.") || strings.HasPrefix(name, "services.") {
			t.Errorf("fly.toml has [%s]; the bot needs no public service", name)
		}
	}
	if got := tables["processes"]["app"]; got != `"serve"` {
		t.Errorf(`[processes] app = %s, want "serve"`, got)
	}
	if got := tables["deploy"]["release_command"]; got != `"migrate"` {
		t.Errorf(`[deploy] release_command = %s, want "migrate"`, got)
	}
	if got := tables["env"]["MIGRATE_ON_START"]; got != `"false"` {
		t.Errorf(`[env] MIGRATE_ON_START = %s, want "false": the release command migrates`, got)
	}
	var healthChecks int
	for name, kv := range tables {
		if strings.HasPrefix(name, "checks.") && kv["port"] == "8080" &&
			(kv["path"] == `"/healthz"` || kv["path"] == `"/readyz"`) {
			healthChecks++
		}
	}
	if healthChecks == 0 {
		t.Error("fly.toml has no [checks.*] against /healthz or /readyz on port 8080")
	}
}

type renderBlueprint struct {
	Services []struct {
		Type           string `yaml:"type"`
		Name           string `yaml:"name"`
		Runtime        string `yaml:"runtime"`
		DockerfilePath string `yaml:"dockerfilePath"`
		EnvVars        []struct {
			Key          string  `yaml:"key"`
			Value        *string `yaml:"value"`
			Sync         *bool   `yaml:"sync"`
			FromDatabase *struct {
				Name     string `yaml:"name"`
				Property string `yaml:"property"`
			} `yaml:"fromDatabase"`
		} `yaml:"envVars"`
	} `yaml:"services"`
	Databases []struct {
		Name                 string   `yaml:"name"`
		PostgresMajorVersion string   `yaml:"postgresMajorVersion"`
		IPAllowList          []string `yaml:"ipAllowList"`
	} `yaml:"databases"`
}

func TestRender(t *testing.T) {
	t.Parallel()
	var bp renderBlueprint
	load(t, "deploy/render/render.yaml", &bp)
	if len(bp.Services) != 1 {
		t.Fatalf("render.yaml has %d services, want the one worker", len(bp.Services))
	}
	s := bp.Services[0]
	if s.Type != "worker" {
		t.Errorf("service type %q, want worker (no port, no public URL)", s.Type)
	}
	if s.Runtime != "docker" {
		t.Errorf("runtime %q, want docker", s.Runtime)
	}
	if !exists(t, strings.TrimPrefix(s.DockerfilePath, "./")) {
		t.Errorf("dockerfilePath %q does not exist", s.DockerfilePath)
	}
	dbs := map[string]bool{}
	for _, db := range bp.Databases {
		dbs[db.Name] = true
		if db.PostgresMajorVersion != "16" {
			t.Errorf("database %s runs Postgres %q, want 16", db.Name, db.PostgresMajorVersion)
		}
	}
	env := map[string]bool{}
	for _, e := range s.EnvVars {
		env[e.Key] = true
		switch e.Key {
		case "DATABASE_URL":
			if e.FromDatabase == nil || !dbs[e.FromDatabase.Name] || e.FromDatabase.Property != "connectionString" {
				t.Error("DATABASE_URL is not wired to the blueprint's database connectionString")
			}
		case "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN":
			if e.Sync == nil || *e.Sync || e.Value != nil {
				t.Errorf("%s must be sync: false with no value: secrets never go in the repository", e.Key)
			}
		}
	}
	for _, k := range []string{"DATABASE_URL", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"} {
		if !env[k] {
			t.Errorf("render.yaml does not set %s", k)
		}
	}
}
