-- pathbot_stale fails the transaction it runs in, with SQLSTATE PB001.
--
-- A write whose member's cached snapshot is current is sent in one round trip with its commit:
-- its new score is computed in Go beforehand from the cached snapshot and the change. Its last
-- statement checks, under the member's lock, that the member was still at the cached version and
-- that the command was not a redelivery, and calls this otherwise, so that a wrong guess never
-- commits; the bot then writes the batch the usual way, in two round trips.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION pathbot_stale(what text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'pathbot: %', what USING ERRCODE = 'PB001';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION pathbot_stale(text);
