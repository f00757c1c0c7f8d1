//go:build !unix

package pgcluster

// Reaper would clean up after a crashed owner; outside Unix there is no sh to run it, so a crashed
// run leaves its cluster in the temp directory.
type Reaper struct{}

// StartReaper does nothing outside Unix.
func StartReaper(string) (*Reaper, error) { return &Reaper{}, nil }

// Release does nothing outside Unix.
func (*Reaper) Release() {}
