package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tx"
)

const chain = "agora-test"

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func key(t testing.TB, name string) *tx.PrivateKey {
	seed := sha256.Sum256([]byte("agora/store-test/" + name))
	k, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func anchorTx(t testing.TB, k *tx.PrivateKey, seq uint64, doc string) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(doc))
	body, err := tx.Marshal(&notary.Anchor{SHA256: sum[:], MediaType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	x := &tx.Tx{Version: tx.Version, ChainID: chain, Module: "notary", Type: "anchor", Body: body,
		Signers: []tx.Signer{{Key: k.Public(), Sequence: seq}}, ExpiryHeight: 1000}
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

func txIDOf(t testing.TB, raw []byte) tx.ID {
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s.ID()
}

// view is everything a store answers: head, genesis hash, every
// block, the index entry of every transaction, and the state; read reads it.
type view struct {
	Head    uint64
	Genesis []byte
	Blocks  []*ledger.Record
	Index   map[string][2]int
	State   map[string]string
}

func read(t *testing.T, st *store.Store) view {
	t.Helper()
	h, ok, err := st.Head()
	if err != nil || !ok {
		t.Fatalf("Head() = %d, %v, %v", h, ok, err)
	}
	g, err := st.GenesisHash()
	if err != nil {
		t.Fatal(err)
	}
	v := view{Head: h, Genesis: g, Index: map[string][2]int{}, State: map[string]string{}}
	for i := uint64(0); i <= h; i++ {
		rec, err := st.Block(i)
		if err != nil {
			t.Fatal(err)
		}
		v.Blocks = append(v.Blocks, rec)
		for _, raw := range rec.Txs {
			id := txIDOf(t, raw)
			loc, err := st.FindTx(id)
			bh, bi := loc.Height, loc.Index
			if err != nil {
				t.Fatal(err)
			}
			v.Index[id.String()] = [2]int{int(bh), bi}
		}
	}
	if err := st.ScanState(func(k, val []byte) error {
		v.State[string(k)] = string(val)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCommitAndReopen builds a short chain through the executor, reading
// state from the store as a node does, and checks that a reopened store
// answers exactly as before.
func TestCommitAndReopen(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	exec, err := ledger.NewExecutor(chain, notary.Module{})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := key(t, "alice"), key(t, "bob")
	g := &ledger.Genesis{ChainID: chain, Time: t0, Params: ledger.DefaultParams(),
		Accounts: []ledger.GenesisAccount{{Label: "alice", Key: alice.Public()}}}
	gen, err := exec.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	genesisHash := sha256.Sum256([]byte("genesis file"))
	if err := st.Init(genesisHash[:], gen, nil); err != nil {
		t.Fatal(err)
	}
	prev := gen.Header
	var ids []tx.ID
	for h := uint64(1); h <= 4; h++ {
		txs := [][]byte{anchorTx(t, alice, h-1, fmt.Sprint("a", h)), anchorTx(t, bob, h-1, fmt.Sprint("a", h))} // bob's conflicts
		out, err := exec.Apply(st, &prev, ledger.Block{ChainID: chain, Height: h, Time: t0.Add(time.Duration(h) * time.Second)}, txs, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(out, nil); err != nil {
			t.Fatal(err)
		}
		for _, raw := range txs {
			ids = append(ids, txIDOf(t, raw))
		}
		prev = out.Header
	}
	before := read(t, st)
	if before.Head != 4 || len(before.Index) != 8 {
		t.Fatalf("head %d with %d indexed txs, want 4 and 8", before.Head, len(before.Index))
	}
	if diff := cmp.Diff(gen.Header, before.Blocks[0].Header); diff != "" {
		t.Errorf("block 0 is not the genesis header:\n%s", diff)
	}
	for i, id := range ids {
		loc, err := st.FindTx(id)
		h, idx := loc.Height, loc.Index
		if err != nil || h != uint64(i/2+1) || idx != i%2 {
			t.Errorf("FindTx(tx %d) = %d, %d, %v; want %d, %d", i, h, idx, err, i/2+1, i%2)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = open(t, dir)
	defer st.Close()
	after := read(t, st)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("reopened store differs (-before +after):\n%s", diff)
	}
	if !bytes.Equal(after.Genesis, genesisHash[:]) {
		t.Errorf("GenesisHash() = %x, want %x", after.Genesis, genesisHash)
	}
	if err := st.Init(genesisHash[:], gen, nil); err == nil {
		t.Error("Init of a reopened, initialised store succeeded")
	}
	if _, err := st.Block(5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Block(5) = %v, want ErrNotFound", err)
	}
	if _, err := st.FindTx(tx.ID{1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindTx(unknown) = %v, want ErrNotFound", err)
	}
	// The reopened store is a ledger.Reader the executor continues from.
	out, err := exec.Apply(st, &after.Blocks[4].Header, ledger.Block{ChainID: chain, Height: 5, Time: t0.Add(5 * time.Second)},
		[][]byte{anchorTx(t, alice, 4, "a5")}, false)
	if err != nil {
		t.Fatalf("applying block 5 on the reopened store: %v", err)
	}
	if err := st.Commit(out, nil); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := st.Head(); h != 5 {
		t.Errorf("head %d after block 5", h)
	}
}

func TestEmptyStore(t *testing.T) {
	st := open(t, t.TempDir())
	defer st.Close()
	if h, ok, err := st.Head(); ok || err != nil || h != 0 {
		t.Errorf("Head() of an empty store = %d, %v, %v; want 0, false, nil", h, ok, err)
	}
	if _, err := st.GenesisHash(); err == nil {
		t.Error("GenesisHash() of an empty store succeeded")
	}
	if _, err := st.Block(0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Block(0) = %v, want ErrNotFound", err)
	}
	if _, ok, err := st.Get([]byte("ledger/params")); ok || err != nil {
		t.Errorf("Get on an empty store = %v, %v", ok, err)
	}
}

func TestInitRefusesSecondTime(t *testing.T) {
	st := open(t, t.TempDir())
	defer st.Close()
	out := &ledger.Outcome{Header: ledger.Header{ChainID: chain}, Txs: [][]byte{}, Results: []ledger.Result{},
		Writes: []ledger.Write{{Key: []byte("k"), Value: []byte("1")}}}
	if err := st.Init([]byte("g1"), out, nil); err != nil {
		t.Fatal(err)
	}
	out2 := &ledger.Outcome{Header: ledger.Header{ChainID: chain}, Txs: [][]byte{}, Results: []ledger.Result{},
		Writes: []ledger.Write{{Key: []byte("k"), Value: []byte("2")}}}
	if err := st.Init([]byte("g2"), out2, nil); err == nil {
		t.Fatal("second Init succeeded")
	}
	if g, _ := st.GenesisHash(); string(g) != "g1" {
		t.Errorf("GenesisHash() = %q after a refused Init, want g1", g)
	}
	if v, _, _ := st.Get([]byte("k")); string(v) != "1" {
		t.Errorf("state k = %q after a refused Init, want 1", v)
	}
}

// stateOutcome is a block of state writes with no transactions, which is
// all the store needs to exercise its state.
func stateOutcome(h uint64, writes ...ledger.Write) *ledger.Outcome {
	return &ledger.Outcome{Header: ledger.Header{ChainID: chain, Height: h}, Txs: [][]byte{}, Results: []ledger.Result{}, Writes: writes}
}

func set(k, v string) ledger.Write { return ledger.Write{Key: []byte(k), Value: []byte(v)} }
func del(k string) ledger.Write    { return ledger.Write{Key: []byte(k)} }

type pair struct{ K, V string }

func scan(t *testing.T, r ledger.Reader, start, end []byte, limit int) []pair {
	t.Helper()
	out := []pair{}
	err := r.Iterate(start, end, func(k, v []byte) (bool, error) {
		out = append(out, pair{string(k), string(v)})
		return limit < 0 || len(out) < limit, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSnapshotIsolation(t *testing.T) {
	st := open(t, t.TempDir())
	defer st.Close()
	if err := st.Init([]byte("g"), stateOutcome(0, set("a", "1"), set("b", "2"), set("c", "3")), nil); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	defer snap.Close()
	if err := st.Commit(stateOutcome(1, set("a", "10"), del("b"), set("d", "4")), nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]pair{{"a", "1"}, {"b", "2"}, {"c", "3"}}, scan(t, snap, nil, nil, -1)); diff != "" {
		t.Errorf("snapshot sees a later commit (-want +got):\n%s", diff)
	}
	if v, ok, err := snap.Get([]byte("b")); !ok || err != nil || string(v) != "2" {
		t.Errorf("snapshot Get(b) = %q, %v, %v", v, ok, err)
	}
	if _, ok, _ := snap.Get([]byte("d")); ok {
		t.Error("snapshot sees d, written later")
	}
	if diff := cmp.Diff([]pair{{"a", "10"}, {"c", "3"}, {"d", "4"}}, scan(t, st, nil, nil, -1)); diff != "" {
		t.Errorf("store after commit (-want +got):\n%s", diff)
	}
	if _, ok, _ := st.Get([]byte("b")); ok {
		t.Error("deleted key b is still in the store")
	}
}

func TestIterateBounds(t *testing.T) {
	st := open(t, t.TempDir())
	defer st.Close()
	// Keys at the edges of the state's key space: the empty key, 0x00 and
	// 0xff bytes. Blocks, index and metadata live beside them in Pebble and
	// must never show up as state.
	writes := []ledger.Write{set("", "empty"), set("\x00", "zero"), set("a", "1"), set("a\x00", "1z"), set("ab", "2"), set("b", "3"), set("\xff", "ff"), set("\xff\xff", "ffff")}
	if err := st.Init([]byte("g"), stateOutcome(0, writes...), nil); err != nil {
		t.Fatal(err)
	}
	all := []pair{{"", "empty"}, {"\x00", "zero"}, {"a", "1"}, {"a\x00", "1z"}, {"ab", "2"}, {"b", "3"}, {"\xff", "ff"}, {"\xff\xff", "ffff"}}
	tests := []struct {
		name       string
		start, end []byte
		limit      int
		want       []pair
	}{
		{name: "everything", start: nil, end: nil, limit: -1, want: all},
		{name: "from a", start: []byte("a"), end: nil, limit: -1, want: all[2:]},
		{name: "a up to b", start: []byte("a"), end: []byte("b"), limit: -1, want: all[2:5]},
		{name: "prefix a", start: []byte("a"), end: []byte("a\x01"), limit: -1, want: all[2:4]},
		{name: "end is exclusive", start: []byte("ab"), end: []byte("b"), limit: -1, want: all[4:5]},
		{name: "from 0xff", start: []byte("\xff"), end: nil, limit: -1, want: all[6:]},
		{name: "empty range", start: []byte("b"), end: []byte("b"), limit: -1, want: []pair{}},
		{name: "stop after two", start: nil, end: nil, limit: 2, want: all[:2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, scan(t, st, tt.start, tt.end, tt.limit)); diff != "" {
				t.Errorf("store (-want +got):\n%s", diff)
			}
			snap := st.Snapshot()
			defer snap.Close()
			if diff := cmp.Diff(tt.want, scan(t, snap, tt.start, tt.end, tt.limit)); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
		})
	}
	boom := errors.New("boom")
	calls := 0
	err := st.Iterate(nil, nil, func(k, v []byte) (bool, error) {
		calls++
		return true, boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("Iterate with a failing fn = %v after %d calls, want boom after 1", err, calls)
	}
}

// TestModel commits random blocks of writes and deletes, checking the
// store against a map after every commit and after every reopen.
func TestModel(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	defer func() { st.Close() }()
	r := rand.New(rand.NewPCG(7, 7))
	model := map[string]string{}
	check := func(where string) {
		t.Helper()
		want := []pair{}
		keys := make([]string, 0, len(model))
		for k := range model {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			want = append(want, pair{k, model[k]})
		}
		if diff := cmp.Diff(want, scan(t, st, nil, nil, -1)); diff != "" {
			t.Fatalf("%s: state (-model +store):\n%s", where, diff)
		}
	}
	if err := st.Init([]byte("g"), stateOutcome(0), nil); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 60; h++ {
		batch := map[string]*string{}
		for range r.IntN(6) {
			k := fmt.Sprintf("k%02d", r.IntN(20))
			if r.IntN(3) == 0 {
				batch[k] = nil
			} else {
				v := fmt.Sprintf("v%d", r.IntN(1000))
				batch[k] = &v
			}
		}
		var ws []ledger.Write
		for k, v := range batch {
			if v == nil {
				ws = append(ws, del(k))
				delete(model, k)
			} else {
				ws = append(ws, set(k, *v))
				model[k] = *v
			}
		}
		sort.Slice(ws, func(i, j int) bool { return bytes.Compare(ws[i].Key, ws[j].Key) < 0 })
		if err := st.Commit(stateOutcome(h, ws...), nil); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("after block %d", h))
		if h%10 == 0 {
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = open(t, dir)
			check(fmt.Sprintf("after reopening at block %d", h))
			if head, _, _ := st.Head(); head != h {
				t.Fatalf("head %d after reopening, want %d", head, h)
			}
		}
	}
}

func TestCosignatures(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	if err := st.Init([]byte("g"), stateOutcome(0), []byte("checkpoint 0\n")); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 3; h++ {
		if err := st.Commit(stateOutcome(h), fmt.Appendf(nil, "checkpoint %d\n", h)); err != nil {
			t.Fatal(err)
		}
	}
	snap := st.Snapshot()
	defer snap.Close()
	add := func(h uint64, lines string) {
		t.Helper()
		if err := st.AddCosignatures(h, []byte(lines)); err != nil {
			t.Fatalf("AddCosignatures(%d, %q): %v", h, lines, err)
		}
	}
	add(1, "— a x\n")
	add(3, "— a y\n")
	add(1, "— b z\n")
	if err := st.AddCosignatures(4, []byte("— a q\n")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCosignatures to a height without a checkpoint: %v, want ErrNotFound", err)
	}
	if err := st.AddCosignatures(2, []byte("— a q")); err == nil {
		t.Error("AddCosignatures of a partial line succeeded")
	}
	if c, err := snap.Cosignatures(1); err != nil || c != nil {
		t.Errorf("a snapshot taken before sees cosignatures %q, %v", c, err)
	}

	st.Close()
	st = open(t, dir)
	defer st.Close()
	for _, c := range []struct {
		h    uint64
		want string
	}{{0, ""}, {1, "— a x\n— b z\n"}, {2, ""}, {3, "— a y\n"}} {
		got, err := st.Cosignatures(c.h)
		if err != nil || string(got) != c.want {
			t.Errorf("after reopening, Cosignatures(%d) = %q, %v; want %q", c.h, got, err, c.want)
		}
	}
	var seen []uint64
	err := st.ScanCosignatures(func(h uint64, lines []byte) (bool, error) {
		seen = append(seen, h)
		return true, nil
	})
	if err != nil || !slices.Equal(seen, []uint64{3, 1}) {
		t.Errorf("ScanCosignatures saw heights %v, %v; want [3 1]", seen, err)
	}
	seen = nil
	st.ScanCosignatures(func(h uint64, lines []byte) (bool, error) {
		seen = append(seen, h)
		return false, nil
	})
	if !slices.Equal(seen, []uint64{3}) {
		t.Errorf("ScanCosignatures went on after fn returned false: %v", seen)
	}
	// The cosignatures are not state.
	if got := scan(t, st, nil, nil, -1); len(got) != 0 {
		t.Errorf("state holds %v", got)
	}
}

// TestCommitCosigned checks that a block and the signatures of an earlier
// checkpoint it carries are stored together.
func TestCommitCosigned(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	if err := st.Init([]byte("g"), stateOutcome(0), []byte("checkpoint 0\n")); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(stateOutcome(1), []byte("checkpoint 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitCosigned(stateOutcome(2), []byte("checkpoint 2\n"), 1, []byte("— v1 x\n— v2 y\n")); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	if got, err := snap.Cosignatures(1); err != nil || string(got) != "— v1 x\n— v2 y\n" {
		t.Errorf("a snapshot after CommitCosigned: Cosignatures(1) = %q, %v", got, err)
	}
	snap.Close()
	if err := st.CommitCosigned(stateOutcome(3), []byte("checkpoint 3\n"), 1, []byte("— v3 z\n")); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitCosigned(stateOutcome(4), nil, 4, []byte("— v1 x\n")); err == nil {
		t.Error("CommitCosigned accepted signatures of its own block")
	}
	if err := st.CommitCosigned(stateOutcome(4), nil, 2, []byte("— v1 x")); err == nil {
		t.Error("CommitCosigned accepted a partial line")
	}
	st.Close()
	st = open(t, dir)
	defer st.Close()
	if h, _, err := st.Head(); err != nil || h != 3 {
		t.Fatalf("head = %d, %v; want 3", h, err)
	}
	if got, err := st.Cosignatures(1); err != nil || string(got) != "— v1 x\n— v2 y\n— v3 z\n" {
		t.Errorf("Cosignatures(1) = %q, %v", got, err)
	}
}
