package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/slackbot"
	"github.com/pathbot/pathbot/internal/store"
)

// Composer writes the messages; slackbot.Handler is the real one.
type Composer interface {
	Nudge(ctx context.Context, m store.Member, marker string, now time.Time) (slackbot.Reply, bool, error)
	LeaderboardPost(ctx context.Context, teamID, marker string, now time.Time) (slackbot.Reply, bool, error)
	Welcome(marker string) slackbot.Reply
}

// Observer receives job outcomes, for metrics; nil records nothing.
type Observer interface {
	JobFinished(kind, state string, d time.Duration)
	NudgeSent()
	LeaderboardPosted()
	SetNudgesOverdue(n int)
	SetJobsQueued(counts map[string]int)
}

// Config is how the jobs run.
type Config struct {
	NudgeSpec          string         // team default, e.g. "0 9 * * MON", in each member's zone
	LeaderboardSpec    string         // e.g. "0 16 * * FRI", in TeamTZ
	TeamTZ             *time.Location // the team's zone, also the fallback for members without one
	SweepSpec          string         // how often the sweep runs, e.g. "@every 1m"
	LeaderboardChannel string         // default channel when a team set none
	// RescueAfter is how long a job may run before River hands it to another worker: the bound
	// on how long a crashed replica delays a nudge.
	RescueAfter time.Duration
	// ProfileMaxAge is how old a cached name and time zone may get before it is fetched again.
	ProfileMaxAge time.Duration
	Workers       int
}

// Jobs owns the River client and the workers.
type Jobs struct {
	cfg      Config
	db       *store.DB
	api      *slack.Client
	compose  Composer
	obs      Observer
	log      *slog.Logger
	nudge    cron.Schedule
	board    cron.Schedule
	river    *river.Client[pgx.Tx]
	Now      func() time.Time
	snoozeFn func(time.Duration) error
	// pacers holds one *pacer per workspace and Slack method; a job whose turn is more than
	// maxWait away is snoozed instead of claiming its delivery.
	pacers  sync.Map
	maxWait time.Duration
}

// Job kinds.
const (
	KindSweep       = "sweep"
	KindNudge       = "nudge"
	KindLeaderboard = "leaderboard"
	KindWelcome     = "welcome"
)

// SweepArgs is the periodic sweep.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return KindSweep }

// NudgeArgs is one member's nudge for one week (Key); unique by args.
type NudgeArgs struct {
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	Key    string `json:"key"`
}

// Kind implements river.JobArgs.
func (NudgeArgs) Kind() string { return KindNudge }

// LeaderboardArgs is one team's leaderboard post for one week (Key).
type LeaderboardArgs struct {
	TeamID  string `json:"team_id"`
	Channel string `json:"channel"`
	Key     string `json:"key"`
}

// Kind implements river.JobArgs.
func (LeaderboardArgs) Kind() string { return KindLeaderboard }

// WelcomeArgs is the enrolment DM.
type WelcomeArgs struct {
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
}

// Kind implements river.JobArgs.
func (WelcomeArgs) Kind() string { return KindWelcome }

// fetchCooldown is how soon River fills worker slots that came free. At River's default of
// 100 ms a queue runs at most MaxWorkers jobs per 100 ms however quick each job is: 200 nudges a
// second with 20 workers, which made 10,000 due nudges take a minute. At 10 ms that cap is far
// above what Postgres and Slack allow; River only fetches this often while jobs are waiting.
const fetchCooldown = 10 * time.Millisecond

var unique = &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: 12}

