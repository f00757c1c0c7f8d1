-- The weekly celebrations (store.Leaderboard) read this week's activity rows that completed a
-- milestone: a few percent of a week's rows. Through activity_team_at they had to visit every
-- row of the week and filter, at 50,000 members up to ~8,000 heap pages when a team's rows are
-- spread over the table (many workspaces, or the benchmark's seed); this partial index reaches
-- the ~200 wanted rows directly (docs/benchmarks.md, "The leaderboard at 50,000 members").
--
-- CONCURRENTLY, so that writes to activity go on while it builds on a large table; that cannot
-- run in a transaction. If a previous attempt died half-way it may have left an invalid index of
-- this name, which the DROP clears (the migration is not recorded until it has succeeded).

-- +goose NO TRANSACTION

-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS activity_milestone_at;
CREATE INDEX CONCURRENTLY activity_milestone_at ON activity (team_id, at) WHERE milestone IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS activity_milestone_at;
