#!/usr/bin/env bash
# A walkthrough of Agora's notary against a dev node, for a new user.
#
# It builds agora (or uses $AGORA_BIN), starts 'agora dev' in a temporary
# home, creates a key, anchors a file, verifies it, looks at its
# transaction and block, shows what a duplicate anchor and an unknown file
# look like, proves both answers against the log key alone, crashes the
# node with kill -9, restarts it, finds the anchor still there and the log
# consistent with the checkpoint signed before the crash, and checks the
# store with 'agora fsck'.
#
# Run it from anywhere:
#
#	examples/notary.sh
#	AGORA_BIN=/path/to/agora examples/notary.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesNotary runs it in CI.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "1. Start a dev node (demo identities, passphrase 'dev')"
start_node

step "2. Create a key of your own"
show agora keys new carol
expect_output '^carol +ed25519' agora keys list

step "3. Anchor a file: only its SHA-256 goes on the ledger"
printf 'Lease for flat 3, signed %s\n' "$(date -u +%F)" >"$work/lease.txt"
cd "$work"
expect_output '^anchored lease.txt$' agora notary anchor lease.txt --key carol --description "signed lease"
tx=$(awk '$1 == "tx" {print $2}' <<<"$last")
height=$(awk '$1 == "height" {print $2}' <<<"$last")
[[ $tx =~ ^[0-9a-f]{64}$ && $height =~ ^[0-9]+$ ]] || die "no tx hash and height in the anchor's output"

step "4. Verify it: exit status 0, and who anchored it when"
expect_output "^  tx +$tx\$" agora notary verify lease.txt
grep -Eq '^  by .*\(your key carol\)$' <<<"$last" || die "verify did not name carol"

step "5. The anchor's transaction, and the block it is in"
expect_output '^  status +committed$' agora tx show "$tx"
expect_output "^    $tx  notary/anchor  ok\$" agora block show "$height"

step "6. Anchoring the same file again is refused (exit 1)"
expect_fail 1 'already anchored' agora notary anchor lease.txt --key carol

step "7. A file that was never anchored does not verify (exit 1)"
printf 'Lease for flat 4, never signed\n' >"$work/draft.txt"
expect_fail 1 '^NOT anchored: draft.txt' agora notary verify draft.txt

step "8. Trust nothing but the log key: proofs, checked offline"
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"
expect_output '^  proven  against the checkpoint of agora.ledger/agora-dev at height [0-9]+, as of .+$' \
	agora notary verify lease.txt --log-key "$logkey"
expect_fail 1 'proven absent at height' agora notary verify draft.txt --log-key "$logkey"
agora tx show "$tx" --json --proof >"$work/tx.json"
expect_output '^result: ok$' agora verify tx tx.json --log-key "$logkey"
curl -fsS "$AGORA_NODE/log/checkpoint" >"$work/before.checkpoint"
expect_output '^origin: agora.ledger/agora-dev$' agora verify checkpoint before.checkpoint --log-key "$logkey"

step "9. Crash the node with kill -9"
stop_node KILL
expect_fail 1 'cannot reach the node' agora info

step "10. Restart it on the same home: every committed block is still there"
start_node
expect_output "^  tx +$tx\$" agora notary verify lease.txt
expect_fail 1 '^NOT anchored: draft.txt' agora notary verify draft.txt
size=$(head -2 before.checkpoint | tail -1)
curl -fsS "$AGORA_NODE/v1/proof/consistency?from=$size" >"$work/consistency.json"
curl -fsS "$AGORA_NODE/log/checkpoint" >"$work/after.checkpoint"
expect_output '^verified$' agora verify consistency before.checkpoint after.checkpoint consistency.json --log-key "$logkey"

step "11. Stop it, and check the store by replaying every block"
stop_node TERM
expect_output '^ok: [0-9]+ blocks, 1 transactions' agora fsck

printf '\nnotary.sh: all steps behaved as expected.\n'