// New builds the job system. The River client is created but not started.
func New(pool *pgxpool.Pool, db *store.DB, api *slack.Client, compose Composer, obs Observer, cfg Config, log *slog.Logger) (*Jobs, error) {
	if cfg.TeamTZ == nil {
		cfg.TeamTZ = time.UTC
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = 5 * time.Minute
	}
	if cfg.ProfileMaxAge == 0 {
		cfg.ProfileMaxAge = 24 * time.Hour
	}
	if cfg.Workers == 0 {
		cfg.Workers = 30
	}
	j := &Jobs{cfg: cfg, db: db, api: api, compose: compose, obs: obs, log: log, Now: time.Now,
		maxWait: min(20*time.Second, cfg.RescueAfter/8)}
	var err error
	if j.nudge, err = ParseSpec(cfg.NudgeSpec); err != nil {
		return nil, fmt.Errorf("NUDGE_SCHEDULE: %w", err)
	}
	if j.board, err = ParseSpec(cfg.LeaderboardSpec); err != nil {
		return nil, fmt.Errorf("LEADERBOARD_SCHEDULE: %w", err)
	}
	sweep, err := ParseSpec(cfg.SweepSpec)
	if err != nil {
		return nil, fmt.Errorf("SWEEP_SCHEDULE: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[SweepArgs]) error {
		start := time.Now()
		res, err := j.Sweep(ctx, j.Now())
		if err == nil && (res.Scheduled > 0 || len(res.Enqueued) > 0 || res.Profiles > 0 || res.Pruned > 0) {
			j.log.Info("sweep done", "profiles", res.Profiles, "scheduled", res.Scheduled, "nudges", len(res.Enqueued),
				"leaderboards", len(res.Leaderboard), "pruned", res.Pruned, "took", time.Since(start).Round(time.Millisecond))
		}
		return err
	}))
	river.AddWorker(workers, river.WorkFunc(j.workNudge))
	river.AddWorker(workers, river.WorkFunc(j.workLeaderboard))
	river.AddWorker(workers, river.WorkFunc(j.workWelcome))
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:               log,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		FetchCooldown:        fetchCooldown,
		Workers:              workers,
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           cfg.RescueAfter / 2,
		PeriodicJobs: []*river.PeriodicJob{
			// Periodic jobs run on the elected leader only, so N replicas sweep once.
			river.NewPeriodicJob(sweep, func() (river.JobArgs, *river.InsertOpts) {
				return SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Second}}
			}, &river.PeriodicJobOpts{RunOnStart: true}),
		},
		ErrorHandler: &errorLogger{log: log},
	})
	if err != nil {
		return nil, fmt.Errorf("create river client: %w", err)
	}
	j.river = rc
	if obs != nil {
		go j.observe(rc)
	}
	return j, nil
}

// Start starts working jobs.
func (j *Jobs) Start(ctx context.Context) error {
	if err := j.river.Start(ctx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	return nil
}

// Stop finishes in-flight jobs and stops (River's soft stop), giving up when ctx ends.
func (j *Jobs) Stop(ctx context.Context) error {
	err := j.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Out of patience: cancel what is left; River rescues those jobs on another replica.
		return j.river.StopAndCancel(context.Background())
	}
	return err
}

// Client exposes the River client to tests.
func (j *Jobs) Client() *river.Client[pgx.Tx] { return j.river }

func (j *Jobs) observe(rc *river.Client[pgx.Tx]) {
	events, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobSnoozed, river.EventKindJobCancelled)
	defer cancel()
	for ev := range events {
		if ev == nil || ev.Job == nil {
			continue
		}
		state := string(ev.Kind)
		switch ev.Kind {
		case river.EventKindJobCompleted:
			state = "completed"
		case river.EventKindJobFailed:
			state = "failed"
			if ev.Job.State == "discarded" {
				state = "discarded"
			}
		case river.EventKindJobSnoozed:
			state = "snoozed"
		case river.EventKindJobCancelled:
			state = "cancelled"
		}
		var d time.Duration
		if ev.JobStats != nil {
			d = ev.JobStats.RunDuration
		}
		j.obs.JobFinished(ev.Job.Kind, state, d)
	}
}

type errorLogger struct{ log *slog.Logger }

func (e *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	e.log.Warn("job failed; will retry", "kind", job.Kind, "attempt", job.Attempt, "err", err)
	return nil
}

func (e *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	e.log.Error("job panicked", "kind", job.Kind, "panic", panicVal)
	return nil
}

// NudgeNow enqueues one nudge outside the weekly schedule (admin nudge-now).
func (j *Jobs) NudgeNow(ctx context.Context, m store.Member, key string) error {
	_, err := j.river.Insert(ctx, NudgeArgs{TeamID: m.TeamID, UserID: m.UserID, Key: key}, unique)
	if err != nil {
		return fmt.Errorf("enqueue nudge for %s: %w", m, err)
	}
	return nil
}

// PostLeaderboard enqueues a leaderboard post now.
func (j *Jobs) PostLeaderboard(ctx context.Context, teamID, channel, key string) error {
	_, err := j.river.Insert(ctx, LeaderboardArgs{TeamID: teamID, Channel: channel, Key: key}, unique)
	if err != nil {
		return fmt.Errorf("enqueue leaderboard for %s: %w", teamID, err)
	}
	return nil
}

