#!/usr/bin/env bash
# A walkthrough of Agora's multi-stakeholder governance against a dev node,
# for a new user: the process of the governance study (seeds/004, sections
# 1.4, 2.1 and 2.2.2.2), executed by the ledger.
#
# The dev genesis starts with a Community: three resource-direct
# communities (exchanges, custodians, identity deployers) with voting
# seats, two resource-indirect ones (users, governments) with non-voting
# seats, the ROLE, the Secretariat, the Ombudsman and an external auditor,
# every key in the dev keystore. The walkthrough takes a proposal and
# advice to a Board vote (a non-voting seat is refused), public review,
# objections that return the change to the Board, a second round,
# ratification, and the ledger parameter really changing; then an
# independent review that stays execution until its panel upholds it; an
# emergency action that lapses unless confirmed, and its external
# verification; the communities removing a director; a working group; a
# community changing its own members and acting by its own rule, its
# members approving from their own homes.
#
# Run it from anywhere:
#
#	examples/governance.sh
#	AGORA_BIN=/path/to/agora examples/governance.sh
#
# It exits non-zero, saying what went wrong, if any outcome differs from
# the one described; cmd/agora's TestExamplesGovernance runs it in CI. It
# takes about a minute and a half, most of it waiting for the dev Bylaws' periods
# (seconds long) to pass.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# change_status N prints change N's status.
change_status() {
	curl -fsS "$AGORA_NODE/v1/gov/changes/$1" | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p'
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

# together CMD -- CMD ...: runs the commands at once, then prints each with
# its output, and fails if one failed: for steps that must all land within
# one of the dev Bylaws' periods (seconds long), which commands one after
# the other may outlast on a busy machine.
together() {
	local -a cmds=() pids=()
	local cmd= a i rc
	for a in "$@" --; do
		if [[ $a == -- ]]; then cmds+=("$cmd"); cmd=; else cmd+=" $(printf '%q' "$a")"; fi
	done
	for i in "${!cmds[@]}"; do
		eval "${cmds[$i]}" >"$work/together.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!cmds[@]}"; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		eval "echo_cmd ${cmds[$i]}"
		cat "$work/together.$i"
		((rc == 0)) || die "'${cmds[$i]# }' failed (exit $rc)"
	done
}

max_block_txs() { curl -fsS "$AGORA_NODE/v1/ledger/params" | sed -n 's/.*"max_block_txs":\([0-9]*\).*/\1/p'; }
entry_value() { curl -fsS "$AGORA_NODE/v1/gov/resources/$1/entries/$2" | sed -n 's/.*"value":"\([^"]*\)".*/\1/p'; }

step "1. Start a dev node: its genesis holds the founding Community"
start_node
logkey=$(sed -n 's|^  log key          ||p' "$work/node.out")
show agora gov show board
show agora gov show bodies
expect_output '^10000$' max_block_txs

step "2. The exchanges (a resource-direct community, 2 of 2 members) propose; users may not"
expect_output 'gov/proposal document=[0-9a-f]{64} by=exchanges' \
	agora gov propose --as exchanges --resource root --title "Smaller blocks" --text "Cap blocks at 5000 transactions so that small nodes keep up."
proposal=$(sed -n 's/.*document=\([0-9a-f]*\).*/\1/p' <<<"$last")
expect_fail 1 'only a resource-direct body' \
	agora gov propose --as users --resource root --title "Users propose" --text "Users may advise, not propose."

step "3. The users (a resource-indirect community) advise"
expect_output 'gov/advice document=[0-9a-f]{64} by=users' \
	agora gov advise --as users --about "$proposal" --title "Users support smaller blocks" --text "Yes, with a transition period."
advice=$(sed -n 's/.*document=\([0-9a-f]*\).*/\1/p' <<<"$last")

step "4. A director consolidates them into a proposed change with an executable action"
expect_output 'change 1: voting until' \
	agora gov draft --key dir-exchanges --title "Block limit 5000" --text "Set max_block_txs to 5000." \
	--proposal "$proposal" --advice "$advice" \
	--action 'ledger.set_params={"max_block_txs":5000,"max_block_bytes":16777216}'

step "5. The Board votes: the users' director may speak but not vote"
expect_fail 1 'non-voting seat' agora gov vote 1 yes --key dir-users
show agora gov comment 1 --as board --key dir-users --title "Users' director" --text "Mind the small wallets."
show agora gov vote 1 yes --key dir-exchanges
expect_fail 1 'already voted' agora gov vote 1 no --key dir-exchanges
show agora gov vote 1 yes --key dir-custodians
expect_output 'change 1: approved' agora gov vote 1 no --key dir-identity

step "6. The Secretariat opens public review; two communities object"
expect_fail 1 'secretariat acts when' agora gov open-review 1 --key dir-exchanges
expect_output 'change 1: public-review until' agora gov open-review 1
# The comment and both objections go in at once, within the 12 s review.
together agora gov comment 1 --as users --title "Alice" --text "What about fees?" \
	-- agora gov object 1 --as governments --title "Governments object" --text "Too fast for supervisors." \
	-- agora gov object 1 --as custodians --title "Custodians object" --text "We need a transition."
await "change 1" reconsideration change_status 1
show agora gov timeline 1

step "7. Reconsideration: a director revises it, the Board votes again, review passes"
show agora gov revise 1 --key dir-custodians --title "Block limit 6000, with a transition" --text "Set max_block_txs to 6000." \
	--action 'ledger.set_params={"max_block_txs":6000,"max_block_bytes":16777216}'
for d in dir-exchanges dir-custodians dir-identity; do show agora gov vote 1 yes --key "$d"; done
show agora gov open-review 1
show agora gov object 1 --as governments --title "Governments still object" --text "One objection does not return it."
await "change 1" ratified change_status 1
await "change 1" executed change_status 1

step "8. The ratified change took effect on the running ledger, provably"
expect_output '^6000$' max_block_txs
expect_output '^proven against the checkpoint of agora.ledger/agora-dev' agora gov show change 1 --log-key "$logkey"
expect_fail 1 'review is of a Board decision not yet executed' \
	agora gov request-review 1 --as auditors --title "Too late" --text "It has executed."

step "9. Independent review: an External Entity's request stays execution until the panel declares"
show agora gov draft --key dir-identity --title "Delegate .jp" --text "Delegate names.jp to the identity deployers." \
	--action 'gov.delegate={"id":"names.jp","parent":"root","name":"The .jp namespace","controller":"identity"}'
for d in dir-exchanges dir-custodians dir-identity; do show agora gov vote 2 yes --key "$d"; done
show agora gov open-review 2
expect_output '"type": "review"' \
	agora gov request-review 2 --as auditors --title "Auditors ask for review" --text ".jp needs a policy first." --json
await "change 2" stayed change_status 2
show agora keys new panelist-a
show agora keys new panelist-b
show agora gov assign-panel 1 --panelist panelist-a --panelist panelist-b --threshold 2
expect_fail 1 'declares with 2 of its 2 panelists' \
	agora gov declare 1 uphold --key panelist-a --title "Upheld by one" --text "Not enough."
expect_output 'change 2: executed' \
	agora gov declare 1 uphold --key panelist-a --key panelist-b --title "Panel upholds" --text "The delegation stands."
expect_output '^  controller +identity$' agora gov show resource names.jp

step "10. Emergency action: the ROLE consults the users, who advise themselves; the ROLE suspends a compromised issuer at once"
expect_output '^accredited$' entry_value issuers issuer-acme
expect_output 'gov/advice document=[0-9a-f]{64} by=users' \
	agora gov advise --as users --about emergency --title "Users' advice on issuer-acme" --text "Users' advisory committee: suspend now."
urgent=$(sed -n 's/.*document=\([0-9a-f]*\).*/\1/p' <<<"$last")
expect_fail 1 'only the emergency officer' \
	agora gov emergency --key secretariat --title "Suspend issuer-acme" --action 'gov.set_entry={"resource":"issuers","key":"issuer-acme","value":"suspended"}' \
	--minutes "Call at 09:00." --consulted users --advice "$urgent"
expect_fail 1 'not advice given by governments' \
	agora gov emergency --title "Suspend issuer-acme" --action 'gov.set_entry={"resource":"issuers","key":"issuer-acme","value":"suspended"}' \
	--minutes "Call at 09:00." --consulted governments --advice "$urgent"
show agora gov emergency --title "Suspend issuer-acme" \
	--action 'gov.set_entry={"resource":"issuers","key":"issuer-acme","value":"suspended: key compromise"}' \
	--minutes "Call at 09:00: the issuer's key leaked." --consulted users --advice "$urgent"
expect_output '^suspended: key compromise$' entry_value issuers issuer-acme
# The entry says who set it and on what authority: an emergency, not yet ratified.
expect_output '^  provenance +set by emergency 1, pending' agora gov show entry issuers issuer-acme
echo "(unconfirmed, it lapses when the Bylaws' emergency period, 30 s, ends; meanwhile:)"

step "11. The communities remove a director; the exchanges appoint another"
show agora gov petition remove 1 --as custodians --title "Remove seat 1's director" --text "Lost the custodians' confidence."
show agora gov support 1 --as users --title "Users agree" --text "Agreed."
expect_output '^seat 1  exchanges +voting +\(vacant\)$' agora gov show board
# The petition named the director, the person; the Board's history records it.
expect_output 'removed by petition 1 of custodians, users' agora gov show history
show agora keys new dir-exchanges-2
show agora gov appoint 1 --as exchanges --director dir-exchanges-2
expect_output '^seat 1  exchanges +voting +dir-exchanges-2$' agora gov show board

step "12. A working group: agenda, progress, and an outcome sent to advisory review"
show agora gov group create security --theme "Security" --director telco-id --member exchange-tokyo
show agora gov group agenda security --title "Key custody baseline" --status new --schedule "Q1" --key telco-id
show agora gov group agenda security 1 --status continued --progress "draft circulated" --review "on track" --key telco-id
expect_output 'send-outcome: ok' \
	agora gov group outcome security --to users --title "Custody baseline v1" --text "Keys in threshold custody; rotation yearly." --key telco-id
outcome=$(curl -fsS "$AGORA_NODE/v1/gov/groups/security" | sed -n 's/.*"outcomes":\[{"document":"\([0-9a-f]*\)".*/\1/p')
show agora gov advise --as users --about "$outcome" --title "Users review the baseline" --text "Fine by the users."
expect_output '^  outcome +[0-9a-f]{64} to users; advice [0-9a-f]{64}$' agora gov show group security

step "13. The emergency lapses unconfirmed: the issuer is accredited again; an auditor verifies it"
await "issuer-acme" accredited entry_value issuers issuer-acme
expect_output '^  status +lapsed$' agora gov show emergency 1
expect_output '^  provenance +set at genesis by identity$' agora gov show entry issuers issuer-acme
show agora gov verify-emergency 1 --as auditors --title "External verification of emergency 1" --text "Minutes and consultation in order."
expect_output '^  verified +auditors, report' agora gov show emergency 1
show agora gov show emergencies

step "14. A community acts by its own rule, its members on their own machines"
# Two exchanges join with keys of their own, each in its own home (its own
# machine): only their signatures travel.
osaka=$work/osaka singapore=$work/singapore
show agora keys new exchange-osaka --home "$osaka"
show agora keys new exchange-singapore --home "$singapore"
osaka_key=$(agora keys export-public exchange-osaka --home "$osaka")
singapore_key=$(agora keys export-public exchange-singapore --home "$singapore")
# The exchanges change their own membership by their own rule (2 of 2
# today, both keys in this home): no Board vote, no supermajority.
expect_output 'gov/members body=exchanges rule=2 of 3' \
	agora gov set-members --as exchanges --member exchange-tokyo \
	--member "exchange-osaka=$osaka_key" --member "exchange-singapore=$singapore_key" --threshold 2
# Osaka alone is 1 of the 2 the rule needs: its proposal waits as a
# pending action, which Singapore approves from its own home.
expect_output 'approvals so far: 1' \
	agora gov propose --as exchanges --home "$osaka" --resource names.exchange --title "Open onboarding" --text "Let any exchange register its name."
pending=$(sed -n 's/^pending \([0-9]*\): exchanges acts.*/\1/p' <<<"$last")
expect_output "^pending $pending +as exchanges +pending" agora gov pending --as exchanges
expect_fail 1 'already approved' agora gov approve "$pending" --home "$osaka"
expect_fail 1 'not a member of' agora gov approve "$pending" --key alice
expect_output 'gov/proposal document=[0-9a-f]{64} by=exchanges' agora gov approve "$pending" --home "$singapore"
expect_output 'executed' agora gov pending "$pending"

step "Done: every step of the process ran on the ledger; 'agora gov timeline N' shows each change's story"
show agora gov show changes
