package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/pgcluster"
	"github.com/pathbot/pathbot/internal/slackemu"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitStatus polls url until it answers want.
func waitStatus(t *testing.T, url string, want int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := get(url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d (%s), want %d within %s", url, code, body, want, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestMetricsHealthAndReadinessFollowTheDatabase reads /metrics, /healthz and /readyz of a real
// `pathbot serve`, stops its Postgres (readiness goes not-ready, liveness stays ok), starts it
// again (ready again).
func TestMetricsHealthAndReadinessFollowTheDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	db := c.URL("postgres")
	if err := migrate.Up(context.Background(), db, nil); err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(db[strings.LastIndex(db, ":"):], ":")
	port = port[:strings.Index(port, "/")]

	emu := newEmulator(t)
	addr := freeAddr(t)
	startBot(t, emu, db, "HTTP_ADDR="+addr)
	base := "http://" + addr

	// A command, so the command and latency series have samples.
	if _, err := emu.SlashCommand(ctx(t, 10*time.Second), user, "", "/path", "status"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, base+"/healthz", 200, 10*time.Second)
	waitStatus(t, base+"/readyz", 200, 20*time.Second)
	_, metrics := get(base + "/metrics")
	for _, series := range []string{
		`pathbot_commands_total{command="status",outcome="ok"} 1`,
		`pathbot_ack_latency_seconds_bucket{type="slash_commands"`,
		`pathbot_response_latency_seconds_count{command="status"} 1`,
		`pathbot_socket_connected 1`,
		`pathbot_ready{check="db"} 1`,
		`pathbot_ready{check="socket"} 1`,
		`pathbot_db_pool_max_conns`,
		`pathbot_snapshot_cache_misses_total `,
		`pathbot_snapshot_cache_hits_total `,
		`pathbot_store_writes_total `,
		`pathbot_store_write_transactions_total `,
		`pathbot_build_info{`,
		`pathbot_slack_api_calls_total{method="apps.connections.open",status="ok"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	body := waitStatus(t, base+"/readyz", 503, 20*time.Second)
	if !strings.Contains(body, "db") {
		t.Errorf("/readyz while the database is down does not name it: %s", body)
	}
	waitStatus(t, base+"/healthz", 200, 5*time.Second) // alive: don't restart me
	if _, m := get(base + "/metrics"); !strings.Contains(m, `pathbot_ready{check="db"} 0`) {
		t.Errorf("pathbot_ready{check=\"db\"} is not 0 while the database is down")
	}

	var p int
	fmt.Sscan(port, &p)
	c2, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Port: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Stop() })
	waitStatus(t, base+"/readyz", 200, 30*time.Second)
	// And it serves commands again.
	res, err := emu.SlashCommand(ctx(t, 10*time.Second), user, "", "/path", "done dynamo")
	if err != nil || !strings.Contains(shown(res), "is done") {
		t.Fatalf("after the database came back: %v %s", err, shown(res))
	}
}

// TestSIGTERMDuringABurstLosesNothing sends SIGTERM while a burst of writes is in flight: every
// command that was acknowledged is answered and stored, and the process exits within 10 s.
func TestSIGTERMDuringABurstLosesNothing(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	emu := newEmulator(t)
	const n = 300
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("UTERM%03d", i)
		emu.AddUser(slackemu.User{ID: users[i], Name: fmt.Sprintf("term%d", i), TZ: "UTC"})
	}
	bot := startBot(t, emu, db)

	var wg sync.WaitGroup
	results := make([]*slackemu.Result, n)
	start := time.Now()
	var sigAt time.Time
	for i, u := range users {
		wg.Add(1)
		// Spread over ~1.5 s; SIGTERM lands in the middle.
		time.Sleep(5 * time.Millisecond)
		emu.SlashCommandAsync(u, "", "/path", "done tail-at-scale", func(r *slackemu.Result) {
			results[i] = r
			wg.Done()
		})
		if i == n/2 {
			sigAt = time.Now()
			if err := bot.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-bot.exited:
	case <-time.After(10*time.Second - time.Since(sigAt)):
		t.Fatalf("still running 10 s after SIGTERM")
	}
	bot.ended = true
	exitIn := time.Since(sigAt)
	if bot.err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", bot.err, bot.stderr.String())
	}
	wg.Wait()

	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	stored := map[string]bool{}
	rows, err := conn.Query(context.Background(), `SELECT user_id FROM reading_progress WHERE item_id = 'tail-at-scale'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		rows.Scan(&u)
		stored[u] = true
	}
	acked, unanswered, unstored := 0, 0, 0
	for i, r := range results {
		if r == nil || !r.Acked {
			continue // never acknowledged: Slack shows the user an error, nothing was promised
		}
		acked++
		if !r.Answered || !strings.Contains(shown(r), "is done") {
			unanswered++
		}
		if !stored[users[i]] {
			unstored++
		}
	}
	if acked == 0 || unanswered > 0 || unstored > 0 {
		t.Fatalf("%d acked, %d of them unanswered, %d not stored", acked, unanswered, unstored)
	}
	t.Logf("burst of %d over %s; SIGTERM mid-way; %d acked, all answered and stored; exited %s after SIGTERM",
		n, sigAt.Sub(start).Round(time.Millisecond), acked, exitIn.Round(time.Millisecond))
}
