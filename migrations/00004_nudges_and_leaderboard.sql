-- Weekly nudges, the leaderboard and the settings behind them.

-- +goose Up
ALTER TABLE teams
    ADD COLUMN leaderboard_channel  text,
    ADD COLUMN next_leaderboard_at  timestamptz;

ALTER TABLE members
    ADD COLUMN display_name     text NOT NULL DEFAULT '',
    ADD COLUMN tz               text,                 -- IANA name from users.info; NULL until fetched
    ADD COLUMN tz_checked_at    timestamptz,
    ADD COLUMN dm_channel       text,
    ADD COLUMN nudge_weekday    smallint CHECK (nudge_weekday BETWEEN 0 AND 6),   -- NULL: team default
    ADD COLUMN nudge_minute     smallint CHECK (nudge_minute BETWEEN 0 AND 1439), -- minutes after local midnight
    ADD COLUMN paused_until     timestamptz,
    ADD COLUMN stopped_at       timestamptz,
    ADD COLUMN stopped_reason   text NOT NULL DEFAULT '',
    ADD COLUMN hidden           boolean NOT NULL DEFAULT false, -- hidden from the leaderboard
    ADD COLUMN next_nudge_at    timestamptz,                    -- NULL: to be (re)scheduled by the sweep
    -- Denormalised score, updated in the same transaction as every progress change, so the
    -- leaderboard is one indexed read instead of re-evaluating every member's rules.
    ADD COLUMN points           integer NOT NULL DEFAULT 0,
    ADD COLUMN readings_done    integer NOT NULL DEFAULT 0,
    ADD COLUMN milestones_done  text[] NOT NULL DEFAULT '{}';

CREATE INDEX members_due ON members (next_nudge_at) WHERE stopped_at IS NULL;
CREATE INDEX members_unscheduled ON members (team_id) WHERE next_nudge_at IS NULL AND stopped_at IS NULL;
CREATE INDEX members_board ON members (team_id, points DESC, user_id) WHERE NOT hidden;

-- Every progress change with its effect on the score: this week's gains, streaks and the
-- milestones to celebrate all come from here.
CREATE TABLE activity (
    id           bigserial PRIMARY KEY,
    team_id      text NOT NULL,
    user_id      text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    points       integer NOT NULL,
    milestone    text,           -- set when this change completed a milestone
    FOREIGN KEY (team_id, user_id) REFERENCES members (team_id, user_id) ON DELETE CASCADE
);
CREATE INDEX activity_team_at ON activity (team_id, at);
CREATE INDEX activity_member_at ON activity (team_id, user_id, at);

-- Each proactive message (nudge, leaderboard post, welcome) is recorded under a unique key before
-- it is sent. A retry that finds a pending record checks Slack for the message before sending
-- again, so a crash between "sent" and "marked" never produces a second message.
CREATE TABLE deliveries (
    kind         text NOT NULL,           -- nudge | leaderboard | welcome
    team_id      text NOT NULL,
    key          text NOT NULL,           -- e.g. U123:2026-W48
    status       text NOT NULL CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
    channel      text NOT NULL DEFAULT '',
    ts           text NOT NULL DEFAULT '',
    detail       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, team_id, key)
);

-- +goose Down
DROP TABLE deliveries;
DROP TABLE activity;
DROP INDEX members_board;
DROP INDEX members_unscheduled;
DROP INDEX members_due;
ALTER TABLE members
    DROP COLUMN display_name, DROP COLUMN tz, DROP COLUMN tz_checked_at, DROP COLUMN dm_channel,
    DROP COLUMN nudge_weekday, DROP COLUMN nudge_minute, DROP COLUMN paused_until,
    DROP COLUMN stopped_at, DROP COLUMN stopped_reason, DROP COLUMN hidden, DROP COLUMN next_nudge_at,
    DROP COLUMN points, DROP COLUMN readings_done, DROP COLUMN milestones_done;
ALTER TABLE teams DROP COLUMN leaderboard_channel, DROP COLUMN next_leaderboard_at;
