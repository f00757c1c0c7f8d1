package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/pathbot/pathbot/internal/app"
	"github.com/pathbot/pathbot/internal/config"
	"github.com/pathbot/pathbot/internal/health"
	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/version"
)

func serve(ctx context.Context) error {
	cfg, err := config.Load(ctx, config.NeedSlack|config.NeedDatabase)
	if err != nil {
		return err
	}
	return app.Run(ctx, cfg, app.NewLogger(cfg))
}

func migrateCmd(ctx context.Context) error {
	cfg, err := config.Load(ctx, config.NeedDatabase)
	if err != nil {
		return err
	}
	return migrate.Up(ctx, cfg.DatabaseURL, app.NewLogger(cfg))
}

// healthCmd is the container HEALTHCHECK: distroless images have no shell or curl.
func healthCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	url := fs.String("url", "", "readiness URL (default: http://127.0.0.1<HTTP_ADDR>/readyz)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		cfg, err := config.Load(ctx, 0)
		if err != nil {
			return err
		}
		addr := cfg.HTTPAddr
		if len(addr) > 0 && addr[0] == ':' {
			addr = "127.0.0.1" + addr
		}
		*url = "http://" + addr + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := health.Probe(ctx, *url); err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	fmt.Println("ready")
	return nil
}

func versionString() string { return "pathbot " + version.String() }
