// Package migrations holds pathbot's database schema as numbered goose SQL files, embedded in the
// binary so that `pathbot migrate` and `pathbot serve` need nothing beside the executable.
package migrations

import "embed"

// FS holds every *.sql migration, applied in file-name order by goose.
//
//go:embed *.sql
var FS embed.FS
