// Package version identifies the running build: the release it came from, the commit and the
// build time, stamped in by the linker (-X) in the Dockerfile and filled from the Go build
// information when the binary was built some other way, such as `go install ...@v1.2.3`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// These are set at link time with -ldflags "-X github.com/pathbot/pathbot/internal/version.Version=...".
// They are variables, not constants, because the linker can only overwrite variables.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

func init() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	fillFromBuildInfo(bi)
}

// fillFromBuildInfo uses what the go command recorded only where the linker left a default, so an
// explicit -X always wins.
func fillFromBuildInfo(bi *debug.BuildInfo) {
	if Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && Commit == "":
			Commit = s.Value
		case s.Key == "vcs.time" && Date == "":
			Date = s.Value
		}
	}
}

// String describes the build in one line, such as "v1.2.3 (commit abc1234, built
// 2026-01-02T03:04:05Z, go1.26.8)", for `pathbot version` and the start-up log. It leaves out the
// program name so that callers can put it where they like.
func String() string {
	commit, date := Commit, Date
	if commit == "" {
		commit = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s)", Version, commit, date, runtime.Version())
}
