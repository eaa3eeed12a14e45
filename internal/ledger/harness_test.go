package ledger_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// testmod is a module for tests only. Its "put" message writes a key and
// then, if asked to, fails, so a test can show that a failed transaction's
// writes vanish while its sequence is still consumed.
type testmod struct{}

type putMsg struct {
	Key   string `cbor:"1,keyasint"`
	Value string `cbor:"2,keyasint"`
	// Fail, if set, makes Execute fail with ErrInvalid and this reason
	// after it has written.
	Fail string `cbor:"3,keyasint,omitempty"`
}

func (m *putMsg) Validate() error {
	if m.Key == "" {
		return fmt.Errorf("%w: empty key", ledger.ErrInvalid)
	}
	return nil
}

func (testmod) Name() string { return "testmod" }

func (testmod) Decode(typ string, body []byte) (ledger.Msg, error) {
	if typ != "put" {
		return nil, fmt.Errorf("%w %q", ledger.ErrUnknownType, typ)
	}
	var m putMsg
	if err := tx.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("put: %w", err)
	}
	return &m, m.Validate()
}

func (testmod) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	m := msg.(*putMsg)
	ctx.KV.Set([]byte(m.Key), []byte(m.Value))
	ctx.Emit("put", ledger.Attr{Key: "key", Value: m.Key})
	if m.Fail != "" {
		return fmt.Errorf("testmod: %w: %s", ledger.ErrInvalid, m.Fail)
	}
	return nil
}

func (testmod) Queries() []ledger.Query { return nil }

// Standing implements ledger.Stander: a key has standing once "stand/"
// and its address is a key of the module (a stand-in for a DID).
func (testmod) Standing(kv *ledger.KV, key tx.PublicKey, _ time.Time) (bool, error) {
	_, ok, err := kv.Get([]byte("stand/" + key.Address()))
	return ok, err
}

// Its genesis section is a JSON object of keys and values.
func (testmod) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv.Set([]byte(k), []byte(m[k]))
	}
	return nil
}

func (testmod) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	m := map[string]string{}
	err := kv.Iterate(nil, func(k, v []byte) (bool, error) {
		m[string(k)] = string(v)
		return true, nil
	})
	if err != nil || len(m) == 0 {
		return nil, err
	}
	return json.Marshal(m)
}

const testChain = "agora-test"

