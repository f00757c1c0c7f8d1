-- pathbot's own writes raise the member's version themselves.
--
-- A pathbot write already updates the member row once (its score), so it raises the version in
-- that same UPDATE and, while the process announces its own writes after commit (store.Listen
-- running), sets pathbot.versioned = 'by_writer' for its transaction; the triggers of 00005 then
-- skip their own UPDATE of the member row (and their NOTIFY, which the process sends instead). That was up to two more row versions per
-- write (an upsert fires both the INSERT and the UPDATE trigger), which the load test showed as
-- Postgres's largest cost per write. Every other writer (psql, an older binary) is versioned by
-- the triggers as before.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pathbot_progress_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    announce_now boolean := coalesce(current_setting('pathbot.announce', true), '') <> 'after_commit';
BEGIN
    IF current_setting('pathbot.versioned', true) = 'by_writer' THEN
        RETURN NULL;
    END IF;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pathbot_progress_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
