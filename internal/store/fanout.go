package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Recipient is what sending someone a direct message needs to know about them.
type Recipient struct {
	Enrolled  bool
	Stopped   bool   // nudges stopped (by them, or after Slack said they cannot be messaged)
	DMChannel string // "" unless a conversations.open told us
}

// ClaimDM is ClaimDelivery for a direct message to m, returning what is known about m in the
// same round trip (and the same commit).
func (db *DB) ClaimDM(ctx context.Context, kind string, m Member, key string) (Delivery, Recipient, error) {
	var d Delivery
	var r Recipient
	b := &pgx.Batch{}
	b.Queue(claimSQL, kind, m.TeamID, key).QueryRow(func(row pgx.Row) error {
		return row.Scan(&d.Status, &d.Channel, &d.TS, &d.CreatedAt, &d.Fresh)
	})
	b.Queue(`SELECT stopped_at IS NOT NULL, COALESCE(dm_channel, '') FROM members WHERE team_id = $1 AND user_id = $2`,
		m.TeamID, m.UserID).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&r.Stopped, &r.DMChannel)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		r.Enrolled = err == nil
		return err
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return Delivery{}, Recipient{}, fmt.Errorf("claim %s delivery %s/%s: %w", kind, m.TeamID, key, err)
	}
	return d, r, nil
}

// claimSQL inserts a pending delivery or returns the existing one; see ClaimDelivery.
const claimSQL = `WITH ins AS (
        INSERT INTO deliveries (kind, team_id, key, status) VALUES ($1, $2, $3, 'pending')
        ON CONFLICT DO NOTHING RETURNING status, channel, ts, created_at, true AS fresh)
    SELECT * FROM ins
    UNION ALL
    SELECT status, channel, ts, created_at, false FROM deliveries WHERE kind = $1 AND team_id = $2 AND key = $3
    LIMIT 1`

// FinishSent records a delivery as sent, in one round trip, without waiting for the commit to
// reach the disk: a record lost in a database crash stays pending, and the retry that follows
// finds the message in the channel's history instead of sending it again. (The job's own
// completion, committed after it, flushes it in any case.)
func (db *DB) FinishSent(ctx context.Context, kind, teamID, key, channel, ts, detail string) error {
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(finishSQL, kind, teamID, key, "sent", channel, ts, detail)
	b.Queue(`COMMIT`)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record %s delivery %s/%s: %w", kind, teamID, key, err)
	}
	return nil
}