// Welcome enqueues the enrolment DM.
func (j *Jobs) Welcome(ctx context.Context, m store.Member) error {
	_, err := j.river.Insert(ctx, WelcomeArgs{TeamID: m.TeamID, UserID: m.UserID}, unique)
	if err != nil {
		return fmt.Errorf("enqueue welcome for %s: %w", m, err)
	}
	return nil
}

// memberSpec is a member's own schedule, or the team default.
func (j *Jobs) memberSpec(t store.NudgeTarget) cron.Schedule {
	if t.NudgeWeekday != nil && t.NudgeMinute != nil {
		if s, err := ParseSpec(WeeklySpec(time.Weekday(*t.NudgeWeekday), *t.NudgeMinute)); err == nil {
			return s
		}
	}
	return j.nudge
}

// SweepResult says what one sweep did.
type SweepResult struct {
	Scheduled   int
	Enqueued    []NudgeArgs
	Skipped     int // due while paused
	Leaderboard []LeaderboardArgs
	Pruned      int64 // commands forgotten (older than store.CommandRetention)
	Profiles    int   // users listed to refresh members' names and time zones
}

const batch = 500

// pruneChunk is how many old commands one statement of the sweep forgets; they lock no member.
const pruneChunk = 1000

// Sweep does one round of scheduling as of now: fetch missing or stale time zones, give new
// members a next nudge time, enqueue due nudges and leaderboards, and forget commands too old to
// be redelivered. It is safe to run concurrently
// (rows are claimed with SKIP LOCKED, jobs are unique) though River runs it on the leader only.
func (j *Jobs) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	teams, err := j.db.Teams(ctx)
	if err != nil {
		return res, err
	}
	for _, t := range teams {
		n, err := j.syncProfiles(ctx, t.ID)
		res.Profiles += n
		if err != nil {
			// Nudges still go out in the fallback zone; log and carry on.
			j.log.Warn("could not refresh names and time zones", "team", t.ID, "err", err)
		}
	}
	for {
		start := time.Now()
		targets, err := j.db.Unscheduled(ctx, store.SweepChunk)
		if err != nil {
			return res, err
		}
		next := make([]time.Time, len(targets))
		for i, t := range targets {
			next[i] = Next(j.memberSpec(t), now, Location(t.TZ, j.cfg.TeamTZ))
		}
		n, err := j.db.SetNextNudges(ctx, targets, next)
		if err != nil {
			return res, err
		}
		res.Scheduled += n
		// Stop when done, or when a chunk stored nothing (another sweeper got there first),
		// which also guarantees the loop ends.
		if len(targets) < store.SweepChunk || n == 0 {
			break
		}
		if err := yield(ctx, start); err != nil {
			return res, err
		}
	}
	for {
		n, err := j.db.ClaimDue(ctx, now, batch, func(tx pgx.Tx, due []store.NudgeTarget) ([]time.Time, error) {
			next := make([]time.Time, len(due))
			var params []river.InsertManyParams
			for i, t := range due {
				loc := Location(t.TZ, j.cfg.TeamTZ)
				// A bot that was down catches up with one late nudge, not a burst of old ones.
				next[i] = Next(j.memberSpec(t), maxTime(t.Due, now), loc)
				if t.PausedUntil != nil && t.Due.Before(*t.PausedUntil) {
					res.Skipped++
					continue
				}
				args := NudgeArgs{TeamID: t.TeamID, UserID: t.UserID, Key: WeekKey(t.Due, loc)}
				params = append(params, river.InsertManyParams{Args: args, InsertOpts: unique})
				res.Enqueued = append(res.Enqueued, args)
			}
			if len(params) > 0 {
				if _, err := j.river.InsertManyTx(ctx, tx, params); err != nil {
					return nil, fmt.Errorf("enqueue nudges: %w", err)
				}
			}
			return next, nil
		})
		if err != nil {
			return res, err
		}
		if n < batch {
			break
		}
	}
	for _, t := range teams {
		due := t.NextLeaderboardAt
		if due != nil && due.After(now) {
			continue
		}
		from := now
		if due != nil {
			from = maxTime(*due, now)
		}
		next := Next(j.board, from, j.cfg.TeamTZ)
		var args LeaderboardArgs
		_, err := j.db.ClaimLeaderboard(ctx, t.ID, due, next, func(tx pgx.Tx) error {
			ch := t.LeaderboardChannel
			if ch == "" {
				ch = j.cfg.LeaderboardChannel
			}
			if ch == "" {
				j.log.Warn("no leaderboard channel; set LEADERBOARD_CHANNEL or use /path admin leaderboard-channel", "team", t.ID)
				return nil
			}
			args = LeaderboardArgs{TeamID: t.ID, Channel: ch, Key: WeekKey(*due, j.cfg.TeamTZ)}
			_, err := j.river.InsertTx(ctx, tx, args, unique)
			return err
		})
		if err != nil {
			return res, err
		}
		if args.Key != "" {
			res.Leaderboard = append(res.Leaderboard, args)
		}
	}
	// Forget commands older than any redelivery, a chunk at a time, pausing like the rest.
	for {
		start := time.Now()
		n, err := j.db.PruneCommands(ctx, store.CommandRetention, pruneChunk)
		if err != nil {
			return res, err
		}
		res.Pruned += n
		if n < pruneChunk {
			break
		}
		if err := yield(ctx, start); err != nil {
			return res, err
		}
	}
	if j.obs != nil {
		if n, err := j.db.Overdue(ctx, now, time.Hour); err == nil {
			j.obs.SetNudgesOverdue(n)
		}
		if q, err := j.db.QueuedJobs(ctx); err == nil {
			j.obs.SetJobsQueued(q)
		}
	}
	return res, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// syncProfiles refreshes display names and time zones of a team's members whose cached copy is
