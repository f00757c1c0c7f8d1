-- Versions for the bot's in-memory snapshot cache.
--
-- Every change to what a member's snapshot holds (readings, milestone entries, on-call shifts,
-- the member row existing, the team's thresholds) raises a version number from a trigger, and
-- the new version is announced on the channel pathbot_snapshot (by the trigger, or by pathbot
-- itself after the commit of its own writes), so that every writer (any replica, an older
-- binary, an operator in psql) invalidates every replica's cache. Versions only grow, so a
-- replica can tell a stale read from a fresh one whatever order reads, commits and
-- notifications arrive in. Payloads: "<team> <user> <version>" for a member, "<team> * <version>"
-- for a team's thresholds, "<team> <user> -" when a member is deleted.

-- +goose Up
ALTER TABLE members ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE teams   ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- +goose StatementBegin
-- Statement-level over the transition tables, so that a bulk load bumps each member once.
--
-- NOTIFY takes a database-wide lock at commit and holds it through the commit's WAL flush, so
-- notifying write transactions commit one after another, each waiting for its own fsync. A
-- pathbot transaction therefore sets pathbot.announce = 'after_commit' and announces the new
-- versions itself after the commit, many in one cheap statement (store.announcer); every other
-- writer (psql, an older binary) is announced from here.
CREATE FUNCTION pathbot_progress_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    announce_now boolean := coalesce(current_setting('pathbot.announce', true), '') <> 'after_commit';
BEGIN
    -- Each event has its own transition tables, hence three copies of one statement: collecting
    -- the members into arrays first and bumping them in one statement cost Postgres 54-59% of a
    -- core instead of 44% in the 1,000/s load test.
    IF TG_OP = 'INSERT' THEN
        WITH m AS (
            UPDATE members SET version = members.version + 1
            FROM (SELECT DISTINCT team_id, user_id FROM new_rows) c
            WHERE members.team_id = c.team_id AND members.user_id = c.user_id
            RETURNING members.team_id, members.user_id, members.version)
        SELECT count(CASE WHEN announce_now THEN pg_notify('pathbot_snapshot', m.team_id || ' ' || m.user_id || ' ' || m.version) END) INTO n FROM m;
    ELSIF TG_OP = 'DELETE' THEN
        WITH m AS (
            UPDATE members SET version = members.version + 1
            FROM (SELECT DISTINCT team_id, user_id FROM old_rows) c
            WHERE members.team_id = c.team_id AND members.user_id = c.user_id
            RETURNING members.team_id, members.user_id, members.version)
        SELECT count(CASE WHEN announce_now THEN pg_notify('pathbot_snapshot', m.team_id || ' ' || m.user_id || ' ' || m.version) END) INTO n FROM m;
    ELSE
        WITH m AS (
            UPDATE members SET version = members.version + 1
            FROM (SELECT team_id, user_id FROM new_rows UNION SELECT team_id, user_id FROM old_rows) c
            WHERE members.team_id = c.team_id AND members.user_id = c.user_id
            RETURNING members.team_id, members.user_id, members.version)
        SELECT count(CASE WHEN announce_now THEN pg_notify('pathbot_snapshot', m.team_id || ' ' || m.user_id || ' ' || m.version) END) INTO n FROM m;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER reading_progress_inserted AFTER INSERT ON reading_progress
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();
CREATE TRIGGER reading_progress_updated AFTER UPDATE ON reading_progress
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();
CREATE TRIGGER reading_progress_deleted AFTER DELETE ON reading_progress
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();

CREATE TRIGGER milestone_entries_inserted AFTER INSERT ON milestone_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();
CREATE TRIGGER milestone_entries_updated AFTER UPDATE ON milestone_entries
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();
CREATE TRIGGER milestone_entries_deleted AFTER DELETE ON milestone_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();

CREATE TRIGGER oncall_shifts_inserted AFTER INSERT ON oncall_shifts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();
CREATE TRIGGER oncall_shifts_updated AFTER UPDATE ON oncall_shifts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();
CREATE TRIGGER oncall_shifts_deleted AFTER DELETE ON oncall_shifts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pathbot_progress_changed();

-- +goose StatementBegin
CREATE FUNCTION pathbot_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF coalesce(current_setting('pathbot.announce', true), '') <> 'after_commit' THEN
            PERFORM pg_notify('pathbot_snapshot', NEW.team_id || ' ' || NEW.user_id || ' ' || NEW.version);
        END IF;
    ELSE
        PERFORM pg_notify('pathbot_snapshot', OLD.team_id || ' ' || OLD.user_id || ' -');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER members_inserted AFTER INSERT ON members FOR EACH ROW EXECUTE FUNCTION pathbot_member_changed();
CREATE TRIGGER members_deleted AFTER DELETE ON members FOR EACH ROW EXECUTE FUNCTION pathbot_member_changed();

-- +goose StatementBegin
CREATE FUNCTION pathbot_thresholds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        NEW.version := OLD.version + 1;
        RETURN NEW;
    END IF;
    PERFORM pg_notify('pathbot_snapshot', NEW.team_id || ' * ' || NEW.version);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER teams_thresholds_versioned BEFORE UPDATE OF p95_ms, p99_ms, max_ms ON teams
    FOR EACH ROW EXECUTE FUNCTION pathbot_thresholds_changed();
CREATE TRIGGER teams_thresholds_changed AFTER UPDATE OF p95_ms, p99_ms, max_ms ON teams
    FOR EACH ROW EXECUTE FUNCTION pathbot_thresholds_changed();

-- +goose Down
DROP TRIGGER teams_thresholds_changed ON teams;
DROP TRIGGER teams_thresholds_versioned ON teams;
DROP FUNCTION pathbot_thresholds_changed();
DROP TRIGGER members_deleted ON members;
DROP TRIGGER members_inserted ON members;
DROP FUNCTION pathbot_member_changed();
DROP TRIGGER oncall_shifts_deleted ON oncall_shifts;
DROP TRIGGER oncall_shifts_updated ON oncall_shifts;
DROP TRIGGER oncall_shifts_inserted ON oncall_shifts;
DROP TRIGGER milestone_entries_deleted ON milestone_entries;
DROP TRIGGER milestone_entries_updated ON milestone_entries;
DROP TRIGGER milestone_entries_inserted ON milestone_entries;
DROP TRIGGER reading_progress_deleted ON reading_progress;
DROP TRIGGER reading_progress_updated ON reading_progress;
DROP TRIGGER reading_progress_inserted ON reading_progress;
DROP FUNCTION pathbot_progress_changed();
ALTER TABLE teams DROP COLUMN version;
ALTER TABLE members DROP COLUMN version;
