#!/usr/bin/env bash
# benchmarks.sh: reproduce the generated part of docs/BENCHMARKS.md on this
# machine, with its charts (docs/bench/*.svg).
#
#	bash scripts/benchmarks.sh                 # scenarios; scale at 100 thousand and 1 million records (about 6 minutes)
#	AGORA_BENCH_10M=1 bash scripts/benchmarks.sh        # and at 10 million (about 20 minutes more)
#	AGORA_BENCH_SOAK=30m bash scripts/benchmarks.sh     # and a soak at 80% of capacity, sampled every minute
#
# Every run starts its own embedded node in a temporary home and measures
# the machine's ceiling (Ed25519 verifications per second on all cores) in
# the same run. Run it on an idle machine: the numbers are this machine's.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-benchmarks.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/agora
go build -o "$bin" ./cmd/agora
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
	run --rate 80% --duration "$AGORA_BENCH_SOAK" --every 1m --concurrency 16 --batch 100
fi

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go env GOVERSION)"
go run ./tools/benchdoc -in "$results" -doc docs/BENCHMARKS.md -charts docs/bench \
	-command "bash scripts/benchmarks.sh" -machine "$machine" -commit "$(git rev-parse --short HEAD)"
echo "docs/BENCHMARKS.md and docs/bench/*.svg updated" >&2
