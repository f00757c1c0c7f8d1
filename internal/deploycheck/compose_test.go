package deploycheck

import (
	"slices"
	"strings"
	"testing"
)

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Command     []string                     `yaml:"command"`
	Environment map[string]string            `yaml:"environment"`
	EnvFile     []string                     `yaml:"env_file"`
	DependsOn   map[string]map[string]string `yaml:"depends_on"`
	Ports       []string                     `yaml:"ports"`
	Volumes     []string                     `yaml:"volumes"`
	Healthcheck map[string]any               `yaml:"healthcheck"`
	ReadOnly    bool                         `yaml:"read_only"`
	CapDrop     []string                     `yaml:"cap_drop"`
}

func TestCompose(t *testing.T) {
	t.Parallel()
	var c composeFile
	load(t, "deploy/compose.yaml", &c)

	pg, ok := c.Services["postgres"]
	if !ok {
		t.Fatal("compose has no postgres service")
	}
	if !strings.HasPrefix(pg.Image, "postgres:16") {
		t.Errorf("postgres image %q, want postgres:16", pg.Image)
	}
	if pg.Healthcheck["test"] == nil {
		t.Error("postgres has no healthcheck, so depends_on cannot wait for it")
	}
	if len(pg.Volumes) == 0 || len(c.Volumes) == 0 {
		t.Error("postgres data is not on a named volume")
	}

	mig, ok := c.Services["migrate"]
	if !ok {
		t.Fatal("compose has no migrate service")
	}
	if !slices.Equal(mig.Command, []string{"migrate"}) {
		t.Errorf("migrate runs %q, want [migrate]", mig.Command)
	}
	if mig.DependsOn["postgres"]["condition"] != "service_healthy" {
		t.Error("migrate does not wait for a healthy postgres")
	}

	bot, ok := c.Services["pathbot"]
	if !ok {
		t.Fatal("compose has no pathbot service")
	}
	if !slices.Equal(bot.Command, []string{"serve"}) {
		t.Errorf("pathbot runs %q, want [serve]", bot.Command)
	}
	if bot.DependsOn["migrate"]["condition"] != "service_completed_successfully" {
		t.Error("pathbot does not wait for the migration to complete")
	}
	if bot.Environment["MIGRATE_ON_START"] != "false" {
		t.Error("pathbot migrates on start although the migrate service already did")
	}
	if bot.Environment["DATABASE_URL"] == "" || len(bot.EnvFile) == 0 {
		t.Error("pathbot gets neither DATABASE_URL nor an env_file")
	}
	if !bot.ReadOnly || !slices.Contains(bot.CapDrop, "ALL") {
		t.Error("pathbot should run read-only with all capabilities dropped")
	}

	// Socket Mode needs no inbound port; anything published must stay on loopback.
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q beyond localhost", name, p)
			}
		}
	}
}
