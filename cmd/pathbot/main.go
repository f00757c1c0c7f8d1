// Command pathbot is the pathbot Slack bot: one binary whose subcommands run the bot (serve), apply
// the database migrations (migrate), run everything locally on the Slack emulator (dev), probe a
// running instance (health), drive a load test (loadtest), and print the version.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `pathbot coaches engineers along the senior engineer path, in Slack.

Usage: pathbot <command>

Commands:
  serve      run the bot (Socket Mode; config from the environment, see .env.example)
  migrate    apply pending database migrations and exit
  dev        run everything locally: Postgres, the Slack emulator with its web UI, and the bot
  loadtest   drive the bot through the emulator at a fixed rate and report latencies
  health     probe a running pathbot's readiness endpoint (exit 0 when ready)
  version    print the version
  help       show this help
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second signal means "now": skip the graceful drain.
		<-ctx.Done()
		stop()
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		fmt.Fprintln(os.Stderr, "pathbot: second signal, exiting at once")
		os.Exit(1)
	}()
	if err := run(ctx, os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "pathbot %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "serve":
		return serve(ctx)
	case "migrate":
		return migrateCmd(ctx)
	case "dev":
		return dev(ctx, args)
	case "loadtest":
		return loadtestCmd(ctx, args)
	case "health":
		return healthCmd(ctx, args)
	case "version", "--version", "-v":
		fmt.Println(versionString())
		return nil
	case "help", "--help", "-h":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
