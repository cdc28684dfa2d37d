# dasy — the public interface (DESIGN.md §4). Every target builds what it needs first.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export npm_config_loglevel := error
# Every recipe runs on the Node that npm ci chose (infra/node.sh, README: Node.js): its postinstall
# links it to node_modules/.bin/node, first on PATH here, so `node` and every tool's
# `#!/usr/bin/env node` (tsc, jest, eslint) start it, and every process they start runs on it too.
# NODE_MAJOR=22 (or 24) runs a target on that major instead: `make test-unit NODE_MAJOR=22`.
NODE_MAJOR ?=
export NODE_MAJOR
export PATH := $(if $(NODE_MAJOR),$(CURDIR)/node_modules/.node$(NODE_MAJOR):)$(CURDIR)/node_modules/.bin:$(PATH)
DASY := node dist/apps/cli/main.js
# the development entry point (dev/main.ts): bench, chaos; not part of the shipped dasy (bin/dasy)
DASY_DEV := node dist/dev/main.js
SOURCES := $(shell find apps libs migrations bench chaos dev -name '*.ts' -not -name '*.test.ts' 2>/dev/null) tsconfig.json tsconfig.base.json

ROWS ?= 500000
SEED ?= 1
FILE ?= data/products.csv
CONSUMERS ?= 2
BROKERS ?= 1
REJECTS ?=
METRICS_PORT ?= 9464
SYNC ?=
DELETE ?=

.PHONY: help node-check build up down reset create-migrations destroy-migrations data products-producer \
        products-consumer product-count-producer product-count-consumer product-count dataset-consumer dataset-aggregates \
        ingest delete rebuild api metrics status demo \
        test test-unit test-e2e bench chaos lint format

help:
	@echo "dasy: make demo | make test | make up | make down | make ingest FILE=... [DATASET=spec] [SYNC=1] | make delete FILE=skus.csv"
	@echo "      make rebuild | make products-producer FILE=... [DELETE=1] | make api | make status | make bench"
	@echo "see README.md for every target"

node_modules/.package-lock.json: package.json package-lock.json patches/kafkajs+2.2.4.patch
	npm ci --no-audit --no-fund
	@touch $@

# Stops early, saying what to do, unless the node on PATH is one dasy supports.
node-check: node_modules/.package-lock.json
	@infra/node.sh check $(NODE_MAJOR)

dist/.built: node_modules/.package-lock.json $(SOURCES) | node-check
	node_modules/.bin/tsc -p tsconfig.json
	@touch $@

build: node-check dist/.built

# then the namespace's topics: created if missing, a products topic from before compaction switched to it
up: build
	BROKERS=$(BROKERS) infra/stack.sh up
	$(DASY) prepare --topics-only

down:
	infra/stack.sh down

reset: build
	$(DASY) reset

create-migrations: build
	$(DASY) migrate up $(if $(DATASET),--dataset $(DATASET))

destroy-migrations: build
	$(DASY) migrate down

data: build
	$(DASY) data --rows $(ROWS) --seed $(SEED) --out $(FILE)

products-producer: build
	$(DASY) products-producer --file $(FILE) $(if $(REJECTS),--rejects $(REJECTS)) $(if $(filter-out 0 no false off,$(DELETE)),--delete)

products-consumer: build
	$(DASY) products-consumer --consumers $(CONSUMERS)

product-count-producer: build
	$(DASY) product-count-producer

product-count-consumer: build
	$(DASY) product-count-consumer

# both in one process, as `make ingest` forks them (productCountFollowers)
product-count: build
	$(DASY) product-count

# a declared dataset's parts on their own (README: Datasets): one rows consumer; the relay and the recounts
dataset-consumer: build
	@if [[ -z "$(DATASET)" ]]; then echo "make dataset-consumer needs DATASET=<spec, e.g. datasets/orders.yaml>" >&2; exit 2; fi
	$(DASY) dataset-consumer --dataset $(DATASET)

dataset-aggregates: build
	@if [[ -z "$(DATASET)" ]]; then echo "make dataset-aggregates needs DATASET=<spec, e.g. datasets/orders.yaml>" >&2; exit 2; fi
	$(DASY) dataset-aggregates --dataset $(DATASET)

ingest: build
	$(DASY) ingest --file $(FILE) --consumers $(CONSUMERS) $(if $(REJECTS),--rejects $(REJECTS)) $(if $(filter-out 0 no false off,$(SYNC)),--sync) $(if $(DATASET),--dataset $(DATASET))

# FILE has no default here: a CSV of the skus to delete (a sku column)
delete: build
	@if [[ "$(origin FILE)" != "command line" && "$(origin FILE)" != "environment" ]]; then echo "make delete needs FILE=<csv with a sku column, or the key columns of DATASET>" >&2; exit 2; fi
	$(DASY) delete --file $(FILE) --consumers $(CONSUMERS) $(if $(REJECTS),--rejects $(REJECTS)) $(if $(DATASET),--dataset $(DATASET))

rebuild: build
	$(DASY) rebuild --consumers $(CONSUMERS) $(if $(DATASET),--dataset $(DATASET))

api: build
	$(DASY) api

# The Prometheus exporter on its own (the api serves the same at /metrics).
metrics: build
	$(DASY) metrics --port $(METRICS_PORT)

status: build
	$(DASY) status $(if $(DATASET),--dataset $(DATASET))

demo: up
	$(DASY) demo

# The suite needs the stack: `make up` is a no-op when it already runs. With a Docker engine and
# no KAFKA_BROKERS/DATABASE_URL, the e2e suite starts its own with testcontainers instead.
test: build
	@infra/need.sh chromium chromium "the dashboard's browser test"
	@infra/need.sh prometheus prometheus "the metrics test"
	@[[ -f .stack/kafka-libs/kafka-tools-3.9.1.jar ]] || { echo "test: fetching Kafka's jars with its tools (infra/kafka/pom.xml) for the consumer-groups test"; \
	  mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies; }
	@if [[ -z "$${KAFKA_BROKERS:-}$${DATABASE_URL:-}" ]] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then \
	  echo "test: Docker engine found; the e2e suite starts Kafka and PostgreSQL with testcontainers"; \
	else $(MAKE) --no-print-directory up; fi
	$(MAKE) --no-print-directory lint
	node_modules/.bin/jest --selectProjects unit
	node_modules/.bin/jest --selectProjects e2e --runInBand

# The type check of the whole tree, tests included (tsconfig.eslint.json; the build's tsconfig.json
# leaves the tests out of dist), ESLint (type-aware: no-floating-promises, no-misused-promises) and
# Prettier's check.
lint: node-check
	node_modules/.bin/tsc -p tsconfig.eslint.json --noEmit
	node_modules/.bin/eslint --max-warnings 0 .
	node_modules/.bin/prettier --check --log-level warn .

format: node-check
	node_modules/.bin/prettier --write --log-level warn .

test-unit: build
	node_modules/.bin/jest --selectProjects unit

test-e2e: build
	node_modules/.bin/jest --selectProjects e2e --runInBand

bench: up
	$(DASY_DEV) bench $(if $(QUICK),--quick)

# Restarts the local stack's broker and the machine's PostgreSQL (README: Fault tolerance).
chaos: up
	$(DASY_DEV) chaos $(if $(SCENARIO),--scenario $(SCENARIO))
