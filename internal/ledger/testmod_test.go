package ledger_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
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

const testChain = ledgertest.ChainID

var genesisTime = ledgertest.GenesisTime

func newExecutor(t testing.TB) *ledger.Executor {
	t.Helper()
	e, err := ledger.NewExecutor(testChain, notary.Module{}, testmod{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// keyFor derives a fixed key from a name: SHA-256("agora/ledger-test/" ||
// name) is the private key.
func keyFor(t testing.TB, name string, alg tx.Alg) *tx.PrivateKey {
	t.Helper()
	return ledgertest.Key(keySeed, name, alg)
}

const keySeed = "agora/ledger-test/"

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

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
