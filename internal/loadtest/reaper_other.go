//go:build !unix

package loadtest

// Without a POSIX shell there is no reaper: a load test killed outright may leave its throwaway
// Postgres running; an interrupted one still stops it.
type reaper struct{}

func startReaper(string) (*reaper, error) { return &reaper{}, nil }
func (*reaper) release()                  {}
