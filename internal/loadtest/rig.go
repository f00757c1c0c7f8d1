package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/pathbot/pathbot/internal/config"
	"github.com/pathbot/pathbot/internal/slackemu"
)

// rig is what every kind of run drives the bot through: a Postgres with a team of its own, the
// emulator with one member per simulated user, a work directory, and the bot's environment and
// configuration as the bot will load them.
type rig struct {
	workDir string
	team    string
	db      *database
	emu     *slackemu.Server
	users   []string // the emulator's member ids, userID(0) onwards
	env     []string
	cfg     *config.Config

	pgSource   string            // "throwaway cluster" or the redacted DATABASE_URL
	pgSettings map[string]string // the server's durability settings, for the report
}

// rigOptions says what a rig is for.
type rigOptions struct {
	databaseURL string
	teamPrefix  string // the team is this plus a timestamp
	users       int
	env         []string // added to the bot's environment
	pprof       bool     // turn on the bot's PPROF endpoint (for -bot-cpuprofile)
	connections int
}

// newRig starts Postgres and the emulator. close undoes everything, also after an error.
func newRig(ctx context.Context, log *slog.Logger, o rigOptions) (r *rig, err error) {
	r = &rig{}
	defer func() {
		if err != nil {
			r.close(ctx)
			r = nil
		}
	}()
	if r.workDir, err = os.MkdirTemp("", "pathbot-loadtest-"); err != nil {
		return r, fmt.Errorf("create work directory: %w", err)
	}
	// A team of its own, so a run against a shared DATABASE_URL never touches anyone's data and
	// its rows can be found and removed afterwards.
	r.team = o.teamPrefix + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 36))
	log.Info("starting postgres")
	if r.db, err = startDatabase(ctx, o.databaseURL, log); err != nil {
		return r, err
	}
	if r.pgSettings, err = r.db.settings(ctx); err != nil {
		return r, err
	}
	r.pgSource = "throwaway cluster"
	if r.db.external {
		r.pgSource = "DATABASE_URL " + redact(r.db.url)
	}

	r.users = make([]string, o.users)
	for i := range r.users {
		r.users[i] = userID(i)
	}
	if r.emu, err = startEmulator(r.team, r.users); err != nil {
		return r, err
	}

	httpAddr, err := freeAddr()
	if err != nil {
		return r, err
	}
	base := o.env
	if o.pprof {
		base = append(slices.Clip(base), "PPROF=true")
	}
	r.env = botEnv(base, r.emu, r.db.url, httpAddr, o.connections)
	if r.cfg, err = config.LoadFrom(ctx, envconfig.MapLookuper(envMap(r.env)), config.NeedSlack|config.NeedDatabase); err != nil {
		return r, fmt.Errorf("the bot's configuration: %w", err)
	}
	return r, nil
}

// botTuning is the Go runtime settings given to the bot, for the report; nil when none.
func (r *rig) botTuning() map[string]string {
	var t map[string]string
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := lookupEnv(r.env, k); ok {
			if t == nil {
				t = map[string]string{}
			}
			t[k] = v
		}
	}
	return t
}

// close stops the emulator, removes the run's rows (or the throwaway cluster) and the work
// directory.
func (r *rig) close(ctx context.Context) {
	if r.emu != nil {
		r.emu.Close()
	}
	if r.db != nil {
		r.db.close(context.WithoutCancel(ctx), r.team)
	}
	if r.workDir != "" {
		os.RemoveAll(r.workDir)
	}
}
