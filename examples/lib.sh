# lib.sh: what the walkthroughs in this directory share. Source it after
# `set -euo pipefail`; it builds agora (or uses $AGORA_BIN), makes a
# temporary home removed on exit, and defines the helpers: step, show,
# expect_fail, expect_output, start_node, await_block_time and stop_node.
example=$(basename "$0")

die() {
	printf '\n%s: FAILED: %s\n' "$example" "$*" >&2
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

work=$(mktemp -d "${TMPDIR:-/tmp}/agora-${example%.sh}.XXXXXX")
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
	(cd "$repo" && CGO_ENABLED=0 go build -o "$work/agora" ./cmd/agora) || die "go build failed"
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

# await_block_time TIME: wait until the node's latest block is later than
# TIME (RFC 3339), asking the node a bounded number of times. A delay the
# ledger counts in block time has then passed for the next transaction,
# however busy the machine.
await_block_time() {
	local want got= i
	want=$(date -d "$1" +%s%3N) || die "not a time: '$1'"
	printf '(waiting for a block after %s)\n' "$1"
	for ((i = 0; i < 600; i++)); do
		got=$(curl -fsS "$AGORA_NODE/v1/node/info" | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')
		if [[ -n $got ]] && (($(date -d "$got" +%s%3N) > want)); then
			return
		fi
		sleep 0.1
	done
	die "no block after $1 in 600 tries (the latest at '$got')"
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
