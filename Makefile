# Switchboard: `make run` serves the hub, `make test` runs every suite, `make bench` the benchmarks.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: run test bench

# Extra arguments for `serve`, e.g. make run ARGS="--port 9090 --database /tmp/sb.sqlite"
ARGS ?=

run:
	bash scripts/install-deps.sh
	swift run switchboard serve $(ARGS)

test:
	bash scripts/install-deps.sh --test
	swift build
	swift test
	SWITCHBOARD_BIN="$$(swift build --show-bin-path)/switchboard" python3 -m pytest -q Tests/e2e
	if [ -f Tests/e2e/schemathesis.sh ]; then bash Tests/e2e/schemathesis.sh "$$(swift build --show-bin-path)/switchboard"; fi

bench:
	bash Benchmarks/ingestion.sh
	bash Benchmarks/webchat.sh
	bash Benchmarks/routing.sh
	bash Benchmarks/email.sh
	bash Benchmarks/import.sh
	bash Benchmarks/campaign.sh
