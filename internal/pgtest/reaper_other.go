//go:build !unix

package pgtest

// reaper would clean up after a crashed test process; outside Unix there is no sh to run it, so
// a crashed run leaves its cluster in the temp directory.
type reaper struct{}

func startReaper(string) (*reaper, error) { return &reaper{}, nil }

func (*reaper) release() {}
