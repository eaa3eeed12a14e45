#!/usr/bin/env bash
# A walkthrough of Agora's verifiable credentials against a dev node.
#
# It builds agora (or uses $AGORA_BIN), starts 'agora dev' in a temporary
# home; governance (the identity deployers, who govern the registry of
# issuers) accredits an exchange as a KYC issuer; the exchange registers
# the KYC type with its JSON Schema, creates a status list and issues
# alice a KYC credential (SD-JWT VC) bound to her DID's key; alice keeps it
# in her wallet and shows a second exchange only that she is over 18 and
# her country; that exchange verifies it offline against the log key.
# Then the credential is suspended (refused), reinstated (accepted),
# revoked (the same presentation refused for good), and its status at an
# earlier time is asked, proven. Last, the W3C form of the credential
# (presented also as a W3C VerifiablePresentation), the
# status list as a Token Status List token the exchange signs and posts,
# and as a Bitstring Status List credential.
#
# Run it from anywhere:
#
#	examples/credentials.sh
#	AGORA_BIN=/path/to/agora examples/credentials.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesCredentials runs it in CI.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "1. Start a dev node (demo identities, passphrase 'dev')"
start_node
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
[[ $logkey == agora.ledger/agora-dev+* ]] || die "the dev banner printed no log key"
cd "$work"

step "2. The exchange and alice each create a DID"
expect_output '^created did:agora:' agora did create --key exchange-tokyo
issuer=$(sed -n 's/^created //p' <<<"$last")
expect_output '^created did:agora:' agora did create --key alice
alice=$(sed -n 's/^created //p' <<<"$last")
alicekey=$(agora keys export-public alice)

step "3. Not yet accredited, the exchange cannot register a credential type"
printf '{"issuer": "%s", "vct": "urn:agora:vct:kyc:v1", "metadata": "{\\"name\\":\\"KYC\\"}", "schema": "{\\"type\\":\\"object\\",\\"properties\\":{\\"age_over_18\\":{\\"type\\":\\"boolean\\"},\\"country\\":{\\"type\\":\\"string\\"},\\"given_name\\":{\\"type\\":\\"string\\"},\\"family_name\\":{\\"type\\":\\"string\\"}},\\"additionalProperties\\":false}"}\n' "$issuer" >type.json
expect_fail 1 'is not an accredited issuer' agora credential send register-type type.json --key exchange-tokyo

step "4. Governance accredits it as a KYC issuer (registry 'issuers')"
printf '{"resource": "issuers", "key": "%s", "value": "urn:agora:vct:kyc"}\n' "$issuer" >accredit.json
show agora gov send set-entry accredit.json --key telco-id
expect_output '"scope"' curl -fsS "$AGORA_NODE/v1/credential/issuers/$issuer"

step "5. It registers the KYC type and creates a status list of 2 bits an entry"
show agora credential send register-type type.json --key exchange-tokyo
# Its uri is where this node serves it: credentials reference its token there.
printf '{"issuer": "%s", "id": "kyc-1", "bits": 2, "capacity": 131072, "uri": "%s/v1/credential/lists/kyc-1"}\n' "$issuer" "$AGORA_NODE" >list.json
show agora credential send create-list list.json --key exchange-tokyo

step "6. It issues alice a KYC credential, bound to her key"
printf '{"given_name": "Alice", "family_name": "Sato", "age_over_18": true, "country": "JP"}\n' >claims.json
show agora vc issue --as "$issuer" --key exchange-tokyo --type urn:agora:vct:kyc:v1 --list kyc-1 \
	--subject "$alice" --holder-key "$alicekey" --claims claims.json --out alice.sdjwt

step "7. alice keeps it in her wallet"
expect_output '^stored kyc' agora vc store alice.sdjwt --name kyc
expect_output 'age_over_18, country, family_name, given_name' agora vc show kyc

