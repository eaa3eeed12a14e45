package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/cometbft"
	"github.com/agora-ledger/agora/internal/node"
)

// proxy forwards TCP connections from a loopback port to one node's
// peer-to-peer address: the link one node reaches another through. While
// cut, it has closed every connection it carried and closes each new one
// at once. CometBFT's secret connection authenticates the node IDs end to
// end, so the nodes do not see the proxy.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool // both ends of each forwarded connection
	live  int               // forwarded connections open now
}

// newProxy starts a proxy on listen to target; the test's cleanup closes
// it.
func newProxy(t *testing.T, listen, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.setCut(true)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// forward copies between in and a new connection to the target until
// either end closes or the proxy is cut.
func (p *proxy) forward(in net.Conn) {
	defer in.Close()
	if !p.track(in) {
		return
	}
	defer p.untrack(in)
	out, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return // the node is not running: its peer sees a refusal
	}
	defer out.Close()
	if !p.track(out) {
		return
	}
	defer p.untrack(out)
	p.mu.Lock()
	p.live++
	p.mu.Unlock()
	var back sync.WaitGroup
	back.Go(func() {
		io.Copy(in, out)
		in.Close()
		out.Close()
	})
	io.Copy(out, in)
	in.Close()
	out.Close()
	back.Wait()
	p.mu.Lock()
	p.live--
	p.mu.Unlock()
}

// track records c so that a cut closes it; it is false when the proxy is
// cut, and c must be closed.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// setCut cuts the link (closing every connection it carries) or heals it.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *proxy) connected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live > 0
}

// links are the peer-to-peer links of a testnet, one proxy per pair of
// nodes: links[j][i], for i < j, is the proxy node j dials node i
// through, and the only way between them.
//
// Only the later node of a pair dials the earlier one. Through a proxy,
// CometBFT does not count an inbound peer as persistent (it compares the
// peer's self-reported address, the real one, with the configured one, the
// proxy's), so only the dialling side of a connection redials after it
// breaks. Were both sides to dial, they could each keep the other's
// connection and close their own at the same moment, and then neither
// would redial; with one dialler per pair, a healed link always comes back.
// Without PEX, nothing else dials: no node knows another's real address.
type links [][]*proxy

