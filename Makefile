# Everything CI runs is `make test`; `make demo` shows a real rollback.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
GO ?= go
# The sandbox reports a real version so that kubectl can parse it; the same
# flags are used for `go build` and `go test` so the build cache is shared.
K8S_VERSION := v1.37.2
SANDBOX_LDFLAGS := $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(K8S_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=37 \
	-X $(p).gitTreeState=clean -X $(p).buildDate=2026-11-01T00:00:00Z)
export ROLLBACK_SANDBOX_BIN := $(BIN)/rollback-sandbox
export ROLLBACK_BIN := $(BIN)/rollback

.PHONY: all build sandbox-build sandbox deps test test-unit test-main test-sandbox vet demo demo-helm bench bench-db bench-guard bench-helm bench-incident bench-kinds install fuzz print-sandbox-ldflags docs docs-examples release

all: build

build:
	$(GO) build -o $(BIN)/rollback ./cmd/rollback
	$(GO) build -o $(BIN)/rollback-helm ./cmd/rollback-helm

sandbox-build:
	cd sandbox && $(GO) build -ldflags '$(SANDBOX_LDFLAGS)' -o $(BIN)/rollback-sandbox ./cmd/rollback-sandbox

# For `go test` by hand in sandbox/: go test -ldflags "$(make -s -C .. print-sandbox-ldflags)" ...
print-sandbox-ldflags:
	@echo '$(SANDBOX_LDFLAGS)'

# Start a sandbox in the foreground (Ctrl-C stops it); state under .sandbox/.
sandbox: sandbox-build
	$(BIN)/rollback-sandbox up --dir $(CURDIR)/.sandbox

# Install and start the services the tests need (PostgreSQL, MariaDB, ...).
deps:
	bash scripts/ci/install-deps.sh

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet -tags e2e ./...
	cd sandbox && $(GO) vet -tags e2e -ldflags '$(SANDBOX_LDFLAGS)' ./...

test: deps build sandbox-build vet test-sandbox test-main

# The unit tests alone: fast, nothing running (no sandbox, database or Prometheus).
test-unit:
	$(GO) test -count=1 ./...
	cd sandbox && $(GO) test -ldflags '$(SANDBOX_LDFLAGS)' -count=1 ./...

# Everything, end-to-end packages (build tag e2e) included.
test-sandbox:
	cd sandbox && $(GO) test -tags e2e -ldflags '$(SANDBOX_LDFLAGS)' -count=1 -timeout 20m ./...

test-main:
	$(GO) test -tags e2e -count=1 -timeout 30m ./...

demo: build sandbox-build deps
	bash scripts/demo.sh

demo-helm: build sandbox-build deps
	bash scripts/demo-helm.sh

bench: build sandbox-build
	$(GO) run ./bench/app

bench-db: build deps
	$(GO) run ./bench/db

bench-guard: build sandbox-build deps
	$(GO) run ./bench/guard

bench-helm: build sandbox-build deps
	$(GO) run ./bench/helm

bench-kinds: build sandbox-build
	$(GO) run ./bench/kinds

# The demo incident's time to verified recovery: rollback run against the seed
# runbook by hand (kubectl, pg_dump and golang-migrate's CLI), two database sizes.
# Flags go in BENCH_ARGS, e.g. BENCH_ARGS='-runs 3 -before /path/to/other/rollback'.
bench-incident: build sandbox-build deps $(BIN)/migrate
	$(GO) run ./bench/incident $(BENCH_ARGS)

# golang-migrate's CLI (the manual arm of bench-incident), built from source.
MIGRATE_VERSION := v4.20.1
$(BIN)/migrate:
	GOBIN=$(BIN) $(GO) install -tags postgres github.com/golang-migrate/migrate/v4/cmd/migrate@$(MIGRATE_VERSION)

install: build
	install -D $(BIN)/rollback $(or $(PREFIX),/usr/local)/bin/rollback
	install -D $(BIN)/rollback-helm $(or $(PREFIX),/usr/local)/bin/rollback-helm
	ln -sf rollback $(or $(PREFIX),/usr/local)/bin/kubectl-rollback

# Every parser of outside input is fuzzed; the corpora are in
# testdata/fuzz/FuzzXxx beside each target and replayed by every `go test`.
FUZZTIME ?= 20s
FUZZ_TARGETS := pkg/runbook:FuzzParse pkg/redact:FuzzRedact pkg/termsafe:FuzzString \
	pkg/promquery:FuzzExpand pkg/guardcontroller:FuzzParseSettings pkg/guardcontroller:FuzzURLPolicy \
	pkg/guardcontroller:FuzzReadState pkg/dbrollback:FuzzScanDataLoss pkg/dbrollback:FuzzSplitStatements \
	pkg/dbrollback:FuzzGooseDown pkg/dbrollback:FuzzMigrationName pkg/configs:FuzzObjectFromManifest \
	pkg/journal:FuzzReadLines pkg/journal:FuzzDecodeMirror

fuzz:
	@set -eo pipefail; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test ./$$pkg/ -run '^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) 2>&1 | tail -3; \
	done

# The command reference (docs/reference/*.md and man pages in docs/reference/man)
# is generated from the cobra commands; a unit test fails while it is out of date.
docs:
	$(GO) run ./cmd/rollback-docs -dir docs/reference

# Re-run every console example in README.md and docs/ against a sandbox and
# PostgreSQL and write the real output back into the Markdown (RUN=regexp
# narrows it to some pages, e.g. RUN=application).
docs-examples: build sandbox-build deps
	$(GO) test -tags e2e -count=1 -timeout 30m ./e2e/docs/ -run 'TestExamples/$(RUN)' -update

# The release: static binaries for linux and darwin on amd64 and arm64,
# tar.gz archives, checksums.txt and the krew manifest in dist/
# (VERSION=v1.2.3 to stamp a version).
release:
	bash release/build.sh
