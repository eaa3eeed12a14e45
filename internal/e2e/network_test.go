package e2e

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// testnet is a network written by 'agora testnet init', its nodes run as
// separate 'agora node start' processes on loopback ports.
type testnet struct {
	dir    string
	nodes  []*netNode
	client cli // the user's home: the demo Community's keys
}

// netNode is one node of a testnet.
type netNode struct {
	cli             // the user's commands against this node
	nodeHome string // the node's own home
	cmd      *exec.Cmd
	logPath  string
	exited   chan struct{}
	waitErr  error
	c        *client.Client
}

// newTestnet writes a network of validators and full nodes in a fresh
// directory, on a range of ports that were free a moment ago.
func newTestnet(t *testing.T, validators, fullNodes int) *testnet {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "net")
	base := freePortRange(t, 10*(validators+fullNodes))
	nw := &testnet{dir: dir, client: cli{home: filepath.Join(t.TempDir(), "client")}}
	out := nw.client.ok(t, "testnet", "init", "--dir", dir, "--validators", fmt.Sprint(validators),
		"--full-nodes", fmt.Sprint(fullNodes), "--chain-id", "e2e-net", "--base-port", fmt.Sprint(base), "--home", nw.client.home)
	for i := range validators + fullNodes {
		url := fmt.Sprintf("http://127.0.0.1:%d", base+10*i)
		if !strings.Contains(out, url) {
			t.Fatalf("testnet init does not print %s:\n%s", url, out)
		}
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		nw.nodes = append(nw.nodes, &netNode{cli: cli{home: nw.client.home, node: url}, nodeHome: home, c: client.New(url)})
	}
	return nw
}

// Port ranges for test networks lie between firstPort and the start of
// the kernel's ephemeral range (where the nodes' own outgoing
// connections take their source ports, which could otherwise take a port
// a node is about to listen on).
const firstPort = 20000

var (
	portsMu  sync.Mutex
	portsOut = map[int]int{} // base -> length of the ranges handed out in this process
)

// freePortRange returns a base port such that base to base+n-1 were all
// free a moment ago, below the ephemeral ports, and overlap no range
// handed to another test of this process.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	top := ephemeralStart() - n
	portsMu.Lock()
	defer portsMu.Unlock()
	for try := 0; try < 50; try++ {
		base := firstPort + 10*int(time.Now().UnixNano()%int64((top-firstPort)/10))
		if overlaps(base, n) || !allFree(base, n) {
			continue
		}
		portsOut[base] = n
		t.Cleanup(func() {
			portsMu.Lock()
			delete(portsOut, base)
			portsMu.Unlock()
		})
		return base
	}
	t.Fatal("no free range of ports")
	return 0
}

// overlaps reports whether base to base+n-1 meets a range handed out.
// portsMu held.
func overlaps(base, n int) bool {
	for b, l := range portsOut {
		if base < b+l && b < base+n {
			return true
		}
	}
	return false
}

// allFree reports whether every port from base to base+n-1 takes a
// listener now.
func allFree(base, n int) bool {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for p := base; p < base+n; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		lns = append(lns, ln)
	}
	return true
}

// ephemeralStart is the first port of the kernel's ephemeral range
// (Linux's default where it cannot be read).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if v, err := strconv.Atoi(f[0]); err == nil && len(f) == 2 && v > firstPort+1000 {
		return v
	}
	return 32768
}

// start starts node i and waits until its API answers.
func (nw *testnet) start(t *testing.T, i int) *netNode {
	t.Helper()
	n := nw.nodes[i]
	n.logPath = filepath.Join(nw.dir, fmt.Sprintf("node%d.log", i))
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	n.cmd = exec.Command(agoraBin, "node", "start", "--home", n.nodeHome)
	n.cmd.Env = n.env()
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = sysProcAttr()
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := n.exited
	go func() {
		n.waitErr = n.cmd.Wait()
		logf.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			n.cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := n.c.Info(context.Background()); err == nil {
			return n
		}
		select {
		case <-exited:
			t.Fatalf("node%d exited before its API answered: %v\n%s", i, n.waitErr, n.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node%d's API does not answer after 60s\n%s", i, n.output())
		}
	}
}

func (n *netNode) output() string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// stop stops the node with SIGTERM and requires a clean exit.
func (n *netNode) stop(t *testing.T) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s of SIGTERM", n.nodeHome)
	}
	if n.waitErr != nil {
		t.Fatalf("%s after SIGTERM: %v\n%s", n.nodeHome, n.waitErr, n.output())
	}
}

// kill kills the node with SIGKILL.
func (n *netNode) kill(t *testing.T) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

func (n *netNode) height(t *testing.T) uint64 {
	t.Helper()
	info, err := n.c.Info(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", n.node, err)
	}
	return info.Height
}

