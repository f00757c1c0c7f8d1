-- The core of pathbot: who is enrolled, what they have read, what they have done.
-- Every row is scoped by Slack team id and user id so two workspaces never see each other's data.

-- +goose Up
CREATE TABLE teams (
    team_id      text PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Load-test tail-latency bar; NULL means the configured default.
    p95_ms       integer,
    p99_ms       integer,
    max_ms       integer
);

CREATE TABLE members (
    team_id      text NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
    user_id      text NOT NULL,
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);

-- One row per reading a member has done or skipped; undo deletes it.
CREATE TABLE reading_progress (
    team_id      text NOT NULL,
    user_id      text NOT NULL,
    item_id      text NOT NULL,
    status       text NOT NULL CHECK (status IN ('done', 'skipped')),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id, item_id),
    FOREIGN KEY (team_id, user_id) REFERENCES members (team_id, user_id) ON DELETE CASCADE
);

-- Evidence logged towards the experience milestones (design steps, languages, deploys, ...).
CREATE TABLE milestone_entries (
    id           bigserial PRIMARY KEY,
    team_id      text NOT NULL,
    user_id      text NOT NULL,
    milestone    text NOT NULL,
    key          text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    rps          double precision,
    p95_us       bigint,
    p99_us       bigint,
    max_us       bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (team_id, user_id) REFERENCES members (team_id, user_id) ON DELETE CASCADE
);
CREATE INDEX milestone_entries_member ON milestone_entries (team_id, user_id, milestone);

-- On-call shifts as logged; the day count is computed over their union, so overlaps are harmless.
CREATE TABLE oncall_shifts (
    id           bigserial PRIMARY KEY,
    team_id      text NOT NULL,
    user_id      text NOT NULL,
    from_date    date NOT NULL,
    to_date      date NOT NULL CHECK (to_date >= from_date),
    part         text NOT NULL CHECK (part IN ('full', 'day', 'night')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (team_id, user_id) REFERENCES members (team_id, user_id) ON DELETE CASCADE
);
CREATE INDEX oncall_shifts_member ON oncall_shifts (team_id, user_id);

-- Slash commands already applied, keyed on Slack's trigger_id, written in the same transaction as
-- the change so a redelivered command is applied at most once.
CREATE TABLE processed_commands (
    team_id      text NOT NULL,
    trigger_id   text NOT NULL,
    user_id      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, trigger_id)
);
CREATE INDEX processed_commands_created ON processed_commands (created_at);

-- +goose Down
DROP TABLE processed_commands;
DROP TABLE oncall_shifts;
DROP TABLE milestone_entries;
DROP TABLE reading_progress;
DROP TABLE members;
DROP TABLE teams;
