package loadtest

import (
	"context"
	"fmt"
)

// Verification compares the database with the writes the bot answered as saved.
type Verification struct {
	UsersChecked     int `json:"users_checked"`
	ReadingsExpected int `json:"readings_expected"`
	ReadingsFound    int `json:"readings_found"`
	ShiftsExpected   int `json:"shifts_expected"`
	ShiftsFound      int `json:"shifts_found"`
	// Lost are writes answered as saved that the database does not hold; Extra are rows nobody
	// was told about. Both must be zero.
	Lost  int `json:"lost"`
	Extra int `json:"extra"`
	// Uncertain counts readings and shifts whose write failed as far as the user could tell (no
	// ack in time, no answer): the bot may have saved them late, so they are not judged.
	Uncertain int      `json:"uncertain"`
	Examples  []string `json:"examples,omitempty"`
}

const maxExamples = 8

func (v *Verification) mismatch(lost bool, format string, args ...any) {
	if lost {
		v.Lost++
	} else {
		v.Extra++
	}
	if len(v.Examples) < maxExamples {
		v.Examples = append(v.Examples, fmt.Sprintf(format, args...))
	}
}

// verify reads every reading and shift of the run's team and compares them with the model. It
// must run after the bot has stopped, so that nothing is still being written.
func verify(ctx context.Context, db *database, m *model) (Verification, error) {
	var v Verification
	userIdx := make(map[string]int, len(m.userIDs))
	for i, id := range m.userIDs {
		userIdx[id] = i
	}
	itemIdx := make(map[string]int16, len(m.readings))
	for i, id := range m.readings {
		itemIdx[id] = int16(i)
	}
	words := (len(m.readings) + 63) / 64
	found := make([]bitset, len(m.userIDs))
	for i := range found {
		found[i] = make(bitset, words)
	}

	rows, err := db.pool.Query(ctx, `SELECT user_id, item_id, status FROM reading_progress WHERE team_id = $1`, m.team)
	if err != nil {
		return v, fmt.Errorf("verify: read progress: %w", err)
	}
	for rows.Next() {
		var user, item, status string
		if err := rows.Scan(&user, &item, &status); err != nil {
			rows.Close()
			return v, fmt.Errorf("verify: read progress: %w", err)
		}
		v.ReadingsFound++
		u, okU := userIdx[user]
		it, okI := itemIdx[item]
		switch {
		case !okU || !okI:
			v.mismatch(false, "%s has a row for %s nobody wrote", user, item)
		case status != "done":
			v.mismatch(false, "%s/%s is %q, but the load test never skips", user, item, status)
		default:
			found[u].set(it, true)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("verify: read progress: %w", err)
	}

	shifts := make([]int, len(m.userIDs))
	rows, err = db.pool.Query(ctx, `SELECT user_id, count(*) FROM oncall_shifts WHERE team_id = $1 GROUP BY user_id`, m.team)
	if err != nil {
		return v, fmt.Errorf("verify: read shifts: %w", err)
	}
	for rows.Next() {
		var user string
		var n int
		if err := rows.Scan(&user, &n); err != nil {
			rows.Close()
			return v, fmt.Errorf("verify: read shifts: %w", err)
		}
		v.ShiftsFound += n
		if u, ok := userIdx[user]; ok {
			shifts[u] = n
		} else {
			v.mismatch(false, "%s has %d shifts nobody logged", user, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("verify: read shifts: %w", err)
	}

	for u := range m.userIDs {
		e := m.expected(u)
		if e.touched {
			v.UsersChecked++
		}
		for i := range m.readings {
			it := int16(i)
			if e.unknown.has(it) {
				v.Uncertain++
				continue
			}
			want, got := e.done.has(it), found[u].has(it)
			if want {
				v.ReadingsExpected++
			}
			switch {
			case want && !got:
				v.mismatch(true, "%s/%s was answered as done but is not in the database", m.userIDs[u], m.readings[i])
			case !want && got:
				v.mismatch(false, "%s/%s is done in the database but was never answered as done (or was undone)", m.userIDs[u], m.readings[i])
			}
		}
		v.ShiftsExpected += e.shiftsMin
		v.Uncertain += e.shiftsMax - e.shiftsMin
		switch n := shifts[u]; {
		case n < e.shiftsMin:
			for range e.shiftsMin - n {
				v.mismatch(true, "%s has %d on-call shifts, but %d were answered as logged", m.userIDs[u], n, e.shiftsMin)
			}
		case n > e.shiftsMax:
			for range n - e.shiftsMax {
				v.mismatch(false, "%s has %d on-call shifts, but only %d were answered as logged", m.userIDs[u], n, e.shiftsMax)
			}
		}
	}
	return v, nil
}
