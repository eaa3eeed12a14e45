#!/usr/bin/env bash
# A walkthrough of Agora's did:agora identities against a dev node, for a
# new user.
#
# It builds agora (or uses $AGORA_BIN), starts 'agora dev' in a temporary
# home, creates a DID and resolves it with curl as any DID resolver would,
# proves it against the log key, adds a signing key, rotates to the
# pre-committed key (and shows a rotation with the wrong key refused),
# revokes a key with a compromise time, resolves an old version, names
# guardians (a change that waits out the governed delay), loses the keys
# and gets the DID back through its guardians (a recovery cancelled by the
# holder, then one that completes after the delay), watches the proven
# history, and deactivates the DID.
#
# Run it from anywhere:
#
#	examples/identity.sh
#	AGORA_BIN=/path/to/agora examples/identity.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesIdentity runs it in CI. It
# takes about 20 seconds, most of it waiting (for blocks) until the delays
# have passed in block time.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# effective_time prints the time at which the pending change or recovery
# that the last 'agora did show' printed takes effect.
effective_time() { sed -n 's/.* pending.*, effective \([0-9T:.-]*Z\).*/\1/p' <<<"$last" | head -n 1; }

# pubkey NAME prints the public key of your key NAME, as alg:base64url.
pubkey() { agora keys export-public "$1"; }

step "1. Start a dev node (demo identities, passphrase 'dev')"
start_node
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"

step "2. Create a DID controlled by a new key of yours, committing to the next one"
show agora keys new carol
expect_output '^created did:agora:[a-z2-7]+$' agora did create --key carol
did=$(sed -n 's|^created ||p' <<<"$last")
grep -Eq '^  next key +carol.next \(new\)$' <<<"$last" || die "create did not commit to carol.next"

step "3. Resolve it with curl, as any DID resolver would"
expect_output "\"id\": ?\"$did\"" \
	curl -fsS -H 'Accept: application/did+json' "$AGORA_NODE/1.0/identifiers/$did"
grep -Eq '"publicKeyMultibase": ?"z6Mk' <<<"$last" || die "the DID document has no Ed25519 Multikey"
echo "-- the full resolution result (document, document metadata, resolution metadata):"
expect_output '"didResolutionMetadata"' \
	curl -fsS -H 'Accept: application/ld+json;profile="https://w3id.org/did-resolution"' "$AGORA_NODE/1.0/identifiers/$did"
grep -q '"didDocumentMetadata"' <<<"$last" || die "the resolution result has no document metadata"

step "4. Trust nothing but the log key: the DID resolved again from a proven state"
expect_output '^  proven +against the checkpoint of agora.ledger/agora-dev at height [0-9]+, as of .+$' \
	agora did show "$did" --log-key "$logkey"

step "5. Add a key for signing credentials (assertionMethod)"
show agora keys new carol-sign
expect_output '^  version +2$' agora did add-key "$did" --key carol --new-key carol-sign --relationship assertionMethod
expect_output '^  #key-1 +active +z6Mk[1-9A-Za-z]+ assertionMethod$' agora did show "$did"

step "6. Rotate: the key committed at creation becomes the controller"
expect_output '^  version +3$' agora did rotate "$did" --key carol.next --next-key carol.next2
expect_output '^  #key-0 +rotated ' agora did show "$did"
grep -Eq '^  #key-2 +active +z6Mk[1-9A-Za-z]+ authentication,capabilityInvocation$' <<<"$last" ||
	die "the rotated-to key is not the controller"

step "7. A rotation signed by a key that was not committed to is refused"
show agora keys new mallory
expect_fail 1 'does not match the pre-rotation commitment' agora did rotate "$did" --key mallory --next-key mallory.next

step "8. Revoke the signing key: it was compromised on 2 January"
expect_output '^  version +4$' agora did revoke "$did" --key carol.next --key-id key-1 --compromised-at 2026-01-02T15:04:05Z
expect_output '^  #key-1 +revoked +z6Mk[1-9A-Za-z]+ compromised 2026-01-02T15:04:05Z$' agora did show "$did"

step "9. History: version 2, before the rotation and the revocation"
expect_output '^  #key-1 +active ' agora did show "$did" --version-id 2
grep -Eq '^  #key-0 +active ' <<<"$last" || die "version 2 does not have key-0 active"
expect_output '"versionId": ?"2"' curl -fsS "$AGORA_NODE/1.0/identifiers/$did?versionId=2"