// missing or stale: users.info for a few, users.list (far fewer calls) for many.
func (j *Jobs) syncProfiles(ctx context.Context, teamID string) (n int, err error) {
	stale, err := j.db.StaleProfiles(ctx, teamID, j.cfg.ProfileMaxAge)
	if err != nil || stale == 0 {
		return 0, err
	}
	// Page by page, each stored before the next is fetched, with the sweep's pauses in between:
	// a large workspace's whole list at once was a burst of decoding and updates.
	pages := j.api.GetUsersPaginated(slack.GetUsersOptionLimit(200))
	for {
		start := time.Now()
		var next slack.UserPagination
		err := slackbot.Retry(ctx, func() error {
			var err error
			next, err = pages.Next(ctx)
			return err
		})
		if pages.Done(err) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("users.list: %w", err)
		}
		pages = next
		if err := yield(ctx, start); err != nil {
			return n, err
		}
		for chunk := range slices.Chunk(next.Users, store.SweepChunk) {
			start := time.Now()
			ps := make([]store.Profile, 0, len(chunk))
			for _, u := range chunk {
				name := u.Profile.DisplayName
				if name == "" {
					name = u.RealName
				}
				if name == "" {
					name = u.Name
				}
				ps = append(ps, store.Profile{UserID: u.ID, DisplayName: name, TZ: u.TZ, Gone: u.Deleted})
			}
			if err := j.db.UpdateProfiles(ctx, teamID, ps, j.cfg.ProfileMaxAge); err != nil {
				return n, err
			}
			n += len(ps)
			if err := yield(ctx, start); err != nil {
				return n, err
			}
		}
	}
}

// yield pauses the sweep for as long as its last chunk took, so that its bulk work (a new team
// of 10,000 members is 400 statements) takes at most about half of what the database and the
// bot can give: in the load test one sweep run at full speed made a second of commands with p99
// 176 ms and max 256 ms.
func yield(ctx context.Context, since time.Time) error {
	t := time.NewTimer(time.Since(since))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// permanent are Slack errors after which messaging this person cannot succeed.
var permanent = map[string]bool{
	"user_not_found": true, "account_inactive": true, "cannot_dm_bot": true, "user_disabled": true,
	"user_not_visible": true, "channel_not_found": true, "is_archived": true, "not_in_channel": true,
	"restricted_action": true, "missing_scope": true,
}

// classify maps a Slack error to what River should do: snooze on 429, stop on permanent errors,
// retry with backoff otherwise.
func classify(err error) (snooze time.Duration, perm bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, time.Second), false
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && permanent[se.Err] {
		return 0, true
	}
	return 0, false
}

func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return err.Error()
}

// outgoing is one proactive message, sent at most once under (kind, team, key).
type outgoing struct {
	kind, teamID, key string
	// channel is where it goes. A direct message leaves it empty and names the member in userID
	// instead: it goes to their DM channel when known, else to their user id, which Slack takes
	// as "the app's DM with them" (no conversations.open call, no write to the member's row);
	// the delivery record keeps the channel Slack answers with.
	channel string
	userID  string
	// compose writes it; ok false means there is nothing to send. r is the recipient of a
	// direct message.
	compose func(marker string, r store.Recipient) (reply slackbot.Reply, ok bool, err error)
}

