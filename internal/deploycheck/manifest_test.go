package deploycheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// scopesByCall maps each slack-go Web API call the code may make to the bot scopes it needs.
// A call missing here fails the test, so a new API call can't ship without its scope.
var scopesByCall = map[string][]string{
	"PostMessageContext":            {"chat:write"}, // nudges, leaderboards, response_url answers
	"OpenConversationContext":       {"im:write"},   // the DM for nudges
	"GetConversationHistoryContext": {"im:history", "channels:history"},
	"GetUserInfoContext":            {"users:read"},
	"GetUsersPaginated":             {"users:read"},
	"GetUsersInConversationContext": {"channels:read", "groups:read"},
	"PublishViewContext":            nil, // views.publish needs no scope
	"StartSocketModeContext":        nil, // app-level token, connections:write
	"GetConversationHistory":        {"im:history", "channels:history"},
	"PostMessage":                   {"chat:write"},
}

type manifest struct {
	Features struct {
		SlashCommands []struct {
			Command      string `yaml:"command"`
			ShouldEscape bool   `yaml:"should_escape"`
		} `yaml:"slash_commands"`
		AppHome struct {
			HomeTab bool `yaml:"home_tab_enabled"`
		} `yaml:"app_home"`
	} `yaml:"features"`
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			Bot []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		SocketMode bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

// apiCall finds method calls on a slack.Client held in a field or variable named api or API.
var apiCall = regexp.MustCompile(`\b(?:api|API)\.([A-Z][A-Za-z]+)\(`)

func TestSlackAppManifestMatchesCode(t *testing.T) {
	t.Parallel()
	dir := root(t)
	raw, err := os.ReadFile(filepath.Join(dir, "deploy", "slack-app-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("deploy/slack-app-manifest.yaml: %v", err)
	}

	need := map[string]bool{"commands": true} // the /path slash command
	events := map[string]bool{}
	usesAppHome := false
	err = filepath.WalkDir(filepath.Join(dir, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "slackemu" || d.Name() == "loadtest" || d.Name() == "e2e") {
			return filepath.SkipDir // the emulator and test drivers are not the bot
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, call := range apiCall.FindAllStringSubmatch(string(src), -1) {
			scopes, ok := scopesByCall[call[1]]
			if !ok {
				t.Errorf("%s calls api.%s: add it and its scopes to scopesByCall", path, call[1])
			}
			for _, s := range scopes {
				need[s] = true
			}
		}
		if strings.Contains(string(src), "slackevents.AppHomeOpenedEvent") {
			events["app_home_opened"] = true
			usesAppHome = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sorted(m.OAuth.Scopes.Bot), sortedKeys(need); !slices.Equal(got, want) {
		t.Errorf("manifest bot scopes = %v\nthe code needs exactly %v", got, want)
	}
	if got, want := sorted(m.Settings.Events.Bot), sortedKeys(events); !slices.Equal(got, want) {
		t.Errorf("manifest bot events = %v, the code handles %v", got, want)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/path" || !m.Features.SlashCommands[0].ShouldEscape {
		t.Errorf("manifest must declare exactly /path with should_escape (mentions arrive as <@U…>): %+v", m.Features.SlashCommands)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled {
		t.Error("manifest must enable Socket Mode and interactivity (buttons)")
	}
	if m.Features.AppHome.HomeTab != usesAppHome {
		t.Errorf("home tab enabled = %v, code publishes a home view = %v", m.Features.AppHome.HomeTab, usesAppHome)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
