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

.PHONY: help build test bench lint fmt clean demo invoke synth node

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

test: node ## run every test: unit, handler, end-to-end and infra
	$(GO) test -count=1 ./...

bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: node ## run the suite end to end locally: real binaries, local AWS stand-in, dynalite
	$(GO) run ./pkg/demo

invoke: node ## replay one event against a function's real binary: make invoke FN=verify EVENT=events/<file>.json
	$(GO) run ./pkg/demo invoke -fn $(FN) -event $(EVENT)

synth: build node ## synthesize the CDK stack offline into cdk.out (no AWS credentials needed)
	node_modules/.bin/cdk synth --quiet

$(GOLANGCI):
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(GOLANGCI) ## gofmt check and golangci-lint
	@out=$$(gofmt -l $$(git ls-files "*.go")); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOLANGCI) run ./...

fmt: ## gofmt the tree
	gofmt -w .

clean: ## remove build output
	rm -rf dist cdk.out .bin
