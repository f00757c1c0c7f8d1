package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"
)

// embeddedVersion matches the version the install hint recommends, so switching from the fallback
// to an installed server keeps the data directory usable.
const embeddedVersion = embeddedpostgres.V16

// embedded-postgres initializes clusters with password authentication and no way to change it.
const embeddedPassword = "postgres"

// startEmbedded is the last resort when no PostgreSQL is installed: embedded-postgres downloads a
// build once into its cache and runs it. It needs the network on first use, and it runs initdb as
// the current user, so it cannot work as root.
func startEmbedded(opt Options, dir string, logger *slog.Logger, h hooks) (*Cluster, error) {
	data := filepath.Join(dir, "data")
	// embedded-postgres deletes a data directory of another major version and starts afresh; a
	// developer's data must never go that way.
	if v, err := os.ReadFile(filepath.Join(data, "PG_VERSION")); err == nil {
		major := strings.TrimSpace(string(v))
		if !strings.HasPrefix(string(embeddedVersion), major+".") {
			return nil, fmt.Errorf("%s holds a PostgreSQL %s cluster, which embedded-postgres %s would delete; not touching it",
				data, major, embeddedVersion)
		}
	}
	if os.Geteuid() == 0 {
		return nil, errors.New("not tried: embedded-postgres runs initdb as the current user, and PostgreSQL refuses to run as root")
	}
	port := opt.Port
	if port == 0 {
		p, err := h.freePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for _, kv := range settings(opt.Durable) {
		params[kv[0]] = kv[1]
	}
	cfg := embeddedpostgres.DefaultConfig().
		Version(embeddedVersion).
		Port(uint32(port)).
		Username("postgres").
		Password(embeddedPassword).
		Database("postgres").
		// The library empties RuntimePath on every start, so it must be a directory of its own.
		RuntimePath(filepath.Join(dir, "embedded-runtime")).
		DataPath(data).
		Locale("C").
		Encoding("UTF8").
		StartParameters(params).
		StartTimeout(startTimeout).
		Logger(logFile)
	if h.embeddedRepo != "" {
		cfg = cfg.BinaryRepositoryURL(h.embeddedRepo)
	}
	if h.embeddedCache != "" {
		cfg = cfg.CachePath(h.embeddedCache)
	}
	ep := embeddedpostgres.NewDatabase(cfg)
	logger.Warn("no installed PostgreSQL; trying embedded-postgres, which downloads a build on first use", "version", embeddedVersion)
	if err := ep.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("embedded-postgres %s: %w", embeddedVersion, err), logFile.Close())
	}
	logger.Info("postgres started (embedded-postgres)", "dir", dir, "port", port, "durable", opt.Durable)
	return &Cluster{
		dir:    dir,
		port:   port,
		user:   url.UserPassword("postgres", embeddedPassword),
		logger: logger,
		stopFn: func(context.Context) error {
			return errors.Join(ep.Stop(), logFile.Close())
		},
	}, nil
}
