package e2e

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
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
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// agoraBin is the agora binary TestMain builds.
var agoraBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agora-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agoraBin = filepath.Join(dir, "agora")
	if err := buildAgora(agoraBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildAgora builds ./cmd/agora of this module into out.
func buildAgora(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if _, err := os.Stat(filepath.Join(root, "cmd", "agora")); err != nil {
		return fmt.Errorf("cannot find cmd/agora from the module root %q: %w", root, err)
	}
	cmd := exec.Command("go", "build", "-o", out, "./cmd/agora")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as README builds it
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/agora: %w\n%s", err, b)
	}
	return nil
}

// passphrase unlocks the keys of every home the tests make.
const passphrase = "dev"

// cli runs agora commands as a user would, against one home and node.
type cli struct {
	home string
	node string // API URL
}

// result is how an agora command ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func (c cli) env() []string {
	return append(os.Environ(), "AGORA_HOME="+c.home, "AGORA_NODE="+c.node, "AGORA_PASSPHRASE="+passphrase)
}

// run runs agora with args and returns how it ended.
func (c cli) run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agoraBin, args...)
	cmd.Env = c.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("agora %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	return r
}

// want runs agora with args and requires exit status code.
func (c cli) want(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := c.run(t, args...)
	if r.code != code {
		t.Fatalf("agora %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, code, r)
	}
	return r
}

// ok runs agora with args, requires success and returns its stdout.
func (c cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	return c.want(t, 0, args...).stdout
}

// devNode is an "agora dev" subprocess listening on a loopback port.
type devNode struct {
	cli
	cmd     *exec.Cmd
	logPath string        // its stdout and stderr
	exited  chan struct{} // closed once it has exited
	waitErr error         // how it exited, once exited is closed
}

var nodeSeq atomic.Int64

// startDev starts "agora dev --home home" on a free loopback port and
// waits until it answers /healthz. The node is killed at the end of the
// test if it still runs; if the test failed its output is logged.
func startDev(t *testing.T, home string) *devNode {
	t.Helper()
	var last *devNode
	for range 5 {
		n, err := tryStartDev(t, home)
		if err == nil {
			return n
		}
		last = n
		// Another process may have taken the free port before the node
		// bound it: try another one.
		if n == nil || !strings.Contains(n.output(), "address already in use") {
			if n != nil {
				t.Fatalf("starting agora dev: %v\n%s", err, n.output())
			}
			t.Fatalf("starting agora dev: %v", err)
		}
	}
	t.Fatalf("starting agora dev: no free port\n%s", last.output())
	return nil
}

func tryStartDev(t *testing.T, home string) (*devNode, error) {
	addr := freeAddr(t)
	n := &devNode{
		cli:     cli{home: home, node: "http://" + addr},
		logPath: filepath.Join(t.TempDir(), fmt.Sprintf("node-%d.log", nodeSeq.Add(1))),
		exited:  make(chan struct{}),
	}
	logf, err := os.Create(n.logPath)
	if err != nil {
		return nil, err
	}
	n.cmd = exec.Command(agoraBin, "dev", "--home", home, "--http", addr)
	n.cmd.Env = n.env()
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = sysProcAttr()
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		logf.Close()
		close(n.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-n.exited:
		default:
			n.cmd.Process.Kill()
			<-n.exited
		}
		if t.Failed() {
			t.Logf("output of agora dev on %s (home %s):\n%s", addr, home, n.output())
		}
	})
	if err := n.waitHealthy(30 * time.Second); err != nil {
		return n, err
	}
	// A node of another test process may hold the port our node failed to
	// bind, and have answered the health check: make sure it is ours.
	if err := n.checkGenesis(home); err != nil {
		select {
		case <-n.exited:
			return n, fmt.Errorf("%w (address already in use: another process's node answered)", err)
		case <-time.After(2 * time.Second):
			return n, err
		}
	}
	return n, nil
}

