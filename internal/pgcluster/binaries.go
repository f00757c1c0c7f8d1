package pgcluster

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// installHint ends every "no PostgreSQL" error, so that whoever reads it knows the one step to take.
const installHint = "install PostgreSQL: `apt-get install postgresql` (Debian/Ubuntu), " +
	"`brew install postgresql@16` (macOS), `dnf install postgresql-server` (Fedora/RHEL); " +
	"pgcluster then finds initdb, pg_ctl and postgres on PATH, through `pg_config --bindir`, " +
	"or in /usr/lib/postgresql/<version>/bin"

// errNoBinaries is returned by FindBinaries when no server installation is found.
var errNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; " + installHint)

// binaryGlobs are the places distributions put versioned server binaries when they are not on
// PATH (Debian keeps them off PATH on purpose). The single * is the major version.
var binaryGlobs = []string{
	"/usr/lib/postgresql/*/bin",
	"/usr/pgsql-*/bin",
	"/opt/homebrew/opt/postgresql@*/bin",
	"/usr/local/opt/postgresql@*/bin",
}

// serverTools must all sit in one directory: pg_ctl execs postgres from its own directory.
var serverTools = []string{"initdb", "pg_ctl", "postgres"}

// FindBinaries returns the directory holding initdb, pg_ctl and postgres. It looks on PATH, then
// at `pg_config --bindir`, then in the usual versioned install directories, preferring the
// highest version. The error says how to install PostgreSQL when none is found.
func FindBinaries() (dir string, err error) {
	return findBinaries(binaryGlobs)
}

func findBinaries(globs []string) (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		// Prefer the real directory over a symlink farm such as /usr/local/bin, so the reported
		// directory is the installation itself.
		if real, err := filepath.EvalSymlinks(initdb); err == nil && hasServerTools(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if hasServerTools(filepath.Dir(initdb)) {
			return filepath.Dir(initdb), nil
		}
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); hasServerTools(dir) {
				return dir, nil
			}
		}
	}
	type candidate struct {
		dir     string
		version []int
	}
	var found []candidate
	for _, pattern := range globs {
		prefix, suffix, ok := strings.Cut(pattern, "*")
		if !ok {
			continue
		}
		matches, _ := filepath.Glob(pattern) // only ErrBadPattern, impossible for our patterns
		for _, m := range matches {
			v := strings.TrimSuffix(strings.TrimPrefix(m, prefix), suffix)
			if hasServerTools(m) {
				found = append(found, candidate{m, parseVersion(v)})
			}
		}
	}
	if len(found) == 0 {
		return "", errNoBinaries
	}
	// Numeric, not lexical: 9.6 must lose to 15.
	best := slices.MaxFunc(found, func(a, b candidate) int { return slices.Compare(a.version, b.version) })
	return best.dir, nil
}

func parseVersion(s string) []int {
	var v []int
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	return v
}

func hasServerTools(dir string) bool {
	for _, name := range serverTools {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}
