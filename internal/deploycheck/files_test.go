package deploycheck

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository root, found from the test's working directory so that the tests do not
// depend on where the package sits.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(t *testing.T, rel string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(root(t), rel))
	return err == nil
}

// decodeAll decodes every document of a YAML stream, in order.
func decodeAll(data []byte) ([]yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

// load decodes the single document of a YAML file into v.
func load(t *testing.T, rel string, v any) {
	t.Helper()
	docs, err := decodeAll(read(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", rel, len(docs))
	}
	if err := docs[0].Decode(v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func TestEveryYAMLFileUnderDeployParses(t *testing.T) {
	t.Parallel()
	base := filepath.Join(root(t), "deploy")
	var n int
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root(t), path)
		docs, err := decodeAll(data)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", rel)
		}
		for i, doc := range docs {
			if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
				t.Errorf("%s: document %d is not a mapping", rel, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// compose, render, prometheus ×2, kubernetes ×8 at the time of writing: a walk that finds
	// far fewer is walking the wrong tree.
	if n < 10 {
		t.Errorf("found only %d YAML files under deploy/", n)
	}
}