// waitHeight waits until the node's head reaches h.
func (n *netNode) waitHeight(t *testing.T, h uint64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := uint64(0)
	for {
		info, err := n.c.Info(context.Background())
		if err == nil && info.Height >= h {
			return
		}
		if err == nil {
			last = info.Height
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: height %d after %s, want %d (last error %v)\n%s", n.node, last, timeout, h, err, n.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// blockHash returns the hash of the node's block at height h: it commits
// to the state root and the log, so equal hashes mean equal ledgers.
func (n *netNode) blockHash(t *testing.T, h uint64) string {
	t.Helper()
	b, err := n.c.Block(context.Background(), fmt.Sprint(h))
	if err != nil {
		t.Fatalf("%s: block %d: %v", n.node, h, err)
	}
	return b.Hash
}

// sameLedger requires the nodes to hold the same block at every height
// from 1 to h: no fork.
func sameLedger(t *testing.T, h uint64, nodes ...*netNode) {
	t.Helper()
	for height := uint64(1); height <= h; height++ {
		want := nodes[0].blockHash(t, height)
		for _, n := range nodes[1:] {
			if got := n.blockHash(t, height); got != want {
				t.Fatalf("block %d: %s has %s, %s has %s: the ledgers forked", height, nodes[0].node, want, n.node, got)
			}
		}
	}
}

// anchorTx returns an anchor of doc signed by key with its next sequence
// at n.
func anchorTx(ctx context.Context, n *netNode, key *tx.PrivateKey, doc string) ([]byte, error) {
	sum := sha256.Sum256([]byte(doc))
	return n.c.Build(ctx, key, notary.Name, "anchor", &notary.Anchor{SHA256: sum[:], MediaType: "text/plain"}, time.Hour)
}

// anchor submits an anchor of doc signed by key to n and waits for its
// commit.
func anchor(ctx context.Context, n *netNode, key *tx.PrivateKey, doc string) (*ack, error) {
	raw, err := anchorTx(ctx, n, key, doc)
	if err != nil {
		return nil, err
	}
	res, err := n.c.Submit(ctx, raw, true)
	if err != nil {
		return nil, err
	}
	return &ack{id: res.Hash, height: res.Height, index: res.Index, blockHash: res.BlockHash}, nil
}

// TestNetwork runs four validators as separate processes on loopback and
// takes them through the faults a network of organisations must survive:
// one validator stopped (the others go on), two stopped (the network
// halts without forking, and resumes when one returns), one killed with
// SIGKILL under load (it catches up with identical state), a new node
// joining by block sync, a validator signing two conflicting
// checkpoints (named from the signatures alone), and a governance decision
// that makes the new node a validator, which then signs the network's
// checkpoints. Every store passes fsck at the end.
func TestNetwork(t *testing.T) {
	nw := newTestnet(t, 4, 1)
	for i := range 4 {
		nw.start(t, i)
	}
	v := nw.nodes[:4] // the validators; nw.nodes[4] is a full node
	ctx := context.Background()
	key, err := tx.GenerateKey(tx.Ed25519, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	// Transactions submitted to any node commit everywhere.
	for i := range 4 {
		a, err := anchor(ctx, v[i], key, fmt.Sprint("to node ", i))
		if err != nil {
			t.Fatalf("anchor through node%d: %v", i, err)
		}
		for _, n := range v {
			n.waitHeight(t, a.height, time.Minute)
			if got, err := n.c.Tx(ctx, a.id); err != nil || got.Status != "committed" || got.Height != a.height {
				t.Fatalf("%s: tx %s: %+v, %v; want committed at %d", n.node, a.id, got, err, a.height)
			}
		}
	}
	sameLedger(t, v[0].height(t), v...)

	t.Log("one validator stopped: the network goes on")
	v[3].stop(t)
	h := v[0].height(t)
	if _, err := anchor(ctx, v[1], key, "three of four"); err != nil {
		t.Fatalf("with one validator stopped: %v", err)
	}
	v[0].waitHeight(t, h+3, time.Minute)

	t.Log("two validators stopped: the network halts")
	v[2].stop(t)
	// A block in flight may still commit; then nothing may.
	time.Sleep(2 * time.Second)
	halted := v[0].height(t)
	raw, err := anchorTx(ctx, v[0], key, "two of four")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := v[0].c.Submit(ctx, raw, false)
	if err != nil {
		t.Fatalf("submit with half the validators down: %v", err)
	}
	time.Sleep(4 * time.Second)
	for _, n := range v[:2] {
		if got := n.height(t); got > halted+1 {
			t.Fatalf("%s committed up to %d with half the validators down (halted at %d)", n.node, got, halted)
		}
	}
	if got, err := v[0].c.Tx(ctx, sub.Hash); err != nil || got.Status != "pending" {
		t.Fatalf("with half the validators down, tx %s: %+v, %v; want pending", sub.Hash, got, err)
	}
	sameLedger(t, min(v[0].height(t), v[1].height(t)), v[0], v[1])

	t.Log("one returns: the network resumes")
	nw.start(t, 2)
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, err := v[1].c.Tx(ctx, sub.Hash)
		if err == nil && got.Status == "committed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the waiting transaction did not commit within 90s of the network resuming: %+v, %v\n%s", got, err, v[2].output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	nw.start(t, 3)
	h = v[0].height(t)
	for _, n := range v {
		n.waitHeight(t, h, time.Minute)
	}
	sameLedger(t, h, v...)

	t.Log("a validator killed under load catches up")
	var count atomic.Int64
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var ws []*loadWorker
	for i := range 6 {
		k, err := tx.GenerateKey(tx.Ed25519, crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		w := &loadWorker{key: k, name: fmt.Sprintf("worker %d", i)}
		ws = append(ws, w)
		target := v[i%2]
		wg.Go(func() { w.run(lctx, target.c, "e2e-net", &count) })
	}
	waitCount := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for count.Load() < n {
			if time.Now().After(deadline) {
				cancel()
				wg.Wait()
				var errs []error
				for _, w := range ws {
					errs = append(errs, w.err)
				}
				t.Fatalf("only %d transactions committed under load in 2 minutes, want %d (workers: %v)", count.Load(), n, errs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitCount(12)
	v[2].kill(t)
	before := count.Load()
	waitCount(before + 12)
	nw.start(t, 2)
	waitCount(before + 24)
	cancel()
	wg.Wait()
	for _, w := range ws {
		if w.err != nil {
			t.Fatal(w.err)
		}
	}
	h = v[0].height(t)
	for _, n := range v {
		n.waitHeight(t, h, time.Minute)
	}
	sameLedger(t, h, v...)
	for _, w := range ws {
		for _, a := range w.acked {
			got, err := v[2].c.Tx(ctx, a.id)
			if err != nil || got.Height != a.height || got.BlockHash != a.blockHash {
				t.Fatalf("node2 after its restart: tx %s: %+v, %v; want it at height %d", a.id, got, err, a.height)
			}
		}
	}

	t.Log("a new node joins by block sync")
	full := nw.start(t, 4)
	h = v[0].height(t)
	full.waitHeight(t, h, 2*time.Minute)
	sameLedger(t, h, v[0], full)

	t.Log("the network's checkpoint, and a validator signing another")
	genesis := filepath.Join(v[0].nodeHome, "genesis.json")
	_, cp, err := v[0].c.GetRaw(ctx, "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cpFile := filepath.Join(t.TempDir(), "checkpoint.txt")
	if err := os.WriteFile(cpFile, cp, 0o600); err != nil {
		t.Fatal(err)
	}
	out := nw.client.ok(t, "verify", "checkpoint", "--validators", genesis, cpFile)
	mustContain(t, "verify checkpoint --validators", out, "verified", "signed_by: ")
	if !strings.Contains(out, "org0") || strings.Count(field(t, out, "signed_by:"), "org") < 3 {
		t.Errorf("the network checkpoint is not signed by more than two thirds:\n%s", out)
	}
	forged := forgeCheckpoint(t, cp, v[1].nodeHome)
	forgedFile := filepath.Join(t.TempDir(), "forged.txt")
	if err := os.WriteFile(forgedFile, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	r := nw.client.want(t, 1, "verify", "checkpoint", "--validators", genesis, forgedFile)
	mustContain(t, "verify of a checkpoint one validator signed", r.stderr, "NOT verified", "more than two thirds")
	out = nw.client.ok(t, "verify", "conflict", "--validators", genesis, cpFile, forgedFile)
	if got := field(t, out, "signed_both:"); got != "org1" {
		t.Errorf("verify conflict names %q, want org1:\n%s", got, out)
	}
	nw.client.want(t, 1, "verify", "conflict", "--validators", genesis, cpFile, cpFile)

	t.Log("a proven answer verifies under the validator set; signed by one validator of four, it is refused")
	sum := sha256.Sum256([]byte("three of four"))
	_, answer, err := v[0].c.GetRaw(ctx, fmt.Sprintf("/v1/notary/anchors/%x?proof=1", sum))
	if err != nil {
		t.Fatal(err)
	}
	query := fmt.Sprintf("/v1/notary/anchors/%x", sum)
	answerFile := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(answerFile, answer, 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "verify state --validators", nw.client.ok(t, "verify", "state", "--query", query, "--validators", genesis, answerFile), "verified")
	underFile := filepath.Join(t.TempDir(), "under-signed.json")
	if err := os.WriteFile(underFile, underSign(t, answer), 0o600); err != nil {
		t.Fatal(err)
	}
	r = nw.client.want(t, 1, "verify", "state", "--query", query, "--validators", genesis, underFile)
	mustContain(t, "verify state of an answer one validator signed", r.stderr, "two thirds")

	_, metrics, err := v[0].c.GetRaw(ctx, "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "a network node's /metrics", string(metrics), "\nagora_height ", "\nagora_network_signed_height ", `agora_txs_committed_total{code="ok"}`)

	t.Log("governance makes the full node a validator")
	validator := strings.TrimSpace(nw.client.ok(t, "testnet", "validator", full.nodeHome, "--name", "org4"))
	gov := v[1].cli
	out = gov.ok(t, "gov", "draft", "--key", "dir-exchanges", "--title", "Add org4", "--text", "The fifth organisation joins.",
		"--action", "ledger.set_validator="+validator)
	mustContain(t, "gov draft", out, "change 1: voting")
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		gov.ok(t, "gov", "vote", "1", "yes", "--key", d)
	}
	mustContain(t, "gov open-review", gov.ok(t, "gov", "open-review", "1"), "change 1: public-review")
	deadline = time.Now().Add(2 * time.Minute)
	for {
		var set []struct{ Name string }
		if err := full.c.Get(ctx, "/v1/ledger/validators", &set); err != nil {
			t.Fatal(err)
		}
		if len(set) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the validator set after 2 minutes: %+v\n%s", set, gov.ok(t, "gov", "show", "change", "1"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// CometBFT takes the new validator two blocks later; from then on
	// it signs the network's checkpoints too.
	_, vals, err := full.c.GetRaw(ctx, "/v1/ledger/validators")
	if err != nil {
		t.Fatal(err)
	}
	valFile := filepath.Join(t.TempDir(), "validators.json")
	if err := os.WriteFile(valFile, vals, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		_, cp, err := full.c.GetRaw(ctx, "/log/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cpFile, cp, 0o600); err != nil {
			t.Fatal(err)
		}
		r := nw.client.run(t, "verify", "checkpoint", "--validators", valFile, cpFile)
		if r.code == 0 && strings.Contains(field(t, r.stdout, "signed_by:"), "org4") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no network checkpoint signed by org4 within a minute:\n%s\n%s", r, full.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The ledger executed the change by its scheduler, not a
	// transaction: the event feed shows that scheduled work, proven under
	// the validator set it produced.
	out = gov.ok(t, "events", "watch", "--module", "gov", "--type", "change", "--attr", "status=executed",
		"--after", "0", "--count", "1", "--timeout", "60s", "--validators", valFile)
	mustContain(t, "events watch of the scheduled execution", out, "gov.change id=1 status=executed", "scheduled")

	for _, n := range nw.nodes {
		n.stop(t)
	}
	for _, n := range nw.nodes {
		fsck(t, n.nodeHome)
	}
}

// forgeCheckpoint signs, with the checkpoint key of the validator whose
// home is home, a checkpoint of the same log size and height as cp but
// another root: the signature of a validator lying about the log.
// underSign returns a proven answer ({"value", "proof": {"checkpoint"}})
// whose checkpoint keeps only its first validator's signature: genuine,
// but by a quarter of the voting power.
func underSign(t *testing.T, answer []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(answer, &doc); err != nil {
		t.Fatal(err)
	}
	proof, _ := doc["proof"].(map[string]any)
	cp, _ := proof["checkpoint"].(string)
	text, sigs, ok := strings.Cut(cp, "\n\n")
	if !ok {
		t.Fatalf("the answer's checkpoint is not a signed note: %q", cp)
	}
	lines := strings.SplitAfter(sigs, "\n")
	if len(lines) < 3 {
		t.Fatalf("the network's checkpoint has %d signature lines, want at least 3", len(lines)-1)
	}
	proof["checkpoint"] = text + "\n\n" + lines[0]
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func forgeCheckpoint(t *testing.T, cp []byte, home string) []byte {
	t.Helper()
	text, _, ok := strings.Cut(string(cp), "\n\n")
	if !ok {
		t.Fatalf("not a signed note:\n%s", cp)
	}
	c, err := tlog.ParseCheckpoint([]byte(text + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Hash = append([]byte(nil), c.Hash...)
	c.Hash[0] ^= 1
	k, err := keystore.Open(filepath.Join(home, "keys")).Unlock("node", passphrase)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := k.Ed25519()
	signer, err := tlog.NewSigner(c.Origin, priv)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := tlog.Sign(c, signer)
	if err != nil {
		t.Fatal(err)
	}
	return forged
}
