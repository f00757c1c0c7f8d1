# pathbot — run `make help` for the targets.
.DEFAULT_GOAL := help
GO ?= go
BIN := bin/pathbot

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_\/-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: dev
dev: ## run everything locally: private Postgres, Slack emulator + web UI, the bot
	$(GO) run ./cmd/pathbot dev

.PHONY: test
test: ## the whole suite: gofmt, go vet, deploy checks, unit/store/e2e/browser tests with -race
	./scripts/test.sh

.PHONY: build
build: ## build bin/pathbot
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/pathbot

.PHONY: lint
lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

.PHONY: migrate
migrate: ## apply migrations to $$DATABASE_URL
	$(GO) run ./cmd/pathbot migrate

.PHONY: migration
migration: ## new numbered migration: make migration name=add_things
	@test -n "$(name)" || (echo "usage: make migration name=add_things"; exit 2)
	@n=$$(ls migrations/*.sql | sed 's#migrations/0*\([0-9]*\)_.*#\1#' | sort -n | tail -1); \
	 f=$$(printf "migrations/%05d_%s.sql" $$((n+1)) "$(name)"); \
	 printf -- "-- +goose Up\n\n-- +goose Down\n" > $$f; echo "created $$f"

.PHONY: bench
bench: ## Go benchmarks of the hot paths (compare runs with benchstat)
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 ./... | tee bench.out

.PHONY: bench-footprint
bench-footprint: ## start-up time and idle RSS of `pathbot serve` as shipped, and the 50,000-member leaderboard (slow)
	$(GO) test -run='^$$' -bench='Startup' -count=6 ./internal/e2e/
	PATHBOT_BIG=1 $(GO) test -run='^$$' -bench='ServeIdle' -count=3 ./internal/e2e/
	PATHBOT_BIG=1 $(GO) test -run='^$$' -bench='Leaderboard' -benchtime=30x ./internal/store/

.PHONY: fuzz
fuzz: ## fuzz the command parser for a minute
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=60s ./internal/command/

.PHONY: loadtest
loadtest: ## the headline load test: 5,000 commands/s for 60 s through the emulator
	$(GO) run ./cmd/pathbot loadtest -rate 5000 -duration 60s
