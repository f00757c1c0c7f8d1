package deploycheck

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
}

// parseDockerfile splits a Dockerfile into instructions, joining continuation lines and dropping
// comments (which Docker also drops inside a continued instruction).
func parseDockerfile(src string) []instruction {
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(trimmed)
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		if full == "" {
			continue
		}
		cmd, args, _ := strings.Cut(full, " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
	}
	return out
}

// stages splits instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func fromImage(args string) string {
	for _, f := range strings.Fields(args) {
		if !strings.HasPrefix(f, "--") {
			return f
		}
	}
	return ""
}

func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		t.Errorf("%s %s is not in exec (JSON) form: distroless has no shell", what, args)
	}
	return v
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	st := stages(parseDockerfile(string(read(t, "Dockerfile"))))
	if len(st) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a builder and a final stage", len(st))
	}
	build, final := st[0], st[len(st)-1]

	if img := fromImage(build[0].args); !strings.HasPrefix(img, "golang:") {
		t.Errorf("builder stage is FROM %s, want golang:", img)
	}
	if img := fromImage(final[0].args); !strings.HasPrefix(img, "gcr.io/distroless/static") && img != "scratch" {
		t.Errorf("final stage is FROM %s, want distroless static or scratch", img)
	}

	var run string
	var args []string
	for _, in := range build {
		switch in.cmd {
		case "RUN":
			if strings.Contains(in.args, "go build") {
				run = in.args
			}
		case "ARG":
			args = append(args, strings.SplitN(in.args, "=", 2)[0])
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-o /out/pathbot", "./cmd/pathbot"} {
		if !strings.Contains(run, want) {
			t.Errorf("the go build RUN lacks %q", want)
		}
	}
	for _, v := range []string{"VERSION", "COMMIT", "DATE"} {
		if !slices.Contains(args, v) {
			t.Errorf("builder stage lacks ARG %s", v)
		}
	}
	// The linker ignores -X for a symbol that does not exist, so a renamed variable would silently
	// leave every image calling itself "dev". Check the names against the package source.
	vars := versionVars(t)
	for _, name := range []string{"Version", "Commit", "Date"} {
		if !strings.Contains(run, "-X github.com/pathbot/pathbot/internal/version."+name+"=") {
			t.Errorf("the go build RUN does not stamp version.%s", name)
		}
		if !vars[name] {
			t.Errorf("internal/version has no package-level string variable %s for -X to set", name)
		}
	}
	if !exists(t, "cmd/pathbot") {
		t.Error("cmd/pathbot, the build target, does not exist")
	}

	var user string
	var healthcheck, entrypoint, cmd []string
	var expose []string
	for _, in := range final[1:] {
		switch in.cmd {
		case "USER":
			user = in.args
		case "COPY":
			// Curriculum and migrations are embedded: the binary is all the image needs.
			if !strings.HasPrefix(in.args, "--from=") || !strings.HasSuffix(in.args, " /pathbot") {
				t.Errorf("final stage copies %q; want only the binary from the builder", in.args)
			}
		case "ADD", "RUN":
			t.Errorf("final stage has %s %s; it should only copy the binary", in.cmd, in.args)
		case "HEALTHCHECK":
			_, after, ok := strings.Cut(in.args, "CMD ")
			if !ok {
				t.Errorf("HEALTHCHECK %s has no CMD", in.args)
			}
			healthcheck = execForm(t, "HEALTHCHECK CMD", after)
		case "ENTRYPOINT":
			entrypoint = execForm(t, "ENTRYPOINT", in.args)
		case "CMD":
			cmd = execForm(t, "CMD", in.args)
		case "EXPOSE":
			expose = append(expose, strings.Fields(in.args)...)
		}
	}
	// Numeric, because Kubernetes cannot check runAsNonRoot against a user name.
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final stage USER is %q, want a numeric non-root uid", user)
	}
	if !slices.Equal(healthcheck, []string{"/pathbot", "health"}) {
		t.Errorf("HEALTHCHECK runs %q, want [/pathbot health]", healthcheck)
	}
	if !slices.Equal(entrypoint, []string{"/pathbot"}) {
		t.Errorf("ENTRYPOINT is %q, want [/pathbot]", entrypoint)
	}
	if !slices.Equal(cmd, []string{"serve"}) {
		t.Errorf("CMD is %q, want [serve]", cmd)
	}
	// Socket Mode needs no inbound port; 8080 is metrics and health only.
	if !slices.Equal(expose, []string{"8080"}) {
		t.Errorf("EXPOSE %v, want only 8080", expose)
	}
}

// versionVars returns the package-level string variables declared in internal/version.
func versionVars(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root(t), "internal/version/version.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						vars[name.Name] = true
					}
				}
			}
		}
	}
	return vars
}

func TestDockerignoreKeepsTheBuildInputs(t *testing.T) {
	t.Parallel()
	var patterns []string
	for _, line := range strings.Split(string(read(t, ".dockerignore")), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	ignored := func(path string) bool {
		for _, p := range patterns {
			if strings.HasPrefix(p, "!") {
				continue
			}
			p = strings.TrimPrefix(p, "**/")
			for _, candidate := range []string{path, filepath.Base(path)} {
				if ok, _ := filepath.Match(p, candidate); ok {
					return true
				}
			}
		}
		return false
	}
	for _, need := range []string{"go.mod", "go.sum", "cmd", "internal", "migrations", "curriculum", "curriculum/books.yaml", "migrations/00001_core.sql"} {
		if ignored(need) {
			t.Errorf(".dockerignore excludes %s, which the build needs", need)
		}
	}
	for _, secret := range []string{".git", ".env"} {
		if !ignored(secret) {
			t.Errorf(".dockerignore lets %s into the build context", secret)
		}
	}
}
