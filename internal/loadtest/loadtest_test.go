package loadtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// binDir holds the pathbot binary the smoke test runs as the bot. TestMain owns it; the build
// happens on first use, so `go test -run '^$' -bench .` does not pay for it.
var (
	binDir    string
	buildOnce sync.Once
	botBin    string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pathbot-loadtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// botBinary builds ./cmd/pathbot of this module once per test process.
func botBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() { botBin, buildErr = buildBot(binDir) })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return botBin
}

// buildBot compiles ./cmd/pathbot of this module into dir.
func buildBot(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the pathbot module (go env GOMOD is %q)", gomod)
	}
	bin := filepath.Join(dir, "pathbot")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/pathbot")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the bot: %w\n%s", err, out)
	}
	return bin, nil
}

// TestSmoke runs the whole load test briefly and gently. It checks correctness, not speed: every
// command answered as it should be, no failure of any kind, and a database holding exactly the
// writes the bot answered as saved.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Postgres, the emulator and the bot")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{
		Rate: 200, Duration: 3 * time.Second, Warmup: time.Second, Users: 200, Connections: 2,
		BotBinary: botBinary(t), DatabaseURL: os.Getenv("DATABASE_URL"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Text())
	if err := rep.Err(); err != nil {
		t.Error(err)
	}
	if len(rep.Phases) != 1 {
		t.Fatalf("%d phases, want the one run", len(rep.Phases))
	}
	for _, p := range append([]*Phase{rep.Warmup}, rep.Phases...) {
		want := int64(p.TargetRate * p.Seconds)
		if p.Ramp {
			want /= 2
		}
		if p.Sent != want || p.Answered != want || p.Failed != 0 || len(p.Errors) != 0 {
			t.Errorf("%s: sent %d, answered %d, failed %d, errors %v; want all %d answered with no error",
				p.Name, p.Sent, p.Answered, p.Failed, p.Errors, want)
		}
	}
	run := rep.Phases[0]
	for k := range numKinds {
		if run.ByKind[k.String()].Count == 0 {
			t.Errorf("no %s command in the mix", k)
		}
	}
	if run.Response.Count != run.Sent || run.Ack.Count != run.Sent {
		t.Errorf("%d response and %d ack latencies recorded for %d requests", run.Response.Count, run.Ack.Count, run.Sent)
	}
	v := rep.Verify
	if v.Lost != 0 || v.Extra != 0 || v.Uncertain != 0 {
		t.Errorf("database: %d lost, %d extra, %d uncertain; want none: %v", v.Lost, v.Extra, v.Uncertain, v.Examples)
	}
	if v.ReadingsExpected == 0 || v.ShiftsExpected == 0 {
		t.Errorf("nothing to verify: %d readings and %d shifts expected", v.ReadingsExpected, v.ShiftsExpected)
	}
	if v.ReadingsFound != v.ReadingsExpected || v.ShiftsFound != v.ShiftsExpected {
		t.Errorf("database holds %d readings and %d shifts, answers say %d and %d",
			v.ReadingsFound, v.ShiftsFound, v.ReadingsExpected, v.ShiftsExpected)
	}
	if e := rep.Emulator; e.DispatchFailed != 0 || e.RefusedAcks != 0 || e.OversizeAcks != 0 || e.LateAcks != 0 {
		t.Errorf("Slack saw %d dispatch_failed, %d refused, %d oversize and %d late acks", e.DispatchFailed, e.RefusedAcks, e.OversizeAcks, e.LateAcks)
	}
	if strings.Contains(rep.Bot.LogTail, "level=ERROR") {
		t.Errorf("the bot logged errors under light load:%s", rep.Bot.LogTail)
	}
	if runtime.GOOS == "linux" && (rep.Bot.PeakRSSBytes == 0 || rep.Machine.Cores == 0) {
		t.Errorf("no process accounting: peak RSS %d, cores %d", rep.Bot.PeakRSSBytes, rep.Machine.Cores)
	}
}
