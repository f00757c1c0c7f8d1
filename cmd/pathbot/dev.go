package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/pathbot/pathbot/internal/config"
	"github.com/pathbot/pathbot/internal/devenv"
)

// dev is `pathbot dev`: everything on this machine, with the Slack emulator standing in for
// Slack. The work is in package devenv, which the tests drive too.
func dev(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	addr := fs.String("addr", devenv.DefaultAddr, "address of the Slack emulator and its web UI")
	httpAddr := fs.String("http-addr", devenv.DefaultHTTPAddr, "address of the bot's health and metrics server")
	dataDir := fs.String("data", devenv.DefaultDataDir, "directory of the private PostgreSQL cluster (unused when DATABASE_URL is set)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := config.Load(ctx, 0)
	if err != nil {
		return err
	}
	env, err := devenv.Start(ctx, devenv.Options{
		Addr:        *addr,
		HTTPAddr:    *httpAddr,
		DatabaseURL: cfg.DatabaseURL,
		DataDir:     *dataDir,
		Base:        cfg,
	})
	if err != nil {
		return err
	}
	where := "DATABASE_URL"
	if env.DataDir != "" {
		where = env.DataDir
	}
	fmt.Printf("\npathbot dev is running: open %s\n  metrics:  %s\n  database: %s\nPress Ctrl-C to stop.\n\n",
		env.URL, env.MetricsURL, where)
	return env.Wait()
}
