// Package curriculum holds the senior engineer path as data: one YAML file
// per kind of item (trainings, talks, essays, books, milestones), embedded
// so that the bot always ships with a complete path. Editing the path means
// editing these files, not code; internal/curriculum loads and validates
// them, and CURRICULUM_DIR can point the bot at an edited copy instead.
package curriculum

import "embed"

// FS holds the YAML files of the path, flat in its root.
//
//go:embed *.yaml
var FS embed.FS
