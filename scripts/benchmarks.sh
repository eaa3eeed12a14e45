#!/usr/bin/env bash
# benchmarks.sh: reproduce the generated part of docs/BENCHMARKS.md on this
# machine, with its charts (docs/bench/*.svg).
#
#	bash scripts/benchmarks.sh                 # all below but the optional runs (about 15 minutes)
#	AGORA_BENCH_10M=1 bash scripts/benchmarks.sh        # and scale at 10 million records (about 20 minutes more)
#	AGORA_BENCH_SOAK=30m bash scripts/benchmarks.sh     # and a soak, paced and sampled every minute
#
# The soak paces the load at AGORA_BENCH_SOAK_RATE tx/s (default "80%": of
# the capacity a probe measures first, on an empty ledger). Capacity falls
# as the ledger grows, so a long soak holds less than that: set the rate
# that is 80% of what the node takes at the soak's end (the report's
# capacity_end, measured by a second probe, and load_share tell).
#
# It runs every 'agora bench' scenario on an embedded node; the notary
# scenario on ledgers preloaded with 100 thousand and 1 million records;
# the notary scenario on a network of four validators, each its own
# 'agora node start' process on loopback (AGORA_BENCH_NETWORK=0 skips it);
# and the packages' 'go test -bench' benchmarks. Every 'agora bench' run
# measures the machine's ceiling (Ed25519 verifications per second on all
# cores) itself. Reports of runs made apart (a soak at another commit) can
# be included with AGORA_BENCH_EXTRA=FILE. Run it on an idle machine: the
# numbers are this machine's.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-benchmarks.XXXXXX")
declare -a pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
bin=$work/agora
CGO_ENABLED=0 go build -buildvcs=true -o "$bin" ./cmd/agora # as README builds it; the reports name its commit
results=docs/bench/results.json # the reports, kept beside the charts
mkdir -p docs/bench
: >"$results"
if [[ -n ${AGORA_BENCH_EXTRA:-} ]]; then
	cat "$AGORA_BENCH_EXTRA" >>"$results" # reports of runs made apart (a soak), to include
fi

run() {
	printf '\n$ agora bench %s\n' "$*" >&2
	"$bin" bench "$@" --json >>"$results"
}

for scenario in $("$bin" bench --list); do
	run --scenario "$scenario" --duration 10s --concurrency 16 --batch 100
done
sizes="100000 1000000"
if [[ -n ${AGORA_BENCH_10M:-} ]]; then
	sizes="$sizes 10000000"
fi
for n in $sizes; do
	run --preload "$n" --scenario notary --duration 10s --concurrency 16 --batch 100
done
if [[ -n ${AGORA_BENCH_SOAK:-} ]]; then
	run --rate "${AGORA_BENCH_SOAK_RATE:-80%}" --duration "$AGORA_BENCH_SOAK" --every 1m --concurrency 16 --batch 100
fi

# A network of four validators on loopback ports.
if [[ ${AGORA_BENCH_NETWORK:-1} != 0 ]]; then
	export AGORA_PASSPHRASE=benchmarks
	port=$((20000 + RANDOM % 1200 * 10)) # below the ephemeral ports (32768 on)
	"$bin" testnet init --validators 4 --dir "$work/net" --base-port "$port" --community none --home "$work/netclient" >&2
	for i in 0 1 2 3; do
		"$bin" node start --home "$work/net/node$i" >"$work/net/node$i.log" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < 600; i++)); do
		curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"height":[1-9]' && break
		sleep 0.1
	done
	for conc in 16 24 16 24; do
		run --node "http://127.0.0.1:$port" --duration 20s --concurrency "$conc" --batch 100 --presign 100000
	done
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
fi

# The packages' benchmarks, one operation at a time.
gobench=docs/bench/gobench.txt
{
	go test -run '^$' -bench . -benchmem -benchtime 20000x ./internal/node
	go test -run '^$' -bench . -benchmem -benchtime 5000x ./internal/api
	go test -run '^$' -bench . -benchmem -benchtime 300x ./internal/smt
	go test -run '^$' -bench . -benchmem -benchtime 20000x ./internal/tx
	go test -run '^$' -bench . -benchmem -benchtime 20000x ./internal/asset
} | tee "$gobench" >&2

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go env GOVERSION)"
go run ./tools/benchdoc -in "$results" -gobench "$gobench" -doc docs/BENCHMARKS.md -charts docs/bench \
	-command "bash scripts/benchmarks.sh" -machine "$machine" -commit "$(git rev-parse --short HEAD)"
echo "docs/BENCHMARKS.md and docs/bench/*.svg updated" >&2
