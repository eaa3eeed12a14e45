package cometbft

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

const chain = "net-test"

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// govmod stands in for the governance module (package gov): its one
// message enacts the actions it carries, as a ratified decision would.
type govmod struct{}

type enactMsg struct {
	Actions []ledger.Action `cbor:"1,keyasint"`
}

func (m *enactMsg) Validate() error { return nil }

func (govmod) Name() string { return ledger.GovernanceModule }

func (govmod) Decode(typ string, body []byte) (ledger.Msg, error) {
	var m enactMsg
	if err := tx.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (govmod) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	_, err := ctx.Enact(msg.(*enactMsg).Actions)
	return err
}

func (govmod) Queries() []ledger.Query                           { return nil }
func (govmod) InitGenesis(*ledger.KV, json.RawMessage) error     { return nil }
func (govmod) ExportGenesis(*ledger.KV) (json.RawMessage, error) { return nil, nil }

// validator is a member of the test network with its keys.
type validator struct {
	ledger.Validator
	note note.Signer
}

func (v *validator) address() []byte { return cmted25519.PubKey(v.PubKey).Address() }

func newValidator(t testing.TB, i int) *validator {
	t.Helper()
	seed := sha256.Sum256(fmt.Appendf(nil, "consensus %d", i))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	noteSeed := sha256.Sum256(fmt.Appendf(nil, "note %d", i))
	priv := ed25519.NewKeyFromSeed(noteSeed[:])
	s, err := tlog.NewSigner(ledger.Origin(chain), priv)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.VerifierKey(ledger.Origin(chain), priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return &validator{Validator: ledger.Validator{Name: fmt.Sprint("org", i), PubKey: pub, Power: 10, NoteKey: vkey}, note: s}
}

// harness is an App over a fresh store whose genesis names four
// validators; the App is validator 0.
type harness struct {
	t       *testing.T
	app     *App
	st      *store.Store
	g       *ledger.Genesis
	vals    []*validator
	me      int // the validator whose note key the App signs with
	user    *tx.PrivateKey
	reg     *prometheus.Registry // the App's metrics
	netKeys Keys                 // the CometBFT keys of a node the harness runs (runNode)
	log     *slog.Logger         // the App's and the store's; nil: discarded

	clockMu sync.Mutex
	clock   time.Time
}

// now is the App's clock; tick advances it by a second.
func (h *harness) now() time.Time {
	h.clockMu.Lock()
	defer h.clockMu.Unlock()
	return h.clock
}

func (h *harness) tick() time.Time {
	h.clockMu.Lock()
	defer h.clockMu.Unlock()
	h.clock = h.clock.Add(time.Second)
	return h.clock
}

func newHarness(t *testing.T, dir string) *harness { return newHarnessAs(t, dir, 0) }

// newHarnessAs is newHarness with the App signing as validator me.
func newHarnessAs(t *testing.T, dir string, me int) *harness {
	t.Helper()
	h := keysHarness(t, 4, me)
	h.open(dir)
	return h
}

// keysHarness is a harness without its store and App yet: n validators
// in the genesis, the App signing as validator me, and the user's key.
func keysHarness(t *testing.T, n, me int) *harness {
	t.Helper()
	h := &harness{t: t, clock: t0.Add(time.Hour), me: me}
	for i := range n {
		h.vals = append(h.vals, newValidator(t, i))
	}
	seed := sha256.Sum256([]byte("user"))
	user, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	h.user = user
	h.g = &ledger.Genesis{ChainID: chain, Time: t0, Params: ledger.DefaultParams()}
	for _, v := range h.vals {
		h.g.Validators = append(h.g.Validators, v.Validator)
	}
	return h
}

// open opens (initialising if new) the store in dir and a new App on it,
// as a restarted process would.
func (h *harness) open(dir string) {
	t := h.t
	st, err := store.Open(dir, h.logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.st == st { // not closed by reopen
			st.Close()
		}
	})
	h.use(st)
}

func (h *harness) logger() *slog.Logger {
	if h.log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return h.log
}

