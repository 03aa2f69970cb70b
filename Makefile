# postdeploy — run `make help` for the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/.bin
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
GOLANGCI  := $(BIN)/golangci-lint
GOLANGCI_VERSION := v2.15.0
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help build test bench lint fmt clean demo invoke synth deploy node

FN    ?= verify
EVENT ?= events/verify-inline.json

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build each function as a linux/arm64 bootstrap into dist/<fn>/
	@for fn in $(FUNCTIONS); do \
		echo "build dist/$$fn/bootstrap"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o dist/$$fn/bootstrap ./functions/$$fn; \
	done

node: node_modules/.package-lock.json ## install the pinned Node tools (CDK CLI, dynalite)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Then every benchmark once (-benchtime 1x, about 30 s): a benchmark is not
# timed here, but one that no longer runs (a broken fixture) fails the test.
test: node ## run every test: unit, handler, end-to-end and infra; every benchmark once
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./pkg/... ./functions/...

# The Go benchmarks of pkg/ and functions/ (infra has none and its CDK
# build is slow), their output kept in dist/bench.txt, then benchreport:
# cold starts, package sizes, peak RSS and fan-out through the real
# binaries, written with the benchmarks' figures to BENCHMARKS.md.
bench: build node ## run the benchmarks and write BENCHMARKS.md (cold start, package size, peak RSS, AWS calls)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/... ./functions/... | tee dist/bench.txt
	$(GO) run ./pkg/devtools/benchreport -bench dist/bench.txt -out BENCHMARKS.md

demo: node ## run the suite end to end locally: real binaries, local AWS stand-in, dynalite
	$(GO) run ./pkg/devtools/demo

invoke: node ## replay one event against a function's real binary: make invoke FN=verify EVENT=events/<file>.json
	$(GO) run ./pkg/devtools/demo invoke -fn $(FN) -event $(EVENT)

synth: build node ## synthesize the CDK stack offline into cdk.out (no AWS credentials needed; cdk-nag included)
	node_modules/.bin/cdk synth --quiet $(CDK_ARGS)

deploy: build node ## deploy the stack to the account/region of your AWS credentials (cdk bootstrap once first)
	node_modules/.bin/cdk deploy --require-approval broadening $(CDK_ARGS)

$(GOLANGCI):
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(GOLANGCI) ## gofmt check, golangci-lint (incl. gosec; .golangci.yml) and make vuln
	@out=$$(gofmt -l $$(git ls-files "*.go")); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOLANGCI) run ./...
	@$(MAKE) --no-print-directory vuln

# govulncheck is built from its own module in .tools, so its dependencies
# stay out of go.mod. The online database is unreachable from CI: VULNDB is
# an offline copy (../shared/vulndb/README.md).
GOVULNCHECK := $(BIN)/govulncheck
VULNDB      ?= $(abspath ../shared/vulndb)

$(GOVULNCHECK): .tools/go.mod .tools/go.sum
	$(GO) build -C .tools -o $(GOVULNCHECK) golang.org/x/vuln/cmd/govulncheck

.PHONY: dashboards
dashboards: ## write the Grafana dashboards (JSON) into infra/monitoring/grafana from the widget definitions
	$(GO) run ./infra/monitoring/grafana -out infra/monitoring/grafana

.PHONY: vuln fuzz
vuln: $(GOVULNCHECK) ## govulncheck ./... against the offline database VULNDB (default ../shared/vulndb)
	@test -f "$(VULNDB)/index/db.json" || { echo "no Go vulnerability database at $(VULNDB): set VULNDB=/abs/path/to/vulndb"; exit 1; }
	$(GOVULNCHECK) -db "file://$(VULNDB)" ./...

# Not part of CI. Finds every func FuzzXxx with go test -list, runs each for
# FUZZTIME, keeps going after a crash (go test saves the failing input under
# the package's testdata/fuzz/FuzzXxx/, where plain go test replays it),
# then prints the totals and fails if any target crashed.
FUZZTIME  ?= 30s
FUZZFLAGS ?=

fuzz: ## run every fuzz target for FUZZTIME each (default 30s): make fuzz FUZZTIME=2m
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	targets=0; execs=0; failed=(); \
	while read -r pkg dir; do \
		grep -qs '^func Fuzz' "$$dir"/*_test.go || continue; \
		list=$$($(GO) test -list '^Fuzz' "$$pkg") || { echo "$$list"; failed+=("$$pkg: tests do not build"); continue; }; \
		for fz in $$(grep '^Fuzz' <<<"$$list"); do \
			echo "== $$pkg $$fz for $(FUZZTIME)"; \
			if ! $(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $(FUZZFLAGS) "$$pkg" 2>&1 | tee "$$log"; then \
				failed+=("$$pkg $$fz: failed; a crasher is saved in its testdata/fuzz/$$fz/"); \
			fi; \
			n=$$(grep -o 'execs: [0-9]*' "$$log" | tail -n 1 | tr -dc 0-9 || true); \
			execs=$$((execs + $${n:-0})); targets=$$((targets + 1)); \
		done; \
	done < <($(GO) list -f '{{.ImportPath}} {{.Dir}}' ./...); \
	echo "fuzz: $$targets targets, $(FUZZTIME) each, $$execs executions, $${#failed[@]} failed"; \
	for f in "$${failed[@]}"; do echo "  $$f"; done; \
	[ $${#failed[@]} -eq 0 ]

.PHONY: drill
STACK  ?=
REGION ?=
# With STACK: the deployed stack, with your AWS credentials (postdeploy
# drill). Without: the local demo stack (stand-in, dynalite, the real
# respond and remediate binaries), which needs the Node tools.
drill: $(if $(STACK),,node) ## alert drill: make drill STACK=Postdeploy [REGION=eu-west-1] on a deployed stack; without STACK on the local demo stack
	@if [ -n "$(STACK)" ]; then \
		$(GO) run ./pkg/cmd/postdeploy drill --stack "$(STACK)" $(if $(REGION),--region "$(REGION)"); \
	else \
		$(GO) run ./pkg/devtools/demo drill; \
	fi

.PHONY: runbook
runbook: ## write infra/monitoring/MONITORING.md from the synthesized stack, the runbook texts and the shipped policy
	$(GO) run ./infra/runbook/cmd/runbook

# The spec's JSON Schema is generated from the Go spec types by a test
# (pkg/spec/schemagen_test.go); TestSchemaIsGenerated fails until it is rerun.
.PHONY: schema
schema: ## regenerate pkg/spec/postdeploy.schema.json from the Go spec types (go generate ./pkg/spec)
	$(GO) generate ./pkg/spec

fmt: ## gofmt the tree
	gofmt -w .

clean: ## remove build output
	rm -rf dist cdk.out .bin

.PHONY: bench-triage
bench-triage: node ## respond's 100-finding event, sequential vs concurrent + PublishBatch, every AWS call answered after 20 ms; writes its section of BENCHMARKS.md
	$(GO) run ./pkg/devtools/triagebench -runs 7
