-- pathbot's own writes announce snapshot versions after they commit, not from the trigger.
--
-- NOTIFY takes a database-wide lock at commit and holds it through the commit's WAL flush, so
-- every notifying transaction commits one after the other, each waiting for its own fsync: with
-- a write per command that capped writes near one per fsync. The triggers still raise versions
-- always, and still notify for every other writer (psql, an older binary); a pathbot
-- transaction that sets pathbot.announce = 'after_commit' leaves the notification to the
-- process, which sends many in one cheap transaction after the commit (store.announcer).

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pathbot_progress_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    announce_now boolean := coalesce(current_setting('pathbot.announce', true), '') <> 'after_commit';
BEGIN
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pathbot_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pathbot_progress_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH m AS (
            UPDATE members SET version = members.version + 1
            FROM (SELECT DISTINCT team_id, user_id FROM new_rows) c
            WHERE members.team_id = c.team_id AND members.user_id = c.user_id
            RETURNING members.team_id, members.user_id, members.version)
        SELECT count(pg_notify('pathbot_snapshot', m.team_id || ' ' || m.user_id || ' ' || m.version)) INTO n FROM m;
    ELSIF TG_OP = 'DELETE' THEN
        WITH m AS (
            UPDATE members SET version = members.version + 1
            FROM (SELECT DISTINCT team_id, user_id FROM old_rows) c
            WHERE members.team_id = c.team_id AND members.user_id = c.user_id
            RETURNING members.team_id, members.user_id, members.version)
        SELECT count(pg_notify('pathbot_snapshot', m.team_id || ' ' || m.user_id || ' ' || m.version)) INTO n FROM m;
    ELSE
        WITH m AS (
            UPDATE members SET version = members.version + 1
            FROM (SELECT team_id, user_id FROM new_rows UNION SELECT team_id, user_id FROM old_rows) c
            WHERE members.team_id = c.team_id AND members.user_id = c.user_id
            RETURNING members.team_id, members.user_id, members.version)
        SELECT count(pg_notify('pathbot_snapshot', m.team_id || ' ' || m.user_id || ' ' || m.version)) INTO n FROM m;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pathbot_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('pathbot_snapshot', NEW.team_id || ' ' || NEW.user_id || ' ' || NEW.version);
    ELSE
        PERFORM pg_notify('pathbot_snapshot', OLD.team_id || ' ' || OLD.user_id || ' -');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