// use initialises st from the genesis if it is new and puts a new App
// on it.
func (h *harness) use(st *store.Store) {
	t := h.t
	exec, err := ledger.NewExecutor(chain, notary.Module{}, govmod{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Head(); !ok {
		if _, err := node.Init(st, exec, h.g, []byte("genesis"), &node.Checkpointer{Signer: h.vals[h.me].note}); err != nil {
			t.Fatal(err)
		}
	}
	h.reg = prometheus.NewRegistry()
	app, err := NewApp(st, exec, h.g, h.vals[h.me].note, h.logger(), h.now, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	h.app, h.st = app, st
}

// reopen closes the store and opens it again with a new App.
func (h *harness) reopen(dir string) {
	h.st.Close()
	h.open(dir)
}

// anchor returns an anchor of doc by the user with sequence seq.
func (h *harness) anchor(seq uint64, doc string) []byte {
	return h.sign(&tx.Tx{Version: tx.Version, ChainID: chain, Module: notary.Name, Type: "anchor", Body: anchorBody(h.t, doc),
		Signers: []tx.Signer{{Key: h.user.Public(), Sequence: seq}}, ExpiryHeight: 1000})
}

func anchorBody(t testing.TB, doc string) []byte {
	sum := sha256.Sum256([]byte(doc))
	body, err := tx.Marshal(&notary.Anchor{SHA256: sum[:], MediaType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func (h *harness) sign(x *tx.Tx) []byte { return signWith(h.t, x, h.user) }

// signWith returns x signed by k, encoded.
func signWith(t testing.TB, x *tx.Tx, k *tx.PrivateKey) []byte {
	t.Helper()
	s, err := tx.Sign(x, k)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (h *harness) checkTx(raw []byte, typ abci.CheckTxType) *abci.ResponseCheckTx {
	h.t.Helper()
	res, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw, Type: typ})
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// votes returns the last commit's votes with the extensions the given
// validators sign for the checkpoint of head.
func (h *harness) votes(head *ledger.Header, signers ...*validator) abci.ExtendedCommitInfo {
	var info abci.ExtendedCommitInfo
	for _, v := range signers {
		line, err := signLine(head, v.note)
		if err != nil {
			h.t.Fatal(err)
		}
		info.Votes = append(info.Votes, abci.ExtendedVoteInfo{
			Validator:     abci.Validator{Address: v.address(), Power: 10},
			VoteExtension: line, BlockIdFlag: cmtproto.BlockIDFlagCommit})
	}
	return info
}

// block runs one height through the consensus calls, as validator 0
// proposing it, and returns the finalized response.
func (h *harness) block(txs [][]byte, last abci.ExtendedCommitInfo) (*abci.ResponseFinalizeBlock, [][]byte) {
	fin, all := h.finalize(txs, last)
	h.commit()
	return fin, all
}

// finalize proposes, processes and finalizes the next block.
func (h *harness) finalize(txs [][]byte, last abci.ExtendedCommitInfo) (*abci.ResponseFinalizeBlock, [][]byte) {
	t := h.t
	t.Helper()
	ctx := context.Background()
	head := h.app.Head()
	height := int64(head.Height + 1)
	now := h.tick()
	prep, err := h.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: 1 << 20, Txs: txs, LocalLastCommit: last, Height: height, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256(fmt.Appendf(nil, "block %d", height))
	pp, err := h.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: prep.Txs, Hash: hash[:], Height: height, Time: now})
	if err != nil || pp.Status != abci.ResponseProcessProposal_ACCEPT {
		t.Fatalf("ProcessProposal of the node's own proposal: %v, %v", pp, err)
	}
	fin, err := h.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Txs: prep.Txs, Hash: hash[:], Height: height, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	return fin, prep.Txs
}

func (h *harness) commit() {
	if _, err := h.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		h.t.Fatal(err)
	}
}

func TestInfoAndInitChain(t *testing.T) {
	h := newHarness(t, t.TempDir())
	ctx := context.Background()
	info, err := h.app.Info(ctx, &abci.RequestInfo{})
	if err != nil || info.LastBlockHeight != 0 || info.LastBlockAppHash != nil {
		t.Fatalf("Info on a new store: %+v, %v", info, err)
	}
	doc, err := GenesisDoc(h.g)
	if err != nil {
		t.Fatal(err)
	}
	updates := func(power int64) []abci.ValidatorUpdate {
		var out []abci.ValidatorUpdate
		for _, v := range doc.Validators {
			out = append(out, abci.Ed25519ValidatorUpdate(v.PubKey.Bytes(), power))
		}
		return out
	}
	res, err := h.app.InitChain(ctx, &abci.RequestInitChain{ChainId: chain, Time: doc.GenesisTime, Validators: updates(10), InitialHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	head := h.app.Head()
	if want := head.Hash(); !bytes.Equal(res.AppHash, want[:]) {
		t.Errorf("InitChain app hash %x, want the genesis header's %x", res.AppHash, want)
	}
	for _, tc := range []struct {
		name string
		req  abci.RequestInitChain
	}{
		{"other powers", abci.RequestInitChain{ChainId: chain, Time: doc.GenesisTime, Validators: updates(11), InitialHeight: 1}},
		{"fewer validators", abci.RequestInitChain{ChainId: chain, Time: doc.GenesisTime, Validators: updates(10)[1:], InitialHeight: 1}},
		{"other chain", abci.RequestInitChain{ChainId: "other", Time: doc.GenesisTime, Validators: updates(10), InitialHeight: 1}},
		{"genesis time not after Agora's", abci.RequestInitChain{ChainId: chain, Time: t0, Validators: updates(10), InitialHeight: 1}},
	} {
		if _, err := h.app.InitChain(ctx, &tc.req); err == nil {
			t.Errorf("%s: InitChain accepted", tc.name)
		}
	}
}

func TestCheckTx(t *testing.T) {
	h := newHarness(t, t.TempDir())
	code := func(raw []byte, typ abci.CheckTxType) string {
		res := h.checkTx(raw, typ)
		if res.Code == 0 {
			return "ok"
		}
		return res.Codespace
	}
	var s tx.Signed
	badSig := h.anchor(1, "bad signature")
	badSig[len(badSig)-1] ^= 1
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"first", h.anchor(0, "a"), "ok"},
		{"again", h.anchor(0, "a"), "conflict"},
		{"next sequence counting the mempool", h.anchor(1, "b"), "ok"},
		{"a sequence already taken", h.anchor(1, "c"), "bad_sequence"},
		{"a gap", h.anchor(5, "d"), "bad_sequence"},
		{"bad signature", badSig, "bad_signature"},
		{"garbage", []byte("garbage"), "malformed"},
		{"checkpoint signatures", (&signatures{height: 1, lines: [][]byte{[]byte("— x y\n")}}).encode(), "malformed"},
		{"wrong chain", h.sign(&tx.Tx{Version: tx.Version, ChainID: "other", Module: notary.Name, Type: "anchor", Body: anchorBody(t, "w"),
			Signers: []tx.Signer{{Key: h.user.Public(), Sequence: 2}}, ExpiryHeight: 1000}), "wrong_chain"},
		{"expired", h.sign(&tx.Tx{Version: tx.Version, ChainID: chain, Module: notary.Name, Type: "anchor", Body: anchorBody(t, "x"),
			Signers: []tx.Signer{{Key: h.user.Public(), Sequence: 2}}, ExpiryTime: h.now().Add(-time.Second).UnixMilli()}), "expired"},
	} {
		if got := code(tc.raw, abci.CheckTxType_New); got != tc.want {
			t.Errorf("%s: CheckTx code %q, want %q", tc.name, got, tc.want)
		}
	}
	// An admitted transaction's ID comes back, for Submit to report.
	ident := h.anchor(2, "ident")
	if err := tx.Unmarshal(ident, &s); err != nil {
		t.Fatal(err)
	}
	if id := s.ID(); !bytes.Equal(h.checkTx(ident, abci.CheckTxType_New).Data, id[:]) {
		t.Errorf("CheckTx of a valid transaction does not return its ID %s as data", id)
	}

	// Commit a block with the first transaction only: the second still
	// waits, and the recheck keeps it; the pending sequences start over.
	h.block([][]byte{h.anchor(0, "a")}, abci.ExtendedCommitInfo{})
	if got := code(h.anchor(1, "b"), abci.CheckTxType_Recheck); got != "ok" {
		t.Errorf("recheck of the waiting transaction: %q, want ok", got)
	}
	if got := code(h.anchor(2, "e"), abci.CheckTxType_New); got != "ok" {
		t.Errorf("a transaction after the rechecked one: %q, want ok", got)
	}
	// A block that takes another transaction of sequence 1 makes the
	// waiting one invalid: the recheck drops it and says why.
	h.block([][]byte{h.anchor(1, "other b")}, abci.ExtendedCommitInfo{})
	if got := code(h.anchor(1, "b"), abci.CheckTxType_Recheck); got != "bad_sequence" {
		t.Errorf("recheck of a transaction whose sequence a block took: %q, want bad_sequence", got)
	}
	var id tx.ID
	if err := tx.Unmarshal(h.anchor(1, "b"), &s); err != nil {
		t.Fatal(err)
	}
	id = s.ID()
	h.app.mu.Lock()
	dropped, pending := h.app.dropped[id], h.app.inPool[id]
	h.app.mu.Unlock()
	if dropped == nil || pending {
		t.Errorf("after a failed recheck: dropped %v, pending %v", dropped, pending)
	}
	// The transaction admitted as "ident" was not rechecked after the
	// first commit: CometBFT no longer held it (say, evicted), so the
	// second commit forgot it.
	if err := tx.Unmarshal(ident, &s); err != nil {
		t.Fatal(err)
	}
	h.app.mu.Lock()
	_, stillPending := h.app.inPool[s.ID()]
	h.app.mu.Unlock()
	if stillPending {
		t.Error("a transaction CometBFT did not recheck is still pending two commits later")
	}
	if got := code(h.anchor(0, "a"), abci.CheckTxType_New); got != "conflict" {
		t.Errorf("a committed transaction again: %q, want conflict", got)
	}
}

func TestProposals(t *testing.T) {
	h := newHarness(t, t.TempDir())
	ctx := context.Background()
	now := h.tick()
	good, stale := h.anchor(0, "a"), h.anchor(3, "b")
	prep, err := h.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: 1 << 20, Txs: [][]byte{good, stale, []byte("junk")}, Height: 1, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != 1 || !bytes.Equal(prep.Txs[0], good) {
		t.Fatalf("PrepareProposal kept %d transactions, want only the valid one", len(prep.Txs))
	}
	// A tight MaxTxBytes leaves out what does not fit.
	prep2, err := h.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: txCost(good) - 1, Txs: [][]byte{good}, Height: 1, Time: now})
	if err != nil || len(prep2.Txs) != 0 {
		t.Errorf("PrepareProposal beyond MaxTxBytes: %d transactions, %v", len(prep2.Txs), err)
	}
	forged, err := signLine(&ledger.Header{ChainID: chain, Height: 0, LogRoot: make([]byte, 32), AppHash: make([]byte, 32)}, h.vals[1].note)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		txs  [][]byte
	}{
		{"an invalid transaction", [][]byte{good, stale}},
		{"garbage", [][]byte{[]byte("junk")}},
		{"signatures of the wrong height", [][]byte{(&signatures{height: 7, lines: [][]byte{forged}}).encode(), good}},
		{"signatures not first", [][]byte{good, (&signatures{height: 0, lines: [][]byte{forged}}).encode()}},
	} {
		hash := sha256.Sum256([]byte(tc.name))
		res, err := h.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: tc.txs, Hash: hash[:], Height: 1, Time: now})
		if err != nil || res.Status != abci.ResponseProcessProposal_REJECT {
			t.Errorf("ProcessProposal of a block with %s: %v, %v; want REJECT", tc.name, res, err)
		}
	}
	// A block time not after the previous block's is refused.
	hash := sha256.Sum256([]byte("early"))
	if res, err := h.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: [][]byte{good}, Hash: hash[:], Height: 1, Time: t0}); err != nil || res.Status != abci.ResponseProcessProposal_REJECT {
		t.Errorf("ProcessProposal of a block at the genesis time: %v, %v; want REJECT", res, err)
	}
}