step "8. She shows a second exchange only that she is over 18, and her country"
show agora vc present kyc --key alice --disclose age_over_18,country --audience exchange-seoul --nonce n-1 --out pres.txt
expect_output '^VERIFIED: disclosed \{"age_over_18":true,"country":"JP"\}$' \
	agora vc verify pres.txt --audience exchange-seoul --nonce n-1 --log-key "$logkey"
! grep -q Alice <<<"$last" || die "the verifier learned alice's name"

step "9. The exchange suspends it: the same presentation is refused"
status() { printf '{"issuer": "%s", "list": "kyc-1", "index": 0, "status": %s}\n' "$issuer" "$1" >status.json; }
status 2
show agora credential send set-status status.json --key exchange-tokyo
expect_fail 1 '^REFUSED: status: suspended since ' agora vc verify pres.txt --audience exchange-seoul --nonce n-1 --log-key "$logkey"
suspended=$(agora vc status kyc-1 0 --json | sed -n 's/.*"since": "\([^"]*\)".*/\1/p')

step "10. It reinstates it: accepted again"
status 0
show agora credential send set-status status.json --key exchange-tokyo
expect_output '^VERIFIED' agora vc verify pres.txt --audience exchange-seoul --nonce n-1 --log-key "$logkey"

step "11. It revokes it: refused, for good"
status 1
show agora credential send set-status status.json --key exchange-tokyo
expect_fail 1 '^REFUSED: status: revoked since ' agora vc verify pres.txt --audience exchange-seoul --nonce n-1 --log-key "$logkey"
status 0
expect_fail 1 'revoked for good' agora credential send set-status status.json --key exchange-tokyo

step "12. Was it valid when it was suspended? The history answers, proven"
expect_output ': revoked$' agora vc status kyc-1 0 --log-key "$logkey"
expect_output ": suspended\$" agora vc status kyc-1 0 --at "$suspended" --log-key "$logkey"
grep -q '^  proven against the checkpoint' <<<"$last" || die "the status at $suspended was not proven"

step "13. The same credential in the W3C form (VC Data Model 2.0 secured with SD-JWT)"
show agora vc issue --format vc+sd-jwt --as "$issuer" --key exchange-tokyo --type urn:agora:vct:kyc:v1 --list kyc-1 \
	--subject "$alice" --holder-key "$alicekey" --claims claims.json --out alice-w3c.sdjwt
expect_output '^stored kyc-w3c' agora vc store alice-w3c.sdjwt --name kyc-w3c
show agora vc present kyc-w3c --key alice --disclose age_over_18 --audience exchange-seoul --nonce n-2 --out pres-w3c.txt
expect_output '^VERIFIED: disclosed \{"age_over_18":true\}$' \
	agora vc verify pres-w3c.txt --audience exchange-seoul --nonce n-2 --log-key "$logkey"
# and as a W3C VerifiablePresentation (vp+sd-jwt): the credential enveloped
# in a presentation alice's key signs over the audience and the nonce.
show agora vc present kyc-w3c --key alice --disclose age_over_18 --audience exchange-seoul --nonce n-3 \
	--format vp+sd-jwt --out vp-w3c.txt
expect_output '^VERIFIED: disclosed \{"age_over_18":true\}$' \
	agora vc verify vp-w3c.txt --audience exchange-seoul --nonce n-3 --log-key "$logkey"

step "14. The exchange signs its status list as a Token Status List token and posts it"
show agora vc publish kyc-1 --as "$issuer" --key exchange-tokyo --valid-for 24h --ttl 1h
expect_output '^  its bits are the list.s now' agora vc statuslist kyc-1 --log-key "$logkey"
# The credential's status uri serves the token itself, as a relying party fetches it.
expect_output '^eyJ' curl -fsS -H 'Accept: application/statuslist+jwt' "$AGORA_NODE/v1/credential/lists/kyc-1/token"

step "15. The whole status list, as a W3C Bitstring Status List credential, proven"
expect_output '"BitstringStatusListCredential"' agora vc statuslist kyc-1 --form bitstring --log-key "$logkey"

step "Done"
