#!/usr/bin/env bash
# A walkthrough of a network of organisations on one machine: four
# validators, one per organisation, running Agora on CometBFT.
#
# It builds agora (or uses $AGORA_BIN), writes a four-validator network
# with 'agora testnet init', starts each validator as its own process with
# 'agora node start', submits a transaction to one node and watches every
# node reach the same block (and so the same state root and log), checks
# the network's checkpoint against the validators' keys from the genesis,
# stops a validator and sees the network go on, brings it back and sees
# it catch up, starts a fifth organisation's node, which catches up by
# block sync, makes it a validator by a ratified governance decision and
# sees it sign the network's checkpoints, and checks every store with
# 'agora fsck'.
#
# Run it from anywhere:
#
#	examples/testnet.sh
#	AGORA_BIN=/path/to/agora examples/testnet.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesTestnet runs it in CI.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

net=$work/net
base=$((20000 + RANDOM % 1200 * 10)) # below the ephemeral ports (32768 on)
declare -a pids=()
stop_all() {
	local p
	for p in "${pids[@]}"; do
		[[ -n $p ]] && kill -KILL "$p" 2>/dev/null || true
	done
	cleanup
}
trap stop_all EXIT

url() { echo "http://127.0.0.1:$((base + 10 * $1))"; }

# height I prints node I's height.
height() { curl -fsS "$(url "$1")/healthz" | sed -n 's/.*"height":\([0-9]*\).*/\1/p'; }

# block_hash I H prints the hash of node I's block at height H.
block_hash() { curl -fsS "$(url "$1")/v1/blocks/$2" | sed -n 's/^{"hash":"\([0-9a-f]*\)".*/\1/p'; }

# start I starts validator I in the background and waits for its API.
start() {
	"$AGORA_BIN" node start --home "$net/node$1" >>"$work/node$1.log" 2>&1 &
	pids[$1]=$!
	local i
	for ((i = 0; i < 300; i++)); do
		curl -fsS "$(url "$1")/healthz" >/dev/null 2>&1 && return
		kill -0 "${pids[$1]}" 2>/dev/null || { tail -n 20 "$work/node$1.log" >&2; die "node$1 exited"; }
		sleep 0.1
	done
	die "node$1 did not answer within 30s"
}

# wait_height I H waits until node I has committed height H.
wait_height() {
	local i h
	for ((i = 0; i < 600; i++)); do
		h=$(height "$1" || echo 0)
		((${h:-0} >= $2)) && return
		sleep 0.1
	done
	die "node$1 did not reach height $2 within 60s (at ${h:-?})"
}

# same_block H: every running node has the same block at height H.
same_block() {
	local want i got
	want=$(block_hash 0 "$1")
	for i in 1 2 3 4; do
		[[ -n ${pids[$i]:-} ]] || continue
		wait_height "$i" "$1"
		got=$(block_hash "$i" "$1")
		[[ $got == "$want" ]] || die "node$i has block $got at height $1, node0 has $want"
	done
	echo "every running node has block $1 = $want"
}

step "1. Write a network of four organisations and a fifth's node (passphrase 'dev' for their keys)"
expect_output "node4  http://127.0.0.1:$((base + 40))  \(full node\)" \
	agora testnet init --validators 4 --full-nodes 1 --dir "$net" --base-port "$base"

step "2. Start each organisation's validator: agora node start --home $net/nodeI"
for i in 0 1 2 3; do
	echo_cmd agora node start --home "$net/node$i"
	start "$i"
done
wait_height 0 2
echo "the network commits: node0 is at height $(height 0)"

step "3. Submit a transaction to one node: every node commits it in the same block"
show agora keys new carol
printf 'Minutes of the board, %s\n' "$(date -u +%F)" >"$work/minutes.txt"
cd "$work"
expect_output '^anchored minutes.txt$' agora notary anchor minutes.txt --key carol --node "$(url 2)"
h=$(awk '$1 == "height" {print $2}' <<<"$last")
[[ $h =~ ^[0-9]+$ ]] || die "no height in the anchor's output"
same_block "$h"
expect_output '^  tx ' agora notary verify minutes.txt --node "$(url 0)"

step "4. The network's checkpoint: signed by more than two thirds of the validators' power"
show curl -fsS "$(url 1)/log/checkpoint" -o checkpoint.txt
cat checkpoint.txt
expect_output '^signed_by: ' agora verify checkpoint --validators "$net/node0/genesis.json" checkpoint.txt

step "5. Stop one validator (org3): the other three go on"
show kill -TERM "${pids[3]}"
wait "${pids[3]}" || die "node3 did not stop cleanly"
pids[3]=
h=$(height 0)
printf 'Second minutes\n' >"$work/minutes2.txt"
expect_output '^anchored minutes2.txt$' agora notary anchor minutes2.txt --key carol --node "$(url 1)"
wait_height 0 $((h + 3))
same_block "$(height 0)"

step "6. Bring it back: it catches up with the others"
echo_cmd agora node start --home "$net/node3"
start 3
h=$(height 0)
wait_height 3 "$h"
same_block "$h"

step "7. A fifth organisation starts a node: it catches up by block sync"
echo_cmd agora node start --home "$net/node4"
start 4
h=$(height 0)
wait_height 4 "$h"
same_block "$h"

step "8. Governance makes it a validator: a Board decision, public review, ratification"
expect_output '"name":"org4"' agora testnet validator "$net/node4" --name org4
validator=$last
expect_output 'change 1: voting' agora gov draft --node "$(url 0)" --key dir-exchanges \
	--title "Admit org4 as a validator" --text "The fifth organisation runs a validator." \
	--action "ledger.set_validator=$validator"
for d in dir-exchanges dir-custodians dir-identity; do show agora gov vote 1 yes --key "$d" --node "$(url 1)"; done
expect_output 'change 1: public-review' agora gov open-review 1 --node "$(url 2)"
echo "(waiting for the public review period and the execution delay of the demo Bylaws)"
for ((i = 0; i < 600; i++)); do
	curl -fsS "$(url 0)/v1/ledger/validators" | grep -q '"name":"org4"' && break
	sleep 0.1
done
show curl -fsS "$(url 4)/v1/ledger/validators"
echo
curl -fsS "$(url 4)/v1/ledger/validators" | grep -q '"name":"org4"' || die "org4 is not a validator after 60s"
curl -fsS "$(url 4)/v1/ledger/validators" >validators.json
echo "(CometBFT takes the change two blocks later; then org4 signs every checkpoint)"
for ((i = 0; i < 300; i++)); do
	curl -fsS "$(url 4)/log/checkpoint" -o checkpoint.txt
	out=$(agora verify checkpoint --validators validators.json checkpoint.txt 2>&1) && grep -q 'org4' <<<"$out" && break
	sleep 0.1
done
expect_output '^signed_by: .*org4' agora verify checkpoint --validators validators.json checkpoint.txt

step "9. Stop every node and check each store by replaying it"
for i in 0 1 2 3 4; do
	kill -TERM "${pids[$i]}"
	wait "${pids[$i]}" || die "node$i did not stop cleanly"
	pids[$i]=
done
for i in 0 1 2 3 4; do
	expect_output '^ok: ' agora fsck --home "$net/node$i" -q
done

step "Done: five organisations, one ledger, and a validator set they govern"