step "10. Name three guardians: any 2 of them can recover the DID, after an hour"
echo "(signed by the controller alone, a change of guardians waits out the governed change delay:"
echo " 1 s on a dev node, days on a real network; her next key could cancel it meanwhile)"
for g in bob dave erin; do show agora keys new "guardian-$g"; done
expect_output '^  pending  until ' agora did guardians "$did" --key carol.next \
	--guardian guardian-bob --guardian guardian-dave --guardian guardian-erin --threshold 2 --delay 1h
expect_output '^  set-guardians pending, effective ' agora did show "$did"
await_block_time "$(effective_time)"
expect_output '^  version +6$' agora did complete-change "$did" --key guardian-bob

step "11. Carol thinks she lost her keys: two guardians start a recovery"
expect_output '^  version +7$' agora did recover "$did" --guardian-key guardian-bob --guardian-key guardian-dave \
	--new-key carol2 --next-key carol2.next
expect_output "^  recovery pending to $(pubkey carol2), effective " agora did show "$did"

step "12. Completing it before the delay (an hour) is refused"
expect_fail 1 'takes effect at .*, not before' agora did complete-recovery "$did" --key guardian-bob

step "13. She finds her keys after all, and cancels the recovery"
echo "(her controller came in by the rotation of step 6, less than the delay before the recovery:"
echo " a thief who rotated in with a stolen next key would look the same, so it may not cancel;"
echo " the key that rotation replaced may)"
expect_fail 1 'less than the recovery delay' agora did cancel-recovery "$did" --key carol.next
expect_output '^  version +8$' agora did cancel-recovery "$did" --key carol
agora did show "$did" | grep -q 'recovery pending' && die "the recovery is still pending after cancel-recovery"
echo "(no recovery pending)"

step "14. For this walkthrough, a 2 s delay: her next key co-signs, so the change is made at once"
expect_output '^  version +9$' agora did guardians "$did" --key carol.next --with-next carol.next2 \
	--guardian guardian-bob --guardian guardian-dave --guardian guardian-erin --threshold 2 --delay 2s

step "15. Now she really loses her keys, and the guardians recover the DID again"
mkdir "$work/lost"
show mv "$AGORA_HOME"/keys/carol.json "$AGORA_HOME"/keys/carol.next.json "$AGORA_HOME"/keys/carol.next2.json "$work/lost/"
expect_fail 1 'no such key "carol.next"' agora did cancel-recovery "$did" --key carol.next
expect_output '^  version +10$' agora did recover "$did" --guardian-key guardian-erin --guardian-key guardian-bob \
	--new-key carol3 --next-key carol3.next

step "16. After the delay anyone can complete it; carol3 is the new controller"
expect_output '^  recovery pending to .*, effective ' agora did show "$did"
await_block_time "$(effective_time)"
expect_output '^  version +11$' agora did complete-recovery "$did" --key guardian-dave
expect_output '^  #key-3 +active +z6Mk[1-9A-Za-z]+ authentication,capabilityInvocation$' agora did show "$did"
grep -Eq '^  #key-2 +revoked ' <<<"$last" || die "the old controller key-2 is not revoked"
pub=$(pubkey carol3)
x=${pub#ed25519:}
expect_output "\"x\": ?\"$x\"" curl -fsS -H 'Accept: application/did+json' "$AGORA_NODE/1.0/identifiers/$did"

step "17. The whole history, proven complete against the log key"
expect_output '^     proven complete \(11 events\) against the checkpoint of agora.ledger/agora-dev at height [0-9]+, as of .+$' \
	agora did watch "$did" --once --log-key "$logkey"
for ev in create add-key rotate revoke set-guardians complete-change recover cancel-recovery complete-recovery; do
	grep -Eq "^ +[0-9]+ +$ev " <<<"$last" || die "the history has no $ev event"
done

step "18. Deactivate the DID (after the change delay): resolvers now get 410 Gone"
expect_output '^  pending  until ' agora did deactivate "$did" --key carol3
expect_output '^  deactivate pending, effective ' agora did show "$did"
await_block_time "$(effective_time)"
expect_output '^  version +13$' agora did complete-change "$did" --key guardian-dave
echo_cmd curl -sS -o /dev/null -w '%{http_code}\n' "$AGORA_NODE/1.0/identifiers/$did"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$AGORA_NODE/1.0/identifiers/$did")
echo "$code"
[[ $code == 410 ]] || die "a deactivated DID resolved with HTTP $code, want 410"
expect_fail 1 'DEACTIVATED' agora did show "$did"

printf '\nidentity.sh: all steps behaved as expected.\n'
