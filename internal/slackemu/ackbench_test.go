package slackemu

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// ackPayloads are answers pathbot really sent in a load test (status, next, list, done, undo,
// oncall, bad input), as its acks carried them.
func ackPayloads(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ack_payloads.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for line := range bytes.Lines(b) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, line)
		}
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSlashCommandRealAcks is the load test's path through the emulator: open-loop
// SlashCommandAsync, per/ms commands each millisecond (1,000/s and 5,000/s), a bare WebSocket
// client acking each envelope at once with one of the answers pathbot really gives (Block Kit
// checked, stored, handed back). cpu-µs/op is this process's CPU time per command, client
// included.
func BenchmarkSlashCommandRealAcks(b *testing.B) {
	for _, perMs := range []int{1, 5} {
		b.Run(fmt.Sprintf("per_ms=%d", perMs), func(b *testing.B) { benchRealAcks(b, perMs) })
	}
}

func benchRealAcks(b *testing.B, perMs int) {
	s := New(Config{HistoryLimit: 16})
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	s.SeedTeammates()
	payloads := ackPayloads(b)
	info, url, err := botAPI(s).StartSocketModeContext(context.Background())
	if err != nil || info == nil {
		b.Fatal(err)
	}
	c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		b.Fatal(err)
	}
	_ = resp.Body.Close()
	b.Cleanup(func() { _ = c.Close() })
	acks := make(chan []byte, 4096)
	go func() {
		defer close(acks)
		key := []byte(`"envelope_id":"`)
		n := 0
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			i := bytes.Index(msg, key)
			if i < 0 {
				continue
			}
			id := msg[i+len(key):]
			id = id[:bytes.IndexByte(id, '"')]
			ack := append(append(append([]byte(`{"envelope_id":"`), id...), `","payload":`...), payloads[n%len(payloads)]...)
			acks <- append(ack, '}')
			n++
		}
	}()
	go func() {
		for a := range acks {
			if c.WriteMessage(websocket.TextMessage, a) != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.WaitConnections(ctx, 1); err != nil {
		b.Fatal(err)
	}
	users := []string{"U0ASHA", "U0BEN", "U0CLARA", "U0DIEGO", "U0EMI", "U0FINN", "U0GRACE"}
	var wg sync.WaitGroup
	var failed atomic.Int64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; {
		<-tick.C
		for j := 0; j < perMs && i < b.N; j++ {
			wg.Add(1)
			s.SlashCommandAsync(users[i%len(users)], "", "/path", "status", func(r *Result) {
				if r.Error != "" || !r.Answered || len(r.Messages) == 0 {
					failed.Add(1)
				}
				wg.Done()
			})
			i++
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d commands failed", n)
	}
}

// BenchmarkSlashRoundTrip is one slash command's whole way through the emulator, in process
// and without a network: prepareSlash, the envelope queued on a link, the ack (one of the
// answers pathbot really gives) read as a link's reader hands it over, the check of its
// blocks, the stored answer and the Result delivered. The sockets are left out so that what
// the emulator itself spends stands out.
func BenchmarkSlashRoundTrip(b *testing.B) {
	s := New(Config{HistoryLimit: 16})
	b.Cleanup(func() { _ = s.Close() })
	s.SeedTeammates()
	l := &link{s: s, host: "bench", out: make(chan frame, 1), done: make(chan struct{})}
	s.links.Store(&[]*link{l})
	b.Cleanup(func() { s.unpublish(l) }) // before Close, which would close its (absent) socket
	payloads := ackPayloads(b)
	users := []string{"U0ASHA", "U0BEN", "U0CLARA", "U0DIEGO", "U0EMI", "U0FINN", "U0GRACE"}
	var answered int
	done := func(r *Result) {
		if r.Error == "" && r.Answered && len(r.Messages) > 0 {
			answered++
		}
	}
	var ack []byte
	b.ReportAllocs()
	// CPU time, GC included, is steadier than wall time on a shared machine.
	cpu0 := cpuTime()
	for i := range b.N {
		s.SlashCommandAsync(users[i%len(users)], "", "/path", "status", done)
		f := <-l.out
		id := f.data[len(slashEnvHead1) : len(slashEnvHead1)+36]
		ack = append(append(append(ack[:0], `{"envelope_id":"`...), id...), `","payload":`...)
		ack = append(append(ack, payloads[i%len(payloads)]...), '}')
		s.handleFrame(l, ack)
		s.written(f)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if answered != b.N {
		b.Fatalf("%d of %d commands answered", answered, b.N)
	}
}