// checkGenesis checks that the node answering at n.node began from the
// genesis in home.
func (n *devNode) checkGenesis(home string) error {
	g, err := os.ReadFile(filepath.Join(home, "genesis.json"))
	if err != nil {
		return err
	}
	info, err := client.New(n.node).Info(context.Background())
	if err != nil {
		return err
	}
	want := sha256.Sum256(g)
	if info.GenesisHash != hex.EncodeToString(want[:]) {
		return fmt.Errorf("the node at %s is not the one started on %s", n.node, home)
	}
	return nil
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy polls /healthz until it answers 200, the node exits, or
// the timeout passes.
func (n *devNode) waitHealthy(timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := hc.Get(n.node + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-n.exited:
			return fmt.Errorf("agora dev exited before it was healthy: %v", n.waitErr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agora dev not healthy after %s (last: %v)", timeout, err)
		}
	}
}

func (n *devNode) output() string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// kill kills the node with SIGKILL and waits for it to die.
func (n *devNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-n.exited
}

// stop stops the node with SIGTERM and requires a clean exit.
func (n *devNode) stop(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("agora dev did not stop within 30s of SIGTERM")
	}
	if n.waitErr != nil {
		t.Fatalf("agora dev after SIGTERM: %v\n%s", n.waitErr, n.output())
	}
}

// fsck runs agora fsck on a stopped node's home and requires it to pass.
func fsck(t *testing.T, home string) string {
	t.Helper()
	out := cli{home: home}.ok(t, "fsck", "--home", home, "-q")
	if !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("agora fsck: %q, want ok", out)
	}
	return out
}

// field returns the value of the line "  name  value" in out.
func field(t *testing.T, out, name string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// TestUserStory follows the dev node's "Try" text: make a key, anchor a
// file, verify it and an unanchored file, look at the block; then kill
// the node, restart it on the same home, find the anchor again and check
// the store.
func TestUserStory(t *testing.T) {
	home := t.TempDir()
	n := startDev(t, home)

	out := n.ok(t, "keys", "new", "carol")
	mustContain(t, "keys new", out, "created key carol")
	carolAddr := field(t, out, "address")
	out = n.ok(t, "keys", "list")
	mustContain(t, "keys list", out, "carol", "alice", "regulator")

	dir := t.TempDir()
	contract := filepath.Join(dir, "contract.txt")
	if err := os.WriteFile(contract, []byte("the lease, signed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(other, []byte("never anchored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("the lease, signed\n"))
	digest := hex.EncodeToString(sum[:])

	out = n.ok(t, "notary", "anchor", contract, "--key", "carol", "--description", "signed lease")
	mustContain(t, "notary anchor", out, "anchored "+contract)
	if got := field(t, out, "sha256"); got != digest {
		t.Errorf("anchor printed sha256 %s, want %s", got, digest)
	}
	if got := field(t, out, "type"); got != "text/plain" {
		t.Errorf("anchor printed type %s, want text/plain", got)
	}
	height := field(t, out, "height")
	hash := field(t, out, "tx")
	if _, err := tx.ParseID(hash); err != nil {
		t.Fatalf("anchor printed tx %q: %v", hash, err)
	}

	checkVerify := func(n *devNode) {
		t.Helper()
		out := n.ok(t, "notary", "verify", contract)
		mustContain(t, "notary verify", out, "anchored: "+contract, "signed lease", carolAddr+" (your key carol)")
		if field(t, out, "sha256") != digest || field(t, out, "height") != height || field(t, out, "tx") != hash {
			t.Errorf("verify does not match the anchor (sha256 %s, height %s, tx %s):\n%s", digest, height, hash, out)
		}
	}
	checkVerify(n)
	r := n.want(t, 1, "notary", "verify", other)
	mustContain(t, "verify of an unanchored file", r.stdout, "NOT anchored: "+other)

	out = n.ok(t, "block", "show", height)
	mustContain(t, "block show", out, "block "+height, hash+"  notary/anchor  ok")
	out = n.ok(t, "tx", "show", hash)
	if field(t, out, "status") != "committed" || field(t, out, "result") != "ok" || !strings.HasPrefix(field(t, out, "block"), height+" ") {
		t.Errorf("tx show:\n%s", out)
	}
	out = n.ok(t, "account", "show", "carol")
	if field(t, out, "sequence") != "1" {
		t.Errorf("account show carol:\n%s", out)
	}
	// Anchoring the same file again is refused before anything is signed.
	r = n.want(t, 1, "notary", "anchor", contract, "--key", "carol")
	mustContain(t, "second anchor", r.stderr, "already anchored", "nothing was submitted")
	out = n.ok(t, "account", "show", "carol")
	if field(t, out, "sequence") != "1" {
		t.Errorf("a refused duplicate consumed a sequence number:\n%s", out)
	}
	out = n.ok(t, "info")
	mustContain(t, "info", out, "agora-dev", "notary")

	n.kill(t)
	r = n.run(t, "notary", "verify", contract)
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the node") {
		t.Errorf("verify with the node down: want exit 1 saying the node cannot be reached\n%s", r)
	}

	n = startDev(t, home)
	checkVerify(n)
	n.want(t, 1, "notary", "verify", other)
	n.stop(t)
	fsck(t, home)
}

// crashRounds is how many rounds TestCrashDuringLoad makes.
func crashRounds(t *testing.T) int {
	if testing.Short() {
		return 1
	}
	s := os.Getenv("AGORA_CRASH_ROUNDS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("AGORA_CRASH_ROUNDS=%q: want a positive number", s)
	}
	return n
}

func crashSeed(t *testing.T) uint64 {
	s := os.Getenv("AGORA_CRASH_SEED")
	if s == "" {
		return uint64(time.Now().UnixNano())
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("AGORA_CRASH_SEED=%q: want a number", s)
	}
	return n
}

// ack is a transaction the node acknowledged as committed.
type ack struct {
	id        tx.ID
	height    uint64
	index     int
	blockHash string
}

// loadWorker submits anchors signed by its own key, one at a time with
// wait=commit, until the node stops answering.
type loadWorker struct {
	key   *tx.PrivateKey
	name  string
	acked []ack // in sequence order: acked[i] has sequence i
	err   error // a refusal or wrong answer; a lost connection is not one
}

func (w *loadWorker) run(ctx context.Context, c *client.Client, chainID string, count *atomic.Int64) {
	for seq := uint64(0); ctx.Err() == nil; seq++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", w.name, seq))
		body, err := tx.Marshal(&notary.Anchor{SHA256: sum[:], MediaType: "application/octet-stream"})
		if err != nil {
			w.err = err
			return
		}
		t := &tx.Tx{Version: tx.Version, ChainID: chainID, Module: notary.Name, Type: "anchor", Body: body,
			Signers: []tx.Signer{{Key: w.key.Public(), Sequence: seq}}, ExpiryHeight: 1 << 62}
		s, err := tx.Sign(t, w.key)
		if err != nil {
			w.err = err
			return
		}
		raw, err := s.Encode()
		if err != nil {
			w.err = err
			return
		}
		res, err := c.Submit(ctx, raw, true)
		if client.IsCode(err, "stopped") {
			return // the node stopped committing (its disk failed); not a refusal
		}
		var ce *client.Error
		if errors.As(err, &ce) {
			w.err = fmt.Errorf("%s sequence %d: the node refused it: %w", w.name, seq, err)
			return
		}
		if err != nil {
			return // the node is gone; this transaction may or may not be committed
		}
		if res.Hash != s.ID() || res.Status != "committed" || res.TxCommit == nil || res.Result.Code != "ok" {
			w.err = fmt.Errorf("%s sequence %d: answer %+v, want %s committed ok", w.name, seq, res, s.ID())
			return
		}
		w.acked = append(w.acked, ack{id: res.Hash, height: res.Height, index: res.Index, blockHash: res.BlockHash})
		count.Add(1)
	}
}