// TestBlocksAndCheckpoints runs blocks through every consensus call and
// checks the commitments, the network checkpoint and replay: a second
// store that finalizes the same blocks without processing them first (a
// handshake replay, or block sync) reaches the same app hashes.
func TestBlocksAndCheckpoints(t *testing.T) {
	h := newHarness(t, t.TempDir())
	ctx := context.Background()
	fin1, txs1 := h.block([][]byte{h.anchor(0, "a"), h.anchor(1, "b")}, abci.ExtendedCommitInfo{})
	head1 := h.app.Head()
	if head1.Height != 1 || head1.LogSize != 2 {
		t.Fatalf("head after block 1: height %d, log size %d", head1.Height, head1.LogSize)
	}
	if want := head1.Hash(); !bytes.Equal(fin1.AppHash, want[:]) {
		t.Errorf("FinalizeBlock app hash %x, want the header's hash %x", fin1.AppHash, want)
	}
	if len(fin1.TxResults) != 2 || fin1.TxResults[0].Code != 0 {
		t.Errorf("tx results %v", fin1.TxResults)
	}
	info, _ := h.app.Info(ctx, &abci.RequestInfo{})
	if info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, fin1.AppHash) {
		t.Errorf("Info after a commit: %+v", info)
	}
	// The embedded node's block metrics, under the same names.
	if err := promtest.GatherAndCompare(h.reg, strings.NewReader(`
# HELP agora_blocks_total Blocks committed since the node started.
# TYPE agora_blocks_total counter
agora_blocks_total 1
# HELP agora_height Height of the last committed block.
# TYPE agora_height gauge
agora_height 1
# HELP agora_txs_committed_total Transactions committed in blocks, by result code.
# TYPE agora_txs_committed_total counter
agora_txs_committed_total{code="ok"} 2
`), "agora_blocks_total", "agora_height", "agora_txs_committed_total"); err != nil {
		t.Error(err)
	}

	// Validator 0 signs block 1's checkpoint as its vote extension; the
	// others' extensions verify, a tampered one does not.
	hash1 := sha256.Sum256([]byte("block 1"))
	h.app.proposals[string(hash1[:])] = &proposal{out: &ledger.Outcome{Header: head1}}
	ext, err := h.app.ExtendVote(ctx, &abci.RequestExtendVote{Hash: hash1[:], Height: 1})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := signLine(&head1, h.vals[0].note)
	if !bytes.Equal(ext.VoteExtension, want) {
		t.Errorf("vote extension %q, want %q", ext.VoteExtension, want)
	}
	line1, _ := signLine(&head1, h.vals[1].note)
	for _, tc := range []struct {
		name string
		val  *validator
		ext  []byte
		want abci.ResponseVerifyVoteExtension_VerifyStatus
	}{
		{"its own signature", h.vals[1], line1, abci.ResponseVerifyVoteExtension_ACCEPT},
		{"none", h.vals[1], nil, abci.ResponseVerifyVoteExtension_ACCEPT},
		{"another validator's signature", h.vals[2], line1, abci.ResponseVerifyVoteExtension_REJECT},
		{"garbage", h.vals[1], []byte("— x\n"), abci.ResponseVerifyVoteExtension_REJECT},
	} {
		res, err := h.app.VerifyVoteExtension(ctx, &abci.RequestVerifyVoteExtension{Hash: hash1[:], Height: 1, ValidatorAddress: tc.val.address(), VoteExtension: tc.ext})
		if err != nil || res.Status != tc.want {
			t.Errorf("VerifyVoteExtension of %s: %v, %v; want %v", tc.name, res, err, tc.want)
		}
	}
	clear(h.app.proposals)

	// Block 2 carries three validators' signatures of checkpoint 1 (and
	// drops a vote whose extension is not one): 30 of 40, more than two
	// thirds.
	last := h.votes(&head1, h.vals[0], h.vals[1], h.vals[3])
	last.Votes = append(last.Votes, abci.ExtendedVoteInfo{Validator: abci.Validator{Address: h.vals[2].address(), Power: 10},
		VoteExtension: line1, BlockIdFlag: cmtproto.BlockIDFlagCommit})
	fin2, txs2 := h.block([][]byte{h.anchor(2, "c")}, last)
	if !isSignatures(txs2[0]) || len(txs2) != 2 || len(fin2.TxResults) != 2 {
		t.Fatalf("block 2 has %d transactions, want the signatures first and the anchor", len(txs2))
	}
	sigs, _ := decodeSignatures(txs2[0])
	if sigs.height != 1 || len(sigs.lines) != 3 {
		t.Errorf("block 2 carries %d signatures of checkpoint %d, want 3 of 1", len(sigs.lines), sigs.height)
	}
	cp, _ := h.st.Checkpoint(1)
	cosigs, _ := h.st.Cosignatures(1)
	c, by, err := verify.NetworkCheckpoint(append(cp, cosigs...), h.g.Validators)
	if err != nil || c.Height != 1 || len(by) != 3 {
		t.Fatalf("stored checkpoint 1: %v signed by %d, %v; want height 1 by 3", c, len(by), err)
	}
	if bytes.Count(append(cp, cosigs...), []byte(line1)) != 1 {
		t.Error("validator 1's signature is stored more than once")
	}
	w, ok := (&Node{app: h.app}).Witnessed()
	if !ok || w.Height != 1 || w.LogSize != 2 {
		t.Errorf("Witnessed() = %+v, %v; want height 1, log size 2", w, ok)
	}

	// A proposal carrying a forged signature line is refused.
	head2 := h.app.Head()
	bad := h.votes(&head2, h.vals[1])
	badLine := bytes.Clone(bad.Votes[0].VoteExtension)
	badLine[len(badLine)-3] ^= 1
	hash := sha256.Sum256([]byte("forged"))
	res, err := h.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Hash: hash[:], Height: 3, Time: h.now().Add(time.Second),
		Txs: [][]byte{(&signatures{height: 2, lines: [][]byte{badLine}}).encode()}})
	if err != nil || res.Status != abci.ResponseProcessProposal_REJECT {
		t.Errorf("ProcessProposal with a forged checkpoint signature: %v, %v; want REJECT", res, err)
	}

	// Replay into a fresh store, finalizing without processing first.
	r := newHarness(t, t.TempDir())
	for i, blk := range []struct {
		txs  [][]byte
		want []byte
	}{{txs1, fin1.AppHash}, {txs2, fin2.AppHash}} {
		height := int64(i + 1)
		rec, err := h.st.Block(uint64(height))
		if err != nil {
			t.Fatal(err)
		}
		hash := sha256.Sum256(fmt.Appendf(nil, "replay %d", height))
		fin, err := r.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Txs: blk.txs, Hash: hash[:], Height: height, Time: time.UnixMilli(rec.Header.Time)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fin.AppHash, blk.want) {
			t.Errorf("replayed block %d: app hash %x, want %x", height, fin.AppHash, blk.want)
		}
		if _, err := r.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestValidatorUpdates checks that a governance decision changing the
