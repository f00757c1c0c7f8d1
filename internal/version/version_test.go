package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// set replaces the package variables for one test and puts them back afterwards, so tests that
// mutate them stay independent (and must not run in parallel).
func set(t *testing.T, v, c, d string) {
	t.Helper()
	ov, oc, od := Version, Commit, Date
	Version, Commit, Date = v, c, d
	t.Cleanup(func() { Version, Commit, Date = ov, oc, od })
}

func TestStringWithLinkerValues(t *testing.T) {
	set(t, "v1.2.3", "abc1234", "2026-01-02T03:04:05Z")
	want := "v1.2.3 (commit abc1234, built 2026-01-02T03:04:05Z, " + runtime.Version() + ")"
	if got := String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestStringWithDefaults(t *testing.T) {
	set(t, "dev", "", "")
	got := String()
	if !strings.HasPrefix(got, "dev (commit unknown, built unknown, ") {
		t.Errorf("String() = %q", got)
	}
}

func TestFillFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/pathbot/pathbot", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "deadbeef"},
			{Key: "vcs.time", Value: "2026-03-04T05:06:07Z"},
		},
	}

	t.Run("defaults are filled", func(t *testing.T) {
		set(t, "dev", "", "")
		fillFromBuildInfo(bi)
		if Version != "v0.4.0" || Commit != "deadbeef" || Date != "2026-03-04T05:06:07Z" {
			t.Errorf("got %q %q %q", Version, Commit, Date)
		}
	})

	t.Run("linker values win", func(t *testing.T) {
		set(t, "v9.9.9", "cafe", "yesterday")
		fillFromBuildInfo(bi)
		if Version != "v9.9.9" || Commit != "cafe" || Date != "yesterday" {
			t.Errorf("got %q %q %q", Version, Commit, Date)
		}
	})

	t.Run("devel main module keeps dev", func(t *testing.T) {
		set(t, "dev", "", "")
		fillFromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
		if Version != "dev" || Commit != "" || Date != "" {
			t.Errorf("got %q %q %q", Version, Commit, Date)
		}
	})
}