// startLoad starts n load workers named "<name> <i>" submitting to c
// until ctx ends or the node stops answering; wg waits for them and
// count counts their acknowledged transactions.
func startLoad(t *testing.T, ctx context.Context, c *client.Client, chainID string, n int, name string, count *atomic.Int64, wg *sync.WaitGroup) []*loadWorker {
	t.Helper()
	var ws []*loadWorker
	for i := range n {
		key, err := tx.GenerateKey(tx.Ed25519, crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		w := &loadWorker{key: key, name: fmt.Sprintf("%s %d", name, i)}
		ws = append(ws, w)
		wg.Go(func() { w.run(ctx, c, chainID, count) })
	}
	return ws
}

// TestCrashDuringLoad kills the node with SIGKILL while workers submit
// transactions, restarts it, and checks that every transaction it
// acknowledged as committed is still committed where it said, that no
// account moved further than its one unacknowledged transaction, and that
// fsck passes after a clean stop. The same home goes through every round,
// so later rounds also check the earlier rounds' transactions.
func TestCrashDuringLoad(t *testing.T) {
	const workers = 16
	rounds := crashRounds(t)
	seed := crashSeed(t)
	t.Logf("%d rounds, seed %d (set AGORA_CRASH_SEED to repeat the kill delays)", rounds, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	home := t.TempDir()
	var all []*loadWorker

	for round := range rounds {
		n := startDev(t, home)
		c := client.New(n.node)
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		var count atomic.Int64
		var wg sync.WaitGroup
		ws := startLoad(t, ctx, c, info.ChainID, workers, fmt.Sprintf("round %d worker", round), &count, &wg)
		// Let every worker be under way, then kill after a seeded delay.
		deadline := time.Now().Add(30 * time.Second)
		for count.Load() < workers && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		delay := 100*time.Millisecond + time.Duration(rng.Int64N(int64(900*time.Millisecond)))
		time.Sleep(delay)
		// A checkpoint the node signed just before it dies: the log after
		// the restart must extend it.
		_, before, err := c.GetRaw(context.Background(), "/log/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		n.kill(t)
		wg.Wait()
		cancel()
		all = append(all, ws...)
		var acked int
		for _, w := range ws {
			if w.err != nil {
				t.Error(w.err)
			}
			acked += len(w.acked)
		}
		t.Logf("round %d: killed after %s with %d transactions acknowledged", round, delay, acked)
		if acked < workers {
			t.Fatalf("round %d: only %d transactions acknowledged before the kill", round, acked)
		}

		n = startDev(t, home)
		checkConsistent(t, client.New(n.node), info.LogKey, before)
		unacked := checkAcked(t, client.New(n.node), all)
		t.Logf("round %d: %d transactions committed without an acknowledgement, in all rounds so far", round, unacked)
		n.stop(t)
		t.Logf("round %d: %s", round, strings.TrimSpace(fsck(t, home)))
		if t.Failed() {
			return
		}
	}
}

// checkConsistent checks, offline against the log key, that the node's
// current checkpoint extends the signed checkpoint before.
func checkConsistent(t *testing.T, c *client.Client, logKey string, before []byte) {
	t.Helper()
	policy := verify.Policy{LogKey: logKey}
	old, err := verify.OpenCheckpoint(before, policy)
	if err != nil {
		t.Fatalf("checkpoint before the kill: %v", err)
	}
	var p struct {
		verify.ConsistencyProof
		Checkpoint string `json:"checkpoint"`
	}
	if err := c.Get(context.Background(), fmt.Sprintf("/v1/proof/consistency?from=%d", old.Size), &p); err != nil {
		t.Fatal(err)
	}
	if err := verify.Consistency(before, []byte(p.Checkpoint), &p.ConsistencyProof, policy); err != nil {
		t.Errorf("the log after the restart does not extend the checkpoint signed before the kill: %v", err)
	}
}

// checkAcked checks that every acknowledged transaction of ws is committed
// where the node said, and that each worker's account holds its
// acknowledged transactions and at most the one it was waiting for. It
// returns how many workers' last transactions were committed without an
// acknowledgement (the node died after the commit, before answering).
func checkAcked(t *testing.T, c *client.Client, ws []*loadWorker) (unacked int) {
	t.Helper()
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		for _, a := range w.acked {
			if a.height > info.Height {
				t.Errorf("%s: %s acknowledged at height %d, the restarted node is at %d", w.name, a.id, a.height, info.Height)
			}
			v, err := c.Tx(ctx, a.id)
			if err != nil {
				t.Errorf("%s: acknowledged %s at height %d: %v", w.name, a.id, a.height, err)
				continue
			}
			if v.Status != "committed" || v.TxCommit == nil || v.Height != a.height || v.Index != a.index || v.BlockHash != a.blockHash || v.Result.Code != "ok" {
				t.Errorf("%s: %s acknowledged at height %d index %d block %s; after restart: %+v", w.name, a.id, a.height, a.index, a.blockHash, v)
			}
		}
		var seq uint64
		acct, err := c.Account(ctx, w.key.Public().Address())
		switch {
		case client.IsCode(err, "not_found"):
		case err != nil:
			t.Fatal(err)
		default:
			seq = acct.Sequence
		}
		if n := uint64(len(w.acked)); seq != n && seq != n+1 {
			t.Errorf("%s: %d transactions acknowledged, but the account's sequence is %d", w.name, n, seq)
		} else if seq == n+1 {
			unacked++
		}
	}
	return unacked
}