// validator set reaches CometBFT as validator updates, and that the App
// then verifies the new validator's vote extensions.
func TestValidatorUpdates(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	acts := ledger.NewActions(govmod{})
	newcomer := newValidator(t, 4)
	newcomer.Power = 5
	add, err := acts.FromJSON("ledger.set_validator", mustJSON(t, newcomer.Validator))
	if err != nil {
		t.Fatal(err)
	}
	remove, err := acts.FromJSON("ledger.set_validator", mustJSON(t, ledger.Validator{Name: "org3", PubKey: h.vals[3].PubKey}))
	if err != nil {
		t.Fatal(err)
	}
	enact := func(seq uint64, a ...ledger.Action) []byte {
		body, err := tx.Marshal(&enactMsg{Actions: a})
		if err != nil {
			t.Fatal(err)
		}
		return h.sign(&tx.Tx{Version: tx.Version, ChainID: chain, Module: ledger.GovernanceModule, Type: "enact", Body: body,
			Signers: []tx.Signer{{Key: h.user.Public(), Sequence: seq}}, ExpiryHeight: 1000})
	}
	fin, _ := h.block([][]byte{enact(0, add, remove)}, abci.ExtendedCommitInfo{})
	if len(fin.TxResults) != 1 || fin.TxResults[0].Code != 0 {
		t.Fatalf("enact: %v", fin.TxResults)
	}
	got := map[string]int64{}
	for _, u := range fin.ValidatorUpdates {
		got[string(u.PubKey.GetEd25519())] = u.Power
	}
	if len(got) != 2 || got[string(newcomer.PubKey)] != 5 || got[string(h.vals[3].PubKey)] != 0 {
		t.Fatalf("validator updates %v, want the newcomer at 5 and org3 at 0", fin.ValidatorUpdates)
	}
	vs, err := ledger.Validators(h.st)
	if err != nil || len(vs) != 4 {
		t.Fatalf("validators in state: %d, %v; want 4", len(vs), err)
	}

	// The newcomer's vote extension now verifies; a block with no
	// change returns no updates.
	fin, _ = h.block(nil, abci.ExtendedCommitInfo{})
	if len(fin.ValidatorUpdates) != 0 {
		t.Errorf("a block without a change returns updates %v", fin.ValidatorUpdates)
	}
	head := h.app.Head()
	hash := sha256.Sum256([]byte("next"))
	h.app.proposals[string(hash[:])] = &proposal{out: &ledger.Outcome{Header: head}}
	line, _ := signLine(&head, newcomer.note)
	res, err := h.app.VerifyVoteExtension(context.Background(), &abci.RequestVerifyVoteExtension{Hash: hash[:], Height: int64(head.Height), ValidatorAddress: newcomer.address(), VoteExtension: line})
	if err != nil || res.Status != abci.ResponseVerifyVoteExtension_ACCEPT {
		t.Errorf("the new validator's extension: %v, %v", res, err)
	}
	clear(h.app.proposals)

	// After a restart the App knows the new set from the store.
	h.reopen(dir)
	h.app.mu.Lock()
	_, known := h.app.vals[string(newcomer.address())]
	_, gone := h.app.vals[string(h.vals[3].address())]
	h.app.mu.Unlock()
	if !known || gone {
		t.Errorf("after a restart: newcomer known %v, removed validator known %v", known, gone)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckTxDuringBlocks admits transactions on other goroutines while
// blocks are proposed and committed, as CometBFT's mempool connection
// does beside its consensus connection; with -race it checks the App's
// locking.
func TestCheckTxDuringBlocks(t *testing.T) {
	h := keysHarness(t, 4, 0)
	var keys []*tx.PrivateKey
	for w := range 4 {
		seed := sha256.Sum256(fmt.Appendf(nil, "worker %d", w))
		key, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		// Named in genesis, the workers have standing: every block takes
		// all that waits, however many (the free quota is TestQuota's).
		h.g.Accounts = append(h.g.Accounts, ledger.GenesisAccount{Label: fmt.Sprint("worker-", w), Key: key.Public()})
	}
	h.open(t.TempDir())
	done := make(chan struct{})
	admitted := make(chan []byte, 1000)
	var mempool sync.RWMutex
	var wg sync.WaitGroup
	for w, key := range keys {
		wg.Go(func() {
			for seq := uint64(0); seq < 50; seq++ {
				x := &tx.Tx{Version: tx.Version, ChainID: chain, Module: notary.Name, Type: "anchor",
					Body: anchorBody(t, fmt.Sprint(w, "/", seq)), Signers: []tx.Signer{{Key: key.Public(), Sequence: seq}}, ExpiryHeight: 1000}
				s, err := tx.Sign(x, key)
				if err != nil {
					t.Error(err)
					return
				}
				raw, _ := s.Encode()
				mempool.RLock()
				res, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw})
				if err == nil && res.Code == 0 {
					admitted <- raw
				}
				mempool.RUnlock()
				if err != nil || res.Code != 0 {
					t.Errorf("worker %d sequence %d: %v, %v", w, seq, res, err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	// As CometBFT does: CheckTx runs beside the proposal and finalizing,
	// but not beside Commit and the recheck that follows it (the mempool
	// is locked), and the transactions admitted meanwhile are rechecked
	// in order.
	var waiting [][]byte
	committed := 0
	for {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}
		waiting = append(waiting, drain(admitted)...)
		fin, _ := h.finalize(waiting, abci.ExtendedCommitInfo{})
		committed += len(fin.TxResults)
		mempool.Lock()
		h.commit()
		waiting = drain(admitted)
		for _, raw := range waiting {
			if res := h.checkTx(raw, abci.CheckTxType_Recheck); res.Code != 0 {
				t.Errorf("recheck: %v", res)
			}
		}
		mempool.Unlock()
		if finished && len(waiting) == 0 {
			break
		}
	}
	if committed != 200 {
		t.Errorf("committed %d transactions, want 200", committed)
	}
}

func drain(ch chan []byte) [][]byte {
	var out [][]byte
	for {
		select {
		case raw := <-ch:
			out = append(out, raw)
		default:
			return out
		}
	}
}

// TestSignState checks that a consensus key's sign state must exist, is
// written once, and keeps CometBFT's double-signing guard across restarts.
func TestSignState(t *testing.T) {
	home := t.TempDir()
	_, key, _ := ed25519.GenerateKey(nil)
	if _, err := signer(home, key); err == nil || !strings.Contains(err.Error(), "sign state") {
		t.Fatalf("a signer without its sign state: %v", err)
	}
	if err := InitSignState(home); err != nil {
		t.Fatal(err)
	}
	if err := InitSignState(home); err == nil {
		t.Fatal("InitSignState overwrote a sign state")
	}
	pv, err := signer(home, key)
	if err != nil {
		t.Fatal(err)
	}
	if pk, _ := pv.GetPubKey(); !bytes.Equal(pk.Bytes(), key.Public().(ed25519.PublicKey)) {
		t.Fatalf("the signer's key is %X", pk.Bytes())
	}
	vote := func(h int64) *cmtproto.Vote {
		return &cmtproto.Vote{Type: cmtproto.PrevoteType, Height: h, BlockID: cmtproto.BlockID{Hash: bytes.Repeat([]byte{byte(h)}, 32),
			PartSetHeader: cmtproto.PartSetHeader{Total: 1, Hash: bytes.Repeat([]byte{1}, 32)}}}
	}
	if err := pv.SignVote("chain", vote(5)); err != nil {
		t.Fatal(err)
	}
	restarted, err := signer(home, key) // as after a restart
	if err != nil {
		t.Fatal(err)
	}
	if restarted.LastSignState.Height != 5 {
		t.Fatalf("the sign state after a restart is at height %d, want 5", restarted.LastSignState.Height)
	}
	if err := restarted.SignVote("chain", vote(4)); err == nil {
		t.Fatal("signed a vote for a height below the last signed after a restart")
	}
	if _, err := os.Stat(filepath.Join(home, Dir, "config", "priv_validator_key.json")); err == nil {
		t.Fatal("the consensus key was written to a plain file")
	}
}

func TestNodeID(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	nk := p2p.NodeKey{PrivKey: cmted25519.PrivKey(key)}
	if got := NodeID(key.Public().(ed25519.PublicKey)); got != string(nk.ID()) || len(got) != 40 {
		t.Fatalf("NodeID = %q, CometBFT says %q", got, nk.ID())
	}
}

// TestCheckErrorCodes checks that a CheckTx refusal that Submit rebuilds
// from CometBFT's response keeps its stable code, for every code.
func TestCheckErrorCodes(t *testing.T) {
	for _, code := range ledger.Codes() {
		if code == "ok" || code == "internal" {
			continue
		}
		err := &checkError{code: code, msg: "refused"}
		if got := ledger.Code(err); got != code {
			t.Errorf("code %q comes back as %q", code, got)
		}
		if codeNumber(code) == 0 {
			t.Errorf("code %q has ABCI code 0, which means accepted", code)
		}
	}
}
