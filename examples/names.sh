#!/usr/bin/env bash
# A walkthrough of what identities do beyond their keys, against a dev
# node: names in a governed namespace, attestations and a confidence
# score, identity verification that a visited operator checks, and
# pairwise DIDs.
#
# It builds agora (or uses $AGORA_BIN), starts 'agora dev' in a temporary
# home (the demo Community governs the namespace names.exchange and the
# registries attesters and verifiers), registers tokyo.exchange with a
# member of the exchanges community co-signing (the namespace's default,
# member-assisted policy), shows squatting refused, resolves the name
# against the log key, has the exchanges community open the namespace,
# transfers and releases names, attests a claim as a salted hash, checks
# it, scores the subject before and after the attester is accredited,
# anchors a verified ID file and checks it as a visited operator would,
# and creates a pairwise DID.
#
# Run it from anywhere:
#
#	examples/names.sh
#	AGORA_BIN=/path/to/agora examples/names.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesNames runs it in CI. It
# takes about 20 seconds.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "1. Start a dev node (demo Community, passphrase 'dev')"
start_node
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"

# newdid KEY creates a DID controlled by a new key KEY and prints it.
newdid() {
	agora keys new "$1" >/dev/null
	agora did create --key "$1" | sed -n 's|^created ||p'
}

step "2. Two identities: Alice's and Bob's exchange desks"
alice=$(newdid alice-desk)
bob=$(newdid bob-desk)
echo "alice $alice"
echo "bob   $bob"

step "3. names.exchange is member-assisted: Alice alone cannot register a name"
expect_fail 1 'member-assisted: a member of exchanges must co-sign' \
	agora name register tokyo.exchange --did "$alice" --key alice-desk

step "4. A member of the exchanges community (exchange-tokyo) co-signs"
expect_output '^register: tokyo.exchange$' \
	agora name register tokyo.exchange --did "$alice" --key alice-desk --sponsor-key exchange-tokyo

step "5. Resolve it, trusting nothing but the log key"
expect_output "^tokyo.exchange -> $alice\$" agora name resolve tokyo.exchange --log-key "$logkey"
grep -Eq '^  namespace +names.exchange \(member-assisted, sponsor exchange-tokyo of exchanges\)$' <<<"$last" ||
	die "the record does not name its policy and sponsor"
grep -Eq '^  proven +against the checkpoint of agora.ledger/agora-dev at height [0-9]+, as of .+$' <<<"$last" || die "not proven"
expect_output "\"did\": ?\"$alice\"" curl -fsS "$AGORA_NODE/v1/identity/names/tokyo.exchange"

step "6. Squatting: Bob cannot take the name, even with a member's help"
expect_fail 1 "already registered to $alice" \
	agora name register tokyo.exchange --did "$bob" --key bob-desk --sponsor-key exchange-seoul

step "7. A name outside any delegated namespace is refused"
expect_fail 1 'no namespace serves tokyo.bank' \
	agora name register tokyo.bank --did "$alice" --key alice-desk --sponsor-key exchange-tokyo

step "8. The exchanges community opens its namespace (a governance entry both members sign)"
expect_output '^set-entry: ok' agora gov set-entry names.exchange onboarding open
expect_output '^register: seoul.exchange$' agora name register seoul.exchange --did "$bob" --key bob-desk
expect_output '^  namespace +names.exchange \(open\)$' agora name resolve seoul.exchange

step "9. Alice transfers tokyo.exchange to Bob (both controllers sign); Bob releases seoul.exchange"
expect_output '^transfer: tokyo.exchange$' \
	agora name transfer tokyo.exchange --to "$bob" --key alice-desk --to-key bob-desk
expect_output "^tokyo.exchange -> $bob\$" agora name resolve tokyo.exchange
expect_output '^release: seoul.exchange$' agora name release seoul.exchange --key bob-desk
expect_fail 1 'no one holds the name seoul.exchange .*proven' agora name resolve seoul.exchange --log-key "$logkey"

step "10. ACME attests Alice's employment: the ledger gets only a salted hash"
acme=$(newdid acme-hr)
expect_output '^  salt +[0-9a-f]{64} ' \
	agora attest claim "$alice" --as "$acme" --key acme-hr --type employment --claim "desk lead at Tokyo Exchange since 2019"
salt=$(sed -n 's|^  salt *\([0-9a-f]*\) .*|\1|p' <<<"$last")
curl -fsS "$AGORA_NODE/v1/identity/dids/$alice/attestations" | grep -q 'Tokyo Exchange' &&
	die "the claim's text reached the ledger"

step "11. Alice shows the claim and salt to a verifier, who checks them"
expect_output '^valid: ' agora attest check "$alice" --as "$acme" --type employment \
	--claim "desk lead at Tokyo Exchange since 2019" --salt "$salt"
expect_fail 1 'MISMATCH' agora attest check "$alice" --as "$acme" --type employment \
	--claim "CEO of Tokyo Exchange" --salt "$salt"

step "12. Alice's confidence score: ACME is not accredited yet (50/1000)"
expect_output '^  score +50/1000$' agora attest score "$alice"

step "13. The identity community accredits ACME in the attesters registry: 400/1000, proven"
expect_output '^set-entry: ok' agora gov set-entry attesters "$acme" accredited
expect_output '^  score +400/1000$' agora attest score "$alice" --log-key "$logkey"
grep -Eq '^ +\+400  did:agora:[a-z2-7]+ \(accredited: employment\)$' <<<"$last" || die "the score does not explain ACME's weight"

step "14. A home operator not accredited as a verifier cannot anchor a verification"
telco=$(newdid telco-kyc)
printf 'passport P1234567, Alice Example, born 1990-01-01\n' >"$work/alice-id.txt"
expect_fail 1 'not an accredited verifier' agora attest anchor-id "$work/alice-id.txt" --as "$telco" --key telco-kyc

step "15. Accredited (registry verifiers), it anchors the salted hash of Alice's ID file"
expect_output '^set-entry: ok' agora gov set-entry verifiers "$telco" "Tokyo Telco Identity"
expect_output '^  salt +[0-9a-f]{64} ' agora attest anchor-id "$work/alice-id.txt" --as "$telco" --key telco-kyc
idsalt=$(sed -n 's|^  salt *\([0-9a-f]*\) .*|\1|p' <<<"$last")

step "16. A visited operator, given the file and the salt, learns it is valid and who verified it"
expect_output '^VALID$' agora attest verify-id "$work/alice-id.txt" --salt "$idsalt" --log-key "$logkey"
grep -Eq "^  verified by +Tokyo Telco Identity \\($telco\\)$" <<<"$last" || die "the verifying organisation is missing"
expect_fail 1 'no verification is anchored' agora attest verify-id "$work/alice-id.txt" --salt "00$idsalt"

step "17. A pairwise DID for one relationship: new keys, nothing linking it to Alice's others"
expect_output '^created did:agora:[a-z2-7]+$' agora did create --pairwise bookshop
pw=$(sed -n 's|^created ||p' <<<"$last")
expect_output '^pairwise-bookshop ' agora keys list
echo "(its account has signed exactly one transaction, the inception)"
expect_output '^  next sequence +1$' agora account show pairwise-bookshop
expect_output "^$pw\$" agora did show "$pw"
grep -Eq '^  #key-1' <<<"$last" && die "a pairwise DID has more than one key"

printf '\nnames.sh: all steps behaved as expected.\n'
