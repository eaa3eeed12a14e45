#!/usr/bin/env bash
# A walkthrough of Agora's custody wallets against a dev node.
#
# It builds agora (or uses $AGORA_BIN), starts 'agora dev' in a temporary
# home, and gives five key holders a home each, with a DID and a signer
# daemon ('agora custody signer run') that follows the ledger's event feed
# and checks every answer against the node's log key. The owner creates a
# 3-of-5 Ed25519 wallet: the five signers run the distributed key
# generation through the ledger, each keeping its share encrypted in its
# own home. A withdrawal over the policy's cap is refused; one within it
# is approved by a second person and signed by three signers, and the
# signature verifies with crypto/ed25519 (and OpenSSL, if installed). A
# 2-of-3 taproot wallet signs a 32-byte sighash that a BIP-340 verifier
# accepts. The change group then rotates the 3-of-5 wallet's holders to a
# 3-of-4 set with two new holders in homes of their own: the key and
# address stay, the holders who leave delete their shares, and the new
# holders' signature verifies under the same key.
#
# Run it from anywhere:
#
#	examples/custody.sh
#	AGORA_BIN=/path/to/agora examples/custody.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesCustody runs it.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

signers=()
stop_signers() {
	local pid
	for pid in "${signers[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	signers=()
}
trap 'stop_signers; cleanup' EXIT

step "1. Start a dev node (demo identities, passphrase 'dev')"
start_node
cd "$work"
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"

did_of() { sed -n 's/^created \(did:agora:[a-z2-7]*\)$/\1/p' <<<"$last"; }

step "2. The owner (alice) and an approver (bob): DIDs of demo keys"
expect_output '^created did:agora:' agora did create --key alice
alice=$(did_of)
expect_output '^created did:agora:' agora did create --key bob
bob=$(did_of)

step "3. Five key holders, each in a home of its own"
holders=()
for i in 1 2 3 4 5; do
	show agora keys new "h$i" --home "$work/h$i"
	expect_output '^created did:agora:' agora did create --key "h$i" --home "$work/h$i"
	holders+=("$(did_of)")
done

step "4. Each holder starts its signer"
for i in 1 2 3 4 5; do
	echo_cmd agora custody signer run --home "$work/h$i" --key "h$i" --did "${holders[i - 1]}" --log-key "$logkey"
	# The binary itself, not the agora function: $! must be the signer's
	# pid, or stop_signers stops a subshell and leaves the signer running.
	"$AGORA_BIN" custody signer run --home "$work/h$i" --key "h$i" --did "${holders[i - 1]}" --log-key "$logkey" \
		>"$work/signer$i.log" 2>&1 &
	signers+=($!)
done

step "5. A 3-of-5 wallet: over 1000 is refused; anything else needs bob's approval"
cat >"$work/policy.json" <<JSON
{
  "groups": [{"name": "ops", "members": ["$alice", "$bob"], "quorum": 1}],
  "rules": [
    {"name": "cap", "action": "deny", "min_amount": 1001, "destination": "*"},
    {"name": "ops", "action": "allow", "destination": "*", "group": "ops", "approvals": 1}
  ],
  "change_group": "ops"
}
JSON
all=$(IFS=,; echo "${holders[*]}")
expect_output '^custody create: ok' agora custody create treasury --key alice --owner "$alice" \
	--holders "$all" --threshold 3 --policy policy.json

step "6. The signers run the DKG through the ledger; the owner activates the wallet"
expect_output '^  state    in_activation$' agora custody show treasury --wait in_activation --timeout 2m
expect_output '^custody activate: ok' agora custody activate treasury --key alice
expect_output '^  proven   against the checkpoint' agora custody show treasury --log-key "$logkey"
for i in 1 2 3 4 5; do
	head -c 21 "$work/h$i/custody/h$i.age" | grep -q '^age-encryption.org/v1' || die "h$i's share is not age-encrypted"
done
echo "each share is in its holder's home, age-encrypted"

step "7. A withdrawal over the cap is refused by the policy"
expect_fail 1 'refused by policy: rule "cap" denies 5000' \
	agora custody request treasury --key alice --initiator "$alice" --amount 5000 --to exchange-1 --message 68656c6c6f

step "8. One within it: alice requests, bob approves (alice's own approval never counts)"
msg=$(printf 'withdraw 10 to exchange-1' | xxd -p -c 256 2>/dev/null || printf 'withdraw 10 to exchange-1' | od -An -tx1 | tr -d ' \n')
expect_output '^custody request: ok' agora custody request treasury --key alice --initiator "$alice" \
	--amount 10 --to exchange-1 --message "$msg"
expect_output '^  signable   false' agora custody status treasury 1
expect_fail 1 'never counts among its approvers' agora custody approve treasury 1 --key alice --approver "$alice"
expect_output '^custody approve: ok' agora custody approve treasury 1 --key bob --approver "$bob"

