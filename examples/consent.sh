#!/usr/bin/env bash
# A walkthrough of data-usage contracts (DTM-001) against a dev node.
#
# Alice, the data subject, gives her e-mail address and income to a bank,
# the controller, under a usage policy; the bank passes her income to a
# scoring firm, a processor. Each party acts under a pairwise DID made for
# this one contract. The bank asks the ledger before each use: an allowed
# use, a denied one, a modified one (aggregated data only) and a delayed
# one. A transfer derives the scoring firm's contract, bound to the
# bank's. Alice revokes; the scoring firm's next use is refused and
# logged. Alice's audit lists every use down the chain, each page proven
# against the log key, and exports her consent record (ISO/IEC TS 27560,
# DPV). The ledger never sees the items; of the rules it holds only a
# Merkle root each, and a use opens only the parts that decide it
# (docs/spec/consent.md, section 6).
#
# Run it from anywhere:
#
#	examples/consent.sh
#	AGORA_BIN=/path/to/agora examples/consent.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesConsent runs it in CI.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "1. Start a dev node"
start_node
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"
cd "$work"

step "2. Pairwise DIDs: one for Alice and one for each firm, for this contract only"
expect_output '^created did:agora:' agora did create --pairwise alice-bank
alice=$(sed -n 's/^created //p' <<<"$last")
expect_output '^created did:agora:' agora did create --pairwise bank-alice
bank=$(sed -n 's/^created //p' <<<"$last")
expect_output '^created did:agora:' agora did create --pairwise scorer-alice
scorer=$(sed -n 's/^created //p' <<<"$last")

step "3. The terms Alice and the bank agree on, off the ledger"
cat >terms.json <<EOF
{
  "subject": {"did": "$alice"},
  "controller": {"did": "$bank"},
  "items": [
    {"type": "dpv-pd:EmailAddress", "value": "alice@example.org"},
    {"type": "dpv-pd:Income", "value": "52000 EUR"}
  ],
  "rules": [
    {"event": "use", "purposes": ["dpv:CreditChecking"], "max_count": 3, "action": "allow", "notify": true},
    {"event": "use", "purposes": ["dpv:Marketing"], "action": "deny"},
    {"event": "use", "purposes": ["dpv:ServiceOptimisation"], "action": "modify", "method": "aggregate"},
    {"event": "use", "purposes": ["dpv:FraudPreventionAndDetection"], "action": "delay", "delay": 2000},
    {"event": "store", "places": ["EU"], "action": "allow", "delete_after": 86400000},
    {"event": "transfer", "recipients": ["scoring.example"], "purposes": ["dpv:CreditChecking"], "action": "allow"}
  ]
}
EOF
cat terms.json

step "4. Both sign the contract: the ledger keeps fingerprints and a root for each rule"
expect_output '^created contract [0-9a-f]{64}$' agora consent create terms.json \
	--subject-key pairwise-alice-bank --controller-key pairwise-bank-alice
id=$(sed -n 's/^created contract //p' <<<"$last")
expect_output '^  rule 5    [0-9a-f]{16} \(permitted 0\)$' agora consent show "$id"
if agora consent show "$id" --json | grep -Eq 'alice@example.org|CreditChecking|52000|deny'; then
	die "the ledger shows an item or a rule's contents"
fi

step "5. The bank asks before each use"
use() { agora consent use terms.json --key pairwise-bank-alice --event use --items "$1" --purpose "$2"; }
expect_output '^allow$' use 1 dpv:CreditChecking
expect_fail 1 '^deny$' use 0 dpv:Marketing
expect_output '^modify$' use 1 dpv:ServiceOptimisation
expect_output '^delay$' use 1 dpv:FraudPreventionAndDetection

step "6. A transfer to the scoring firm, who co-signs: its derived contract"
cat >scorer.json <<EOF
{"controller": {"did": "$scorer"},
 "rules": [{"event": "use", "purposes": ["dpv:CreditChecking"], "action": "modify", "method": "anonymise"}]}
EOF
expect_output '^  derived   [0-9a-f]{64}$' agora consent transfer terms.json --key pairwise-bank-alice \
	--processor-key pairwise-scorer-alice --child scorer.json --items 1 \
	--purpose dpv:CreditChecking --recipient scoring.example
child=$(sed -n 's/^  derived   //p' <<<"$last")
expect_output "^  parent    $id" agora consent show "$child"
expect_output '^modify$' agora consent use scorer.json --key pairwise-scorer-alice --event use --items 0 --purpose dpv:CreditChecking

step "7. Alice revokes; the revocation reaches the processor"
expect_output "^revoked $id\$" agora consent revoke terms.json --key pairwise-alice-bank
expect_fail 1 '^refused$' agora consent use scorer.json --key pairwise-scorer-alice --event use --items 0 --purpose dpv:CreditChecking

step "8. Alice's audit: every use down the chain, every page proven"
expect_output '^proven: ' agora consent audit terms.json --log-key "$logkey"
grep -Eq "$scorer  use dpv-pd:Income purpose=dpv:CreditChecking -> refused \(revoked" <<<"$last" ||
	die "the audit does not show the processor's refused use"
curl -fsS "$AGORA_NODE/v1/consent/contracts/$child/uses?proof=1" >uses.json
expect_output '^verified$' agora verify state uses.json --query "/v1/consent/contracts/$child/uses" --log-key "$logkey"

step "9. Her consent record, ISO/IEC TS 27560 in DPV terms"
expect_output '"dpv:ConsentWithdrawn"' agora consent export terms.json --log-key "$logkey"

step "Done: allowed, denied, modified and delayed uses; a derived contract; a revocation that reached it; a proven audit"
