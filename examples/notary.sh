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

die() {
	printf '\nnotary.sh: FAILED: %s\n' "$*" >&2
	if [[ -s ${work:-}/node.log ]]; then
		printf '\nlast lines of the node log:\n' >&2
		tail -n 20 "$work/node.log" >&2
	fi
	exit 1
}

step() { printf '\n== %s\n' "$*"; }

# agora runs the binary under test.
agora() { "$AGORA_BIN" "$@"; }

# echo_cmd prints a command as you would type it.
echo_cmd() {
	local a words=()
	for a; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+-]+$ ]]; then
			words+=("$a")
		else
			words+=("'${a//\'/\'\\\'\'}'")
		fi
	done
	printf '$ %s\n' "${words[*]}"
}

# show prints a command, then runs it.
show() {
	echo_cmd "$@"
	"$@"
}

# expect_fail CODE PATTERN command...: the command must exit with CODE and
# print something matching PATTERN (stdout and stderr together).
expect_fail() {
	local want=$1 pattern=$2 out got=0
	shift 2
	echo_cmd "$@"
	out=$("$@" 2>&1) || got=$?
	printf '%s\n' "$out"
	[[ $got == "$want" ]] || die "'$*' exited with status $got, want $want"
	grep -Eq -- "$pattern" <<<"$out" || die "'$*' did not say /$pattern/"
	printf '(failed as expected, exit %s)\n' "$got"
}

# expect_output PATTERN command...: the command must succeed and print
# something matching PATTERN on stdout, which it leaves in $last.
last=
expect_output() {
	local pattern=$1
	shift
	echo_cmd "$@"
	last=$("$@") || die "'$*' failed (exit $?)"
	printf '%s\n' "$last"
	grep -Eq -- "$pattern" <<<"$last" || die "'$*' did not print /$pattern/"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/agora-notary.XXXXXX")
node_pid=
cleanup() {
	if [[ -n $node_pid ]]; then
		kill -KILL "$node_pid" 2>/dev/null || true
		wait "$node_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -z ${AGORA_BIN:-} ]]; then
	step "Building agora"
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	(cd "$repo" && go build -o "$work/agora" ./cmd/agora) || die "go build failed"
	AGORA_BIN=$work/agora
fi
[[ -x $AGORA_BIN ]] || die "AGORA_BIN=$AGORA_BIN is not an executable"

export AGORA_HOME=$work/home AGORA_PASSPHRASE=dev

# start_node starts 'agora dev' on a port the kernel picks, reads the
# address from its banner and waits until /healthz answers.
start_node() {
	: >"$work/node.out"
	"$AGORA_BIN" dev --http 127.0.0.1:0 >"$work/node.out" 2>>"$work/node.log" &
	node_pid=$!
	local addr= i
	for ((i = 0; i < 100; i++)); do
		addr=$(sed -n 's|^  API and console  http://||p' "$work/node.out")
		[[ -n $addr ]] && break
		kill -0 "$node_pid" 2>/dev/null || die "agora dev exited before listening"
		sleep 0.1
	done
	[[ -n $addr ]] || die "agora dev did not print its address within 10s"
	export AGORA_NODE=http://$addr
	for ((i = 0; i < 100; i++)); do
		if curl -fsS "$AGORA_NODE/healthz" >/dev/null 2>&1; then
			echo "node $node_pid is up at $AGORA_NODE (home $AGORA_HOME)"
			return
		fi
		sleep 0.1
	done
	die "no healthy node at $AGORA_NODE/healthz within 10s"
}

# stop_node stops the node: gently with TERM (it must exit 0), or with
# KILL, a crash.
stop_node() {
	local sig=$1 status=0
	echo_cmd kill "-$sig" "$node_pid"
	kill "-$sig" "$node_pid" || die "node $node_pid was not running"
	wait "$node_pid" 2>/dev/null || status=$?
	node_pid=
	if [[ $sig == TERM && $status != 0 ]]; then
		die "the node exited with status $status after SIGTERM, want 0"
	fi
}

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
expect_output '^  proven  against the checkpoint of agora.ledger/agora-dev at height [0-9]+$' \
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