// deliver sends one proactive message at most once: the record is made before sending, and a
// retry that finds it pending looks for the marker in the channel's history before sending again.
// Calls to chat.postMessage go through the workspace's pacer, so that all workers together stay
// at Slack's rate limit; a 429 means Slack took nothing, so the same attempt waits and tries again.
func (j *Jobs) deliver(ctx context.Context, o outgoing) error {
	p := j.pacerFor(o.teamID, "chat.postMessage")
	// Look before claiming, but take no turn yet: a job that would wait too long is snoozed with
	// nothing recorded, so that its next attempt is a fresh one with no history to search.
	if d := p.ahead(); d > j.maxWait {
		return river.JobSnooze(d)
	}
	var d store.Delivery
	var rcpt store.Recipient
	var err error
	if o.userID != "" {
		d, rcpt, err = j.db.ClaimDM(ctx, o.kind, store.Member{TeamID: o.teamID, UserID: o.userID}, o.key)
	} else {
		d, err = j.db.ClaimDelivery(ctx, o.kind, o.teamID, o.key)
	}
	if err != nil {
		return err
	}
	if d.Status != "pending" {
		return nil // sent, skipped or failed before: never again
	}
	marker := markerFor(o.kind, o.key)
	reply, ok, err := o.compose(marker, rcpt)
	if err != nil {
		return err
	}
	if !ok {
		return j.db.FinishDelivery(ctx, o.kind, o.teamID, o.key, "skipped", "", "", "nothing to send")
	}
	target := o.channel
	if o.userID != "" {
		target = cmp.Or(rcpt.DMChannel, o.userID)
	}
	if !d.Fresh {
		// An earlier attempt may have sent it: look in the channel (a conversation id is needed).
		if o.userID != "" && target == o.userID {
			if target, err = j.dm(ctx, store.Member{TeamID: o.teamID, UserID: o.userID}); err != nil {
				return j.fail(ctx, o.kind, o.teamID, o.key, err)
			}
		}
		ts, found, err := j.findSent(ctx, target, marker, d.CreatedAt)
		if err != nil {
			return j.fail(ctx, o.kind, o.teamID, o.key, err)
		}
		if found {
			return j.db.FinishSent(ctx, o.kind, o.teamID, o.key, target, ts, "found in history after a retry")
		}
	}
	// The turn is taken only now that a message will go out: a duplicate job, a stopped member
	// or a message found in the history leaves the workspace's allowance to those who send.
	// Workers that looked at the same moment may have taken the turns in between, and snoozing
	// now would cost the next attempt a history search, so the wait may run to twice maxWait
	// (still at most half of JobTimeout).
	if d, ok, err := p.wait(ctx, 2*j.maxWait); err != nil || !ok {
		return river.JobSnooze(max(d, time.Second))
	}
	for try := 1; ; try++ {
		sent := p.now()
		ch, ts, err := j.api.PostMessageContext(ctx, target, slack.MsgOptionText(reply.Text, false), slack.MsgOptionBlocks(reply.Blocks...))
		if err == nil {
			p.accepted(sent)
			return j.db.FinishSent(ctx, o.kind, o.teamID, o.key, ch, ts, "")
		}
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			return j.fail(ctx, o.kind, o.teamID, o.key, err)
		}
		p.limited(sent, rl.RetryAfter)
		if try == maxTries {
			return j.fail(ctx, o.kind, o.teamID, o.key, err)
		}
		if _, ok, werr := p.wait(ctx, j.maxWait); werr != nil || !ok {
			// Too long to hold a worker: snooze; the next attempt checks the history first.
			return j.fail(ctx, o.kind, o.teamID, o.key, err)
		}
	}
}

// maxTries bounds the calls one attempt makes to chat.postMessage while Slack keeps answering
// 429; then the job is snoozed for the last Retry-After.
const maxTries = 5

// fail turns a Slack error into the job's outcome.
func (j *Jobs) fail(ctx context.Context, kind, teamID, key string, err error) error {
	snooze, perm := classify(err)
	switch {
	case snooze > 0:
		return river.JobSnooze(snooze)
	case perm:
		if ferr := j.db.FinishDelivery(ctx, kind, teamID, key, "failed", "", "", slackCode(err)); ferr != nil {
			return ferr
		}
		return river.JobCancel(fmt.Errorf("%s %s/%s: %w", kind, teamID, key, err))
	}
	return fmt.Errorf("%s %s/%s: %w", kind, teamID, key, err)
}