step "9. Three signers commit and give their shares; the ledger aggregates the signature"
expect_output '^  signature  [0-9a-f]{128}$' agora custody status treasury 1 --wait signed --timeout 2m --log-key "$logkey"
expect_output '^  verifier   crypto/ed25519$' agora custody verify treasury 1 --log-key "$logkey"
key=$(awk '$1 == "key" && NF == 2 {print $2}' <<<"$last")
sig=$(awk '$1 == "signature" && NF == 2 {print $2}' <<<"$last")
if command -v openssl >/dev/null && command -v xxd >/dev/null; then
	printf '302a300506032b6570032100%s' "$key" | xxd -r -p >"$work/pub.der"
	printf '%s' "$sig" | xxd -r -p >"$work/sig.bin"
	printf 'withdraw 10 to exchange-1' >"$work/msg.bin"
	expect_output 'Signature Verified Successfully' openssl pkeyutl -verify -pubin -keyform DER -inkey pub.der \
		-rawin -in msg.bin -sigfile sig.bin
fi

step "10. A 2-of-3 taproot wallet signs a sighash a BIP-340 verifier accepts"
expect_output '^custody create: ok' agora custody create vault --key alice --owner "$alice" \
	--holders "${holders[0]},${holders[1]},${holders[2]}" --threshold 2 --policy policy.json \
	--suite taproot --asset BTC --network bitcoin --tier warm
expect_output '^  state    in_activation$' agora custody show vault --wait in_activation --timeout 2m
expect_output '^custody activate: ok' agora custody activate vault --key alice
sighash=$(printf 'a bitcoin transaction' | sha256sum | cut -c1-64)
expect_output '^custody request: ok' agora custody request vault --key alice --initiator "$alice" \
	--amount 5 --to bc1q-exchange --message "$sighash"
expect_output '^custody approve: ok' agora custody approve vault 1 --key bob --approver "$bob"
expect_output '^  signature  [0-9a-f]{128}$' agora custody status vault 1 --wait signed --timeout 2m
expect_output '^  verifier   BIP-340 \(btcec/v2/schnorr\)$' agora custody verify vault 1 --log-key "$logkey"

step "11. The audit log, proven"
expect_output 'signed' agora custody audit treasury --log-key "$logkey"

step "12. A rotation keeps the address: h1, h4 and h5 leave, h6 and h7 come; 3 of 4"
for i in 6 7; do
	show agora keys new "h$i" --home "$work/h$i"
	expect_output '^created did:agora:' agora did create --key "h$i" --home "$work/h$i"
	holders+=("$(did_of)")
	echo_cmd agora custody signer run --home "$work/h$i" --key "h$i" --did "${holders[i - 1]}" --log-key "$logkey"
	"$AGORA_BIN" custody signer run --home "$work/h$i" --key "h$i" --did "${holders[i - 1]}" --log-key "$logkey" \
		>"$work/signer$i.log" 2>&1 &
	signers+=($!)
done
new=$(IFS=,; echo "${holders[1]},${holders[2]},${holders[5]},${holders[6]}")
# A key operation: proposed by a member of the change group (ops),
# approved by its quorum, the proposer never counting.
expect_output '^custody rotate: ok' agora custody rotate treasury --key alice --proposer "$alice" \
	--holders "$new" --threshold 3 --reason "h1, h4 and h5 leave"
expect_fail 1 'the proposer never counts' agora custody operation approve treasury --key alice --approver "$alice"
expect_output '^custody approve_op: ok' agora custody operation approve treasury --key bob --approver "$bob"
# Three old holders deal their shares afresh, sealed to the new holders;
# each new holder checks what it got and accepts.
expect_output '^  state      done$' agora custody rotation treasury 1 --wait done --timeout 2m --log-key "$logkey"
expect_output "^  key      $key\$" agora custody show treasury --log-key "$logkey"
for i in 1 4 5; do
	for _ in $(seq 300); do
		grep -q 'share deleted' "$work/signer$i.log" && break
		sleep 0.2
	done
	grep -q 'share deleted' "$work/signer$i.log" || die "h$i kept its share after the rotation"
done
echo "h1, h4 and h5 deleted their shares"

step "13. The new holders sign; the signature verifies under the same key"
msg2=$(printf 'withdraw 20 to exchange-1' | xxd -p -c 256 2>/dev/null || printf 'withdraw 20 to exchange-1' | od -An -tx1 | tr -d ' \n')
expect_output '^custody request: ok' agora custody request treasury --key alice --initiator "$alice" \
	--amount 20 --to exchange-1 --message "$msg2"
expect_output '^custody approve: ok' agora custody approve treasury 2 --key bob --approver "$bob"
expect_output '^  signature  [0-9a-f]{128}$' agora custody status treasury 2 --wait signed --timeout 2m --log-key "$logkey"
expect_output "^  key        $key\$" agora custody verify treasury 2 --log-key "$logkey"

stop_signers
printf '\n%s: all outcomes as described\n' "$example"
