package store

import "testing"

// The cache's rules, without a database: whatever order reads, commits and announcements come
// in, a snapshot older than a version already announced is never served.
func TestSnapshotCacheOrdering(t *testing.T) {
	m := Member{TeamID: "T1", UserID: "U1"}
	snap := func(member, team int64) Snapshot {
		return Snapshot{Enrolled: member >= 0, versions: versions{member: member, team: team}}
	}
	version := func(c *snapshotCache) int64 {
		t.Helper()
		s, ok := c.get(m)
		if !ok {
			return -100
		}
		return s.versions.member
	}
	const miss = -100

	tests := []struct {
		name string
		run  func(c *snapshotCache) int64
		want int64
	}{
		{"nothing is served before the listener is up", func(c *snapshotCache) int64 {
			c.reset(false)
			c.fill(m, c.begin(m), snap(3, 0))
			return version(c)
		}, miss},
		{"a read is served", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 0))
			return version(c)
		}, 3},
		{"an announcement of a newer version drops it", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 0))
			c.announce(m, 4)
			return version(c)
		}, miss},
		{"an announcement of the version it shows keeps it", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 0))
			c.announce(m, 3)
			return version(c)
		}, 3},
		{"a read that was overtaken while in flight is not stored", func(c *snapshotCache) int64 {
			tk := c.begin(m)
			c.announce(m, 5) // committed elsewhere while our read was on its way
			c.fill(m, tk, snap(4, 0))
			return version(c)
		}, miss},
		{"a read as new as the announcement is stored", func(c *snapshotCache) int64 {
			tk := c.begin(m)
			c.announce(m, 5)
			c.fill(m, tk, snap(5, 0))
			return version(c)
		}, 5},
		{"an older read never replaces a newer one", func(c *snapshotCache) int64 {
			slow, fast := c.begin(m), c.begin(m)
			c.fill(m, fast, snap(7, 0))
			c.fill(m, slow, snap(6, 0))
			return version(c)
		}, 7},
		{"a read from before a reconnect is not stored", func(c *snapshotCache) int64 {
			tk := c.begin(m)
			c.reset(false) // notifications may be lost from here
			c.reset(true)
			c.fill(m, tk, snap(4, 0))
			return version(c)
		}, miss},
		{"a reset drops everything", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 0))
			c.reset(true)
			return version(c)
		}, miss},
		{"a team announcement drops the team's older snapshots", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 1))
			c.announceTeam("T1", 2)
			return version(c)
		}, miss},
		{"another team's announcement does not", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 1))
			c.announceTeam("T2", 9)
			return version(c)
		}, 3},
		{"a read overtaken by a team change is not stored", func(c *snapshotCache) int64 {
			tk := c.begin(m)
			c.announceTeam("T1", 2)
			c.fill(m, tk, snap(3, 1))
			return version(c)
		}, miss},
		{"enrolment drops a cached 'not enrolled'", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(-1, 0))
			c.announce(m, 0)
			return version(c)
		}, miss},
		{"a deleted member is forgotten, and a fill in flight for it dropped", func(c *snapshotCache) int64 {
			tk := c.begin(m)
			if err := c.handle("T1 U1 -"); err != nil {
				t.Fatal(err)
			}
			c.fill(m, tk, snap(8, 0))
			return version(c)
		}, miss},
		{"payloads are parsed", func(c *snapshotCache) int64 {
			c.fill(m, c.begin(m), snap(3, 0))
			if err := c.handle("T1 U1 4"); err != nil {
				t.Fatal(err)
			}
			return version(c)
		}, miss},
		{"a full cache evicts, and the evicted slot's fill is dropped", func(c *snapshotCache) int64 {
			c.max = 1
			tk := c.begin(m)
			c.begin(Member{TeamID: "T1", UserID: "U2"})
			c.fill(m, tk, snap(3, 0))
			return version(c)
		}, miss},
		{"a snapshot older than the TTL is read again", func(c *snapshotCache) int64 {
			c.ttl = 0
			c.fill(m, c.begin(m), snap(3, 0))
			return version(c)
		}, miss},
		{"size 0 turns the cache off", func(c *snapshotCache) int64 {
			c.max = 0
			c.fill(m, c.begin(m), snap(3, 0))
			return version(c)
		}, miss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSnapshotCache(10)
			c.reset(true)
			if got := tt.run(c); got != tt.want {
				t.Errorf("served version %d, want %d (-100: nothing served)", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "T1 U1", "T1 U1 x", "T1 U1 2 3"} {
		if err := newSnapshotCache(1).handle(bad); err == nil {
			t.Errorf("handle(%q) accepted", bad)
		}
	}
}