func markerFor(kind, key string) string {
	return "pathbot-" + kind + "-" + strings.NewReplacer(":", "-", " ", "-").Replace(key)
}

// findSent looks for a message carrying marker posted since the delivery was first claimed.
func (j *Jobs) findSent(ctx context.Context, channel, marker string, since time.Time) (string, bool, error) {
	oldest := fmt.Sprintf("%d.000000", since.Add(-time.Minute).Unix())
	h, err := j.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Oldest: oldest, Limit: 200})
	if err != nil {
		return "", false, fmt.Errorf("conversations.history: %w", err)
	}
	for _, m := range h.Messages {
		for _, b := range m.Blocks.BlockSet {
			if b.ID() == marker {
				return m.Timestamp, true, nil
			}
		}
	}
	return "", false, nil
}

// dm opens (or recalls) a member's DM channel with the bot.
func (j *Jobs) dm(ctx context.Context, m store.Member) (string, error) {
	s, err := j.db.Settings(ctx, m)
	if err == nil && s.DMChannel != "" {
		return s.DMChannel, nil
	}
	ch, _, _, err := j.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{m.UserID}, ReturnIM: true})
	if err != nil {
		return "", err
	}
	if err := j.db.SetDMChannel(ctx, m, ch.ID); err != nil {
		return "", err
	}
	return ch.ID, nil
}

func (j *Jobs) workNudge(ctx context.Context, job *river.Job[NudgeArgs]) error {
	a := job.Args
	m := store.Member{TeamID: a.TeamID, UserID: a.UserID}
	err := j.deliver(ctx, outgoing{kind: KindNudge, teamID: a.TeamID, key: a.UserID + ":" + a.Key, userID: a.UserID,
		compose: func(marker string, r store.Recipient) (slackbot.Reply, bool, error) {
			if !r.Enrolled || r.Stopped {
				return slackbot.Reply{}, false, nil
			}
			return j.compose.Nudge(ctx, m, marker, j.Now())
		}})
	var cancel *river.JobCancelError
	if errors.As(err, &cancel) {
		// Slack says this person can't be messaged: stop nudging them, and say why.
		if serr := j.db.Stop(ctx, m, "Slack: "+slackCode(cancel)); serr != nil {
			return serr
		}
		j.log.Warn("stopped nudging a member", "team", a.TeamID, "user", a.UserID, "reason", slackCode(cancel))
	}
	if err == nil && j.obs != nil {
		j.obs.NudgeSent()
	}
	return err
}

func (j *Jobs) workLeaderboard(ctx context.Context, job *river.Job[LeaderboardArgs]) error {
	a := job.Args
	err := j.deliver(ctx, outgoing{kind: KindLeaderboard, teamID: a.TeamID, key: a.Key, channel: a.Channel,
		compose: func(marker string, _ store.Recipient) (slackbot.Reply, bool, error) {
			return j.compose.LeaderboardPost(ctx, a.TeamID, marker, j.Now())
		}})
	if err == nil && j.obs != nil {
		j.obs.LeaderboardPosted()
	}
	return err
}

func (j *Jobs) workWelcome(ctx context.Context, job *river.Job[WelcomeArgs]) error {
	a := job.Args
	return j.deliver(ctx, outgoing{kind: KindWelcome, teamID: a.TeamID, key: a.UserID, userID: a.UserID,
		compose: func(marker string, _ store.Recipient) (slackbot.Reply, bool, error) {
			return j.compose.Welcome(marker), true, nil
		}})
}

// NudgeAll sends every enrolled, not stopped member of a team a nudge now, once per key.
func (j *Jobs) NudgeAll(ctx context.Context, teamID, key string) (int, error) {
	members, err := j.db.ActiveMembers(ctx, teamID)
	if err != nil {
		return 0, err
	}
	params := make([]river.InsertManyParams, 0, len(members))
	for _, m := range members {
		params = append(params, river.InsertManyParams{Args: NudgeArgs{TeamID: m.TeamID, UserID: m.UserID, Key: key}, InsertOpts: unique})
	}
	if len(params) == 0 {
		return 0, nil
	}
	if _, err := j.river.InsertMany(ctx, params); err != nil {
		return 0, fmt.Errorf("enqueue nudges for team %s: %w", teamID, err)
	}
	return len(params), nil
}
