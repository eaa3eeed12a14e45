#!/usr/bin/env bash
# A walkthrough of oracle-triggered assets (ENT-001, Lithopia) against a
# dev node, for a new user.
#
# A village registers a parcel; three satellite data providers are
# accredited by governance (entries of the registry "oracles", which the
# identity deployers control in the dev Community); the owner sets a rule:
# "when 2 of the 3 see the red marker on the parcel, it goes to the
# commons". A provider that is not accredited signs: its signature does not
# count. Two accredited providers sign off the ledger, anyone submits, the
# rule fires once and ownership changes, provably. Then the previous owner
# disputes the trigger within its window and governance (a ratified
# change) reverses it, provably.
#
# Run it from anywhere:
#
#	examples/assets.sh
#	AGORA_BIN=/path/to/agora examples/assets.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesAssets runs it in CI. It takes
# about half a minute, most of it waiting for the dev Bylaws' review period.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

change_status() {
	curl -fsS "$AGORA_NODE/v1/gov/changes/$1" | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p'
}
trigger_status() {
	curl -fsS "$AGORA_NODE/v1/asset/triggers/$1" | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p'
}
# await WHAT WANT CMD...: wait up to 60 s until CMD prints WANT.
await() {
	local what=$1 want=$2 i got=
	shift 2
	printf '(waiting for %s to be %s)\n' "$what" "$want"
	for ((i = 0; i < 600; i++)); do
		got=$("$@")
		[[ $got == "$want" ]] && { echo "$what: $got"; return; }
		sleep 0.1
	done
	die "$what is '$got' after 60s, want '$want'"
}
newdid() {
	agora keys new "$1" >/dev/null
	agora did create --key "$1" | sed -n 's|^created ||p'
}

step "1. Start a dev node (demo Community, passphrase 'dev')"
start_node
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"

step "2. Two identities: the village that owns the parcel, and the commons"
village=$(newdid village)
commons=$(newdid commons)
echo "village $village"
echo "commons $commons"

step "3. The village registers parcel 7"
expect_output '^  asset/registered asset=parcel-7 ' \
	agora asset register parcel-7 --key village --owner "$village" --place 50.087451,14.420671 \
	--description "Parcel 7, Lithopia" --meta cadastre=CZ-7
expect_output "^  owner   $village\$" agora asset show parcel-7

step "4. Governance accredits three satellite providers, each with its key"
for p in sat-a sat-b sat-c; do
	show agora keys new "$p"
	expect_output '^set-entry: ok' agora gov set-entry oracles "$p" "$(agora keys export-public "$p")"
done
show agora keys new rogue-sat
expect_output '"accredited": ?false' curl -fsS "$AGORA_NODE/v1/asset/providers/rogue-sat"

step "5. The village's rule: 2 of the 3 see the marker within 50 m, and the parcel goes to the commons"
from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
expect_output 'asset/rule asset=parcel-7 rule=1 threshold=2 of 3' \
	agora asset rule parcel-7 --key village --type marker --radius 50 --from "$from" --until "$until" \
	--min-value 80 --providers sat-a,sat-b,sat-c --threshold 2 --to "$commons" --dispute-window 10m

step "6. A provider that is not accredited signs: its signature does not count"
seen=$(date -u +%Y-%m-%dT%H:%M:%SZ)
obs() { agora oracle observe --key "$1" --type marker --place 50.087600,14.420800 --value 95 --time "$seen" --out "$work/$1.json"; }
show obs rogue-sat
expect_fail 1 'no signature counts \(rogue-sat: not accredited\)' \
	agora oracle submit parcel-7 1 "$work/rogue-sat.json" --key alice
expect_output "^  owner   $village\$" agora asset show parcel-7

step "7. Satellite A signs; anyone submits: 1 of 2, the rogue's signature ignored"
show obs sat-a
expect_output 'counted=1 of 2 ignored=rogue-sat: not accredited' \
	agora oracle submit parcel-7 1 "$work/sat-a.json" "$work/rogue-sat.json" --key alice
expect_output "^  owner   $village\$" agora asset show parcel-7

step "8. Satellite B signs: 2 of 2, the rule fires, the parcel goes to the commons"
show obs sat-b
expect_output "asset/triggered trigger=1 asset=parcel-7 from=$village to=$commons" \
	agora oracle submit parcel-7 1 "$work/sat-b.json" --key bob
expect_output "^  owner   $commons\$" agora asset show parcel-7

step "9. A rule fires once"
show obs sat-c
expect_fail 1 'fired already \(trigger 1\); a rule fires once' \
	agora oracle submit parcel-7 1 "$work/sat-c.json" --key alice

step "10. The trigger, with its signatures, proven against the log key, and checked offline"
expect_output '^  signed by sat-b ' agora asset trigger 1 --log-key "$logkey"
grep -Eq '^  signed by sat-a ' <<<"$last" || die "the trigger does not show sat-a's signature"
grep -Eq '^proven against the checkpoint of agora.ledger/agora-dev' <<<"$last" || die "the trigger is not proven"
curl -fsS "$AGORA_NODE/v1/asset/triggers/1?proof=1" >"$work/trigger.json"
expect_output '"status":"fired"' agora verify state --query /v1/asset/triggers/1 "$work/trigger.json" --log-key "$logkey"
trigtx=$(grep -o '"tx_hash":"[0-9a-f]\{64\}"' <<<"$last" | head -n 1 | cut -d'"' -f4)
[[ -n $trigtx ]] || die "the proven trigger names no transaction"
agora tx show "$trigtx" --json --proof >"$work/trigger-tx.json"
expect_output '^result: ok$' agora verify tx "$work/trigger-tx.json" --log-key "$logkey"

step "11. The village disputes it within the window: the marker was a storm's tarpaulin"
expect_fail 1 'only the previous owner' agora asset dispute 1 --key commons --reason "we like it"
expect_output 'asset/disputed trigger=1' \
	agora asset dispute 1 --key village --reason "The marker was a tarpaulin left by a storm"
expect_output '^  frozen  trigger 1 is disputed$' agora asset show parcel-7

step "12. Governance reverses it: draft, Board vote, public review, execution"
expect_output 'change 1: voting until' \
	agora gov draft --key dir-exchanges --title "Reverse trigger 1" --text "The storm, not the villagers, covered parcel 7." \
	--action 'asset.reverse={"trigger":1,"reason":"the storm, not the villagers, covered parcel 7"}'
for d in dir-exchanges dir-custodians dir-identity; do show agora gov vote 1 yes --key "$d"; done
show agora gov open-review 1
await "change 1" executed change_status 1
await "trigger 1" reversed trigger_status 1
expect_output "^  owner   $village\$" agora asset show parcel-7 --log-key "$logkey"

step "13. The reversal, proven; the parcel's history tells the whole story"
expect_output '^  decided by governance at height [0-9]+: the storm' agora asset trigger 1 --log-key "$logkey"
grep -Eq '^  status  reversed$' <<<"$last" || die "trigger 1 is not reversed"
curl -fsS "$AGORA_NODE/v1/asset/triggers/1?proof=1" >"$work/reversed.json"
expect_output '"status":"reversed"' agora verify state --query /v1/asset/triggers/1 "$work/reversed.json" --log-key "$logkey"
expect_output ' reversed +owner ' agora asset history parcel-7 --log-key "$logkey"

step "Done: every trigger and reversal is on the log, with the providers' signatures"