var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newExecutor(t testing.TB) *ledger.Executor {
	t.Helper()
	e, err := ledger.NewExecutor(testChain, notary.Module{}, testmod{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// initChain loads g into e and returns the state and the header that
// block 1 follows.
func initChain(t testing.TB, e *ledger.Executor, g *ledger.Genesis) (memState, ledger.Header) {
	t.Helper()
	gen, err := e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	st := memState{}
	st.applyOutcome(gen)
	return st, gen.Header
}

// keyFor derives a fixed key from a name: SHA-256("agora/ledger-test/" ||
// name) is the private key.
func keyFor(t testing.TB, name string, alg tx.Alg) *tx.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("agora/ledger-test/" + name))
	k, err := tx.NewPrivateKey(alg, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// memState is a committed ledger in memory: a ledger.Reader. State keys
// are stored as they are; the state map's nodes and the log's node hashes
// under keys beginning with 0xff, which no state key does.
type memState map[string][]byte

const (
	mapNodePrefix = "\xffn"
	logNodePrefix = "\xffh"
)

func (m memState) GetNode(path []byte) ([]byte, bool, error) {
	v, ok := m[mapNodePrefix+string(path)]
	return v, ok, nil
}

func (m memState) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m[fmt.Sprintf("%s%d/%d", logNodePrefix, id.Level, id.Index)]
		if !ok {
			return nil, fmt.Errorf("no log node %d/%d", id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

// withoutLog returns the state and the state map's nodes, without the
// log's.
func (m memState) withoutLog() memState {
	out := memState{}
	for k, v := range m {
		if !strings.HasPrefix(k, logNodePrefix) {
			out[k] = v
		}
	}
	return out
}

// applyOutcome applies a block's state writes and node writes.
func (m memState) applyOutcome(out *ledger.Outcome) {
	m.apply(out.Writes)
	for _, w := range out.MapNodes {
		if w.Node == nil {
			delete(m, mapNodePrefix+string(w.Path))
		} else {
			m[mapNodePrefix+string(w.Path)] = w.Node
		}
	}
	for _, n := range out.LogNodes {
		m[fmt.Sprintf("%s%d/%d", logNodePrefix, n.ID.Level, n.ID.Index)] = n.Hash
	}
}

func (m memState) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return v, ok, nil
}

func (m memState) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	for _, k := range m.keys() {
		if k < string(start) || (end != nil && k >= string(end)) {
			continue
		}
		if more, err := fn([]byte(k), m[k]); err != nil || !more {
			return err
		}
	}
	return nil
}

// keys returns the state keys, sorted.
func (m memState) keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		if !strings.HasPrefix(k, "\xff") {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

func (m memState) apply(ws []ledger.Write) {
	for _, w := range ws {
		if w.Value == nil {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
}

// txSpec describes a transaction to build and sign.
type txSpec struct {
	signers   []*tx.PrivateKey
	seqs      []uint64
	chain     string
	module    string
	typ       string
	body      []byte
	expHeight uint64
	expTime   int64
}

func signTx(t testing.TB, s txSpec) []byte {
	t.Helper()
	x := &tx.Tx{
		Version: tx.Version, ChainID: s.chain, Module: s.module, Type: s.typ, Body: s.body,
		ExpiryHeight: s.expHeight, ExpiryTime: s.expTime,
	}
	for i, k := range s.signers {
		x.Signers = append(x.Signers, tx.Signer{Key: k.Public(), Sequence: s.seqs[i]})
	}
	signed, err := tx.Sign(x, s.signers...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signed.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func anchorBody(t testing.TB, sum []byte, media, desc string) []byte {
	t.Helper()
	b, err := tx.Marshal(&notary.Anchor{SHA256: sum, MediaType: media, Description: desc})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putBody(t testing.TB, key, value, fail string) []byte {
	t.Helper()
	b, err := tx.Marshal(&putMsg{Key: key, Value: value, Fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// describeValue renders a state value for transcripts, decoding the
// values whose layout the ledger and the notary document.
func describeValue(key string, v []byte) string {
	switch {
	case key == "ledger/params":
		var p ledger.Params
		if tx.Unmarshal(v, &p) == nil {
			s := fmt.Sprintf("params max_block_txs=%d max_block_bytes=%d", p.MaxBlockTxs, p.MaxBlockBytes)
			if p.MaxTxBytes != 0 {
				s += fmt.Sprintf(" max_tx_bytes=%d", p.MaxTxBytes)
			}
			if p.FreeBlockTxs != nil {
				s += fmt.Sprintf(" free_block_txs=%d", *p.FreeBlockTxs)
			}
			if p.FreeBlockBytes != nil {
				s += fmt.Sprintf(" free_block_bytes=%d", *p.FreeBlockBytes)
			}
			return s
		}
	case strings.HasPrefix(key, "ledger/acct/"):
		var a ledger.Account
		if tx.Unmarshal(v, &a) == nil {
			s := fmt.Sprintf("account %s seq=%d", a.Key.Alg, a.Sequence)
			if a.Label != "" {
				s += " label=" + a.Label
			}
			return s
		}
	case key == "notary/policy":
		var p notary.Policy
		if tx.Unmarshal(v, &p) == nil {
			s := "policy " + p.Mode
			if len(p.Allowed) > 0 {
				s += " allowed=" + strings.Join(p.Allowed, ",")
			}
			return s
		}
	case strings.HasPrefix(key, "notary/a/"):
		var r notary.Record
		if tx.Unmarshal(v, &r) == nil {
			s := fmt.Sprintf("record owner=%s media=%s height=%d time=%s tx=%s", r.Owner.Address(), r.MediaType, r.Height,
				time.UnixMilli(r.Time).UTC().Format(time.RFC3339Nano), r.TxID)
			if r.Description != "" {
				s += fmt.Sprintf(" desc=%q", r.Description)
			}
			return s
		}
	}
	if len(v) > 64 {
		return fmt.Sprintf("(%d bytes)", len(v))
	}
	return fmt.Sprintf("%q", v)
}

func hexID(b []byte) string { return hex.EncodeToString(b) }

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