// proxyPeers rewrites the network.json of every node of nw, before they
// start, so that their peer-to-peer links go through proxies, and
// config.json so that a request waiting for its commit outlasts a
// partition. It returns the proxies.
func proxyPeers(t *testing.T, nw *testnet) links {
	t.Helper()
	n := len(nw.nodes)
	if n > 8 {
		t.Fatalf("proxyPeers takes at most 8 nodes, not %d: the proxies into a node use its block of ten ports", n)
	}
	cfgs := make([]cometbft.Config, n)
	ids := map[string]string{} // real peer-to-peer address → node ID
	for i, nd := range nw.nodes {
		c, err := cometbft.LoadConfig(filepath.Join(nd.nodeHome, cometbft.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		cfgs[i] = c
		for _, p := range c.Peers {
			id, addr, _ := strings.Cut(p, "@")
			ids[addr] = id
		}
	}
	l := make(links, n)
	for j := range n {
		l[j] = make([]*proxy, n)
		cfgs[j].Peers = nil
		for i := range j {
			// Node i's block of ten ports, which newTestnet found free,
			// has its API, peer and CometBFT RPC ports first; the proxies
			// into it take the next ones, rather than ports the nodes
			// might be given for their own connections.
			host, port, err := net.SplitHostPort(cfgs[i].P2P)
			if err != nil {
				t.Fatal(err)
			}
			p, err := strconv.Atoi(port)
			if err != nil {
				t.Fatal(err)
			}
			l[j][i] = newProxy(t, net.JoinHostPort(host, strconv.Itoa(p+1+j-i)), cfgs[i].P2P)
			cfgs[j].Peers = append(cfgs[j].Peers, ids[cfgs[i].P2P]+"@"+l[j][i].addr())
		}
		home := nw.nodes[j].nodeHome
		if err := cfgs[j].Write(filepath.Join(home, cometbft.ConfigFile)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(home, "config.json")
		nc, err := node.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		// The client gives up after 60s; the API must answer before.
		nc.RequestTimeout = node.Duration(55 * time.Second)
		b, err := json.MarshalIndent(nc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// link returns the proxy between nodes i and j.
func (l links) link(i, j int) *proxy { return l[max(i, j)][min(i, j)] }

// split cuts every link between nodes of different groups; a node in no
// group keeps its links.
func (l links) split(groups ...[]int) {
	side := map[int]int{}
	for g, nodes := range groups {
		for _, i := range nodes {
			side[i] = g
		}
	}
	for i, gi := range side {
		for j, gj := range side {
			if i < j && gi != gj {
				l.link(i, j).setCut(true)
			}
		}
	}
}

// heal restores every link.
func (l links) heal() {
	for j := range l {
		for i := range j {
			l[j][i].setCut(false)
		}
	}
}

// waitConnected waits until every pair of nodes has a connection open
// through its link: after a heal, the dialling node of each pair has
// redialled (CometBFT does every 5 to 8 seconds).
func (l links) waitConnected(t *testing.T, nodes []*netNode, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for j := range l {
		for i := range j {
			for !l[j][i].connected() {
				checkRunning(t, nodes)
				if time.Now().After(deadline) {
					t.Fatalf("node%d has not reconnected to node%d within %s\n%s", j, i, timeout, logs(nodes[i], nodes[j]))
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

// logs returns the logs of nodes, each under its name, for a failure
// message.
func logs(nodes ...*netNode) string {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, "--- %s (%s):\n%s\n", filepath.Base(n.nodeHome), n.node, n.output())
	}
	return b.String()
}

// checkRunning fails the test if one of the nodes' processes has exited:
// nothing in the test stops one before the end.
func checkRunning(t *testing.T, nodes []*netNode) {
	t.Helper()
	for _, n := range nodes {
		select {
		case <-n.exited:
			t.Fatalf("%s exited while the test ran (%v): stopped by something else on the machine?\n%s", filepath.Base(n.nodeHome), n.waitErr, logs(n))
		default:
		}
	}
}

// heights returns the nodes' heights.
func heights(t *testing.T, nodes []*netNode) []uint64 {
	t.Helper()
	hs := make([]uint64, len(nodes))
	for i, n := range nodes {
		hs[i] = n.height(t)
	}
	return hs
}

// holdHeights watches the nodes for the whole window and fails if node i
// goes past limit[i].
func holdHeights(t *testing.T, window time.Duration, limit []uint64, nodes []*netNode) {
	t.Helper()
	for end := time.Now().Add(window); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		checkRunning(t, nodes)
		for i, n := range nodes {
			if h := n.height(t); h > limit[i] {
				t.Fatalf("%s committed height %d during the split (limit %d)\n%s", n.node, h, limit[i], logs(nodes...))
			}
		}
	}
}

// netLoad is load on a network: workers on every node, each submitting
// anchors signed by its own key and waiting for their commit.
type netLoad struct {
	ws     []*loadWorker
	count  atomic.Int64 // acknowledgements so far
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startNetLoad starts perNode workers on each of nodes, and waits until
// there are as many acknowledgements as workers. The test's end stops
// them.
func startNetLoad(t *testing.T, nodes []*netNode, perNode int) *netLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &netLoad{cancel: cancel}
	t.Cleanup(func() {
		cancel()
		l.wg.Wait()
	})
	for i, n := range nodes {
		l.ws = append(l.ws, startLoad(t, ctx, n.c, "e2e-net", perNode, fmt.Sprintf("node%d worker", i), &l.count, &l.wg)...)
	}
	l.waitAcked(t, int64(len(l.ws)), nodes)
	return l
}

// waitAcked waits until there are n acknowledgements, from workers on
// nodes.
func (l *netLoad) waitAcked(t *testing.T, n int64, nodes []*netNode) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for l.count.Load() < n {
		checkRunning(t, nodes)
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions acknowledged after 2 minutes, want %d\n%s", l.count.Load(), n, logs(nodes...))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sequences returns each worker's account sequence (its committed
// transactions) at node n.
func (l *netLoad) sequences(t *testing.T, n *netNode) []uint64 {
	t.Helper()
	seqs := make([]uint64, len(l.ws))
	for i, w := range l.ws {
		a, err := n.c.Account(context.Background(), w.key.Public().Address())
		switch {
		case client.IsCode(err, "not_found"):
		case err != nil:
			t.Fatalf("%s: %v", n.node, err)
		default:
			seqs[i] = a.Sequence
		}
	}
	return seqs
}

// waitCommitted waits until every worker has a transaction committed at
// node n after those counted in seqs: each worker's transaction that was
// waiting then is committed.
func (l *netLoad) waitCommitted(t *testing.T, n *netNode, seqs []uint64, nodes []*netNode) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; i < len(seqs); {
		checkRunning(t, nodes)
		if l.sequences(t, n)[i] > seqs[i] {
			i++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no transaction committed at %s 2 minutes after %d\n%s", l.ws[i].name, n.node, seqs[i], logs(nodes...))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the workers, requires that no node refused or misanswered
// one, and returns how many transactions were acknowledged.
func (l *netLoad) stop(t *testing.T) int {
	t.Helper()
	l.cancel()
	l.wg.Wait()
	total := 0
	for _, w := range l.ws {
		if w.err != nil {
			t.Fatal(w.err)
		}
		total += len(w.acked)
	}
	return total
}

// finish requires every node to catch up to the same blocks and to hold
// every transaction the load's workers had acknowledged, then stops the
// nodes and requires fsck to pass on each home. It returns the height
// they agreed up to.
func (l *netLoad) finish(t *testing.T, nodes []*netNode) uint64 {
	t.Helper()
	h := catchUp(t, nodes)
	for _, n := range nodes {
		checkAcked(t, n.c, l.ws)
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, n := range nodes {
		n.stop(t)
	}
	for _, n := range nodes {
		t.Logf("%s: %s", filepath.Base(n.nodeHome), strings.TrimSpace(fsck(t, n.nodeHome)))
	}
	return h
}

// catchUp waits until every node reaches the highest height of them and
// requires them to hold the same blocks up to it; it returns that height.
func catchUp(t *testing.T, nodes []*netNode) uint64 {
	t.Helper()
	h := uint64(0)
	for _, x := range heights(t, nodes) {
		h = max(h, x)
	}
	for _, n := range nodes {
		n.waitHeight(t, h, 2*time.Minute)
	}
	sameLedger(t, h, nodes...)
	return h
}

// TestPartition runs four validators as separate processes whose
// peer-to-peer links go through proxies the test cuts and heals, with
// load on every node: a validator cut off from the other three (they go
// on; it stalls without a conflicting block, and catches up to identical
// blocks once healed), then a 2|2 split (no side has more than two thirds
// of the power: nobody commits, nothing forks; the network resumes once
// healed, and every worker's waiting transaction commits). Every
// transaction any node acknowledged is then on every node, and every
// store passes fsck.
func TestPartition(t *testing.T) {
	start := time.Now()
	nw := newTestnet(t, 4, 0)
	l := proxyPeers(t, nw)
	for i := range 4 {
		nw.start(t, i)
	}
	v := nw.nodes
	l.waitConnected(t, v, time.Minute)
	t.Logf("4 validators connected through proxies after %s", time.Since(start).Round(time.Millisecond))

	load := startNetLoad(t, v, 2)

	t.Log("minority partition: node3 cut off from the other three")
	l.split([]int{0, 1, 2}, []int{3})
	cut := time.Now()
	isolated := v[3].height(t)
	acked := load.count.Load()
	majority := heights(t, v[:3])
	top := max(majority[0], majority[1], majority[2])
	for _, n := range v[:3] {
		n.waitHeight(t, top+5, 2*time.Minute)
	}
	load.waitAcked(t, acked+4, v[:3])
	if h := v[3].height(t); h > isolated+1 {
		t.Fatalf("node3 committed up to %d cut off from the others (at %d when cut)\n%s", h, isolated, logs(v[3]))
	}
	stalled := v[3].height(t)
	sameLedger(t, stalled, v...)
	t.Logf("node3 stalled at %d while the three went from %d to %d (%d acknowledgements) in %s",
		stalled, top, v[0].height(t), load.count.Load()-acked, time.Since(cut).Round(time.Millisecond))

	l.heal()
	healed := time.Now()
	l.waitConnected(t, v, 2*time.Minute)
	h := catchUp(t, v)
	t.Logf("healed: node3 reconnected and caught up to %d with identical blocks in %s", h, time.Since(healed).Round(time.Millisecond))

	t.Log("even split: node0 and node1 | node2 and node3")
	l.split([]int{0, 1}, []int{2, 3})
	cut = time.Now()
	hs := heights(t, v)
	top = max(hs[0], hs[1], hs[2], hs[3])
	// A block whose precommits crossed before the cut may still commit
	// on either side; then nothing may.
	holdHeights(t, 2*time.Second, []uint64{top + 1, top + 1, top + 1, top + 1}, v)
	held := heights(t, v)
	acked = load.count.Load()
	holdHeights(t, 5*time.Second, held, v)
	if n := load.count.Load(); n != acked {
		t.Fatalf("%d transactions acknowledged during the split", n-acked)
	}
	sameLedger(t, min(held[0], held[1], held[2], held[3]), v...)
	waiting := load.sequences(t, v[0])
	t.Logf("split for %s: heights %v held (at %v when cut), %d acknowledgements", time.Since(cut).Round(time.Millisecond), held, hs, load.count.Load()-acked)

	l.heal()
	healed = time.Now()
	l.waitConnected(t, v, 2*time.Minute)
	load.waitCommitted(t, v[0], waiting, v)
	h = catchUp(t, v)
	t.Logf("healed: the network resumed and the four agree up to %d after %s", h, time.Since(healed).Round(time.Millisecond))

	total := load.stop(t)
	h = load.finish(t, v)
	t.Logf("%d transactions acknowledged, every one on all four nodes at its acknowledged height and block (lost: 0); %d blocks", total, h)
	t.Logf("wall time %s", time.Since(start).Round(time.Millisecond))
}
