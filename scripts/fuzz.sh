#!/usr/bin/env bash
# A fuzzing campaign: runs every fuzz target of the module for DURATION
# each (default 5m) and prints, as a Markdown table, how many inputs each
# executed, how many new interesting inputs it found and whether it
# failed. Failing inputs are kept by go test under the package's
# testdata/fuzz/<Target>/, where every later `go test` replays them.
#
#	scripts/fuzz.sh            # 5 minutes a target
#	scripts/fuzz.sh 30s        # a quick pass
#
# It exits non-zero if any target found a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5m}
log=$(mktemp -d "${TMPDIR:-/tmp}/agora-fuzz.XXXXXX")
failed=0

printf '| package | target | duration | executions | new interesting | result |\n'
printf '|---|---|---|---|---|---|\n'
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    out="$log/${pkg//\//_}.$target.txt"
    if go test -run '^$' -fuzz "^$target\$" -fuzztime "$duration" "$pkg" >"$out" 2>&1; then
      result=ok
    else
      result="FAILED (see $out)"
      failed=1
    fi
    last=$(grep -E '^fuzz: elapsed' "$out" | tail -1)
    execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
    interesting=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
    printf '| %s | %s | %s | %s | %s | %s |\n' "${pkg#github.com/agora-ledger/agora/}" "$target" "$duration" "${execs:-?}" "${interesting:-?}" "$result"
  done
done
exit $failed
