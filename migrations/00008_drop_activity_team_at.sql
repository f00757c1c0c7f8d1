-- activity_team_at (team, time) served the weekly celebrations until 00006 gave them a partial
-- index of their own; since then no query reads it (the leaderboard's plans in
-- docs/benchmarks.md use activity_member_at and activity_milestone_at only), yet every write
-- still inserts into it: one index entry fewer per activity row, which every change writes.
--
-- CONCURRENTLY, so that writes to activity go on meanwhile; that cannot run in a transaction.

-- +goose NO TRANSACTION

-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS activity_team_at;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS activity_team_at ON activity (team_id, at);
