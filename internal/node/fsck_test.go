package node

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tx"
)

// fsckChain makes three blocks with successes, a module failure and a
// multi-block history, and returns the ID of a committed transaction.
func fsckChain(t *testing.T) (*env, tx.ID) {
	e := newEnv(t, Config{}, nil)
	alice, bob := key(t, "alice"), key(t, "bob")
	id := e.submit(anchor(t, alice, 0, "one"))
	e.submit(anchor(t, bob, 0, "one")) // conflict: included, failed
	e.produce()
	e.submit(anchor(t, alice, 1, "two"))
	e.produce()
	e.produce() // empty
	return e, id
}

func TestFsckPasses(t *testing.T) {
	e, _ := fsckChain(t)
	var progress []uint64
	rep, err := Fsck(e.st, newExec(t), e.g, e.verifier, func(h, head uint64) { progress = append(progress, h) })
	if err != nil {
		t.Fatal(err)
	}
	head := e.n.Head()
	if rep.Head != 3 || rep.Blocks != 4 || rep.Txs != 3 || string(rep.AppHash) != string(head.AppHash) {
		t.Errorf("report %+v, want head 3, 4 blocks, 3 txs and the head's app hash", rep)
	}
	// params, policy, two genesis accounts, two records.
	if rep.StateKeys != 6 {
		t.Errorf("report counts %d state keys, want 6", rep.StateKeys)
	}
	if len(progress) != 3 || progress[2] != 3 {
		t.Errorf("progress calls %v, want 1, 2, 3", progress)
	}
}

// tamper closes the env's store, changes the Pebble database directly
// (the key layout is documented in package store), and reopens it.
func tamper(t *testing.T, e *env, change func(db *pebble.DB)) {
	t.Helper()
	mustOK(t, e.st.Close(), "close")
	db, err := pebble.Open(e.dir, &pebble.Options{Logger: quietLogger{t}})
	mustOK(t, err, "open pebble")
	change(db)
	mustOK(t, db.Close(), "close pebble")
	st, err := store.Open(e.dir, discardLog())
	mustOK(t, err, "reopen")
	e.st = st
}

// quietLogger keeps Pebble's chatter out of the test output.
type quietLogger struct{ t *testing.T }

func (quietLogger) Infof(string, ...any)        {}
func (l quietLogger) Errorf(f string, a ...any) { l.t.Errorf("pebble: "+f, a...) }
func (l quietLogger) Fatalf(f string, a ...any) { l.t.Fatalf("pebble: "+f, a...) }

func stateKey(k string) []byte { return append([]byte("s"), k...) }
func blockKey(h uint64) []byte { return binary.BigEndian.AppendUint64([]byte("b"), h) }
func set(t *testing.T, db *pebble.DB, k, v []byte) {
	t.Helper()
	mustOK(t, db.Set(k, v, pebble.Sync), "set")
}

// getRecord and putRecord read and write a block as the store lays it
// out: header and results under "b", envelopes under "v" by leaf index.
type blockRecord struct {
	Header  ledger.Header   `cbor:"1,keyasint"`
	Results []ledger.Result `cbor:"2,keyasint"`
}

func getRecord(t *testing.T, db *pebble.DB, h uint64) *ledger.Record {
	t.Helper()
	v, closer, err := db.Get(blockKey(h))
	mustOK(t, err, "get block %d", h)
	defer closer.Close()
	var br blockRecord
	mustOK(t, tx.Unmarshal(v, &br), "decode block %d", h)
	rec := &ledger.Record{Header: br.Header, Results: br.Results}
	first := br.Header.LogSize - uint64(len(br.Results))
	for i := range br.Results {
		e, closer, err := db.Get(binary.BigEndian.AppendUint64([]byte("v"), first+uint64(i)))
		mustOK(t, err, "get envelope")
		rec.Txs = append(rec.Txs, append([]byte(nil), e...))
		closer.Close()
	}
	return rec
}

func putRecord(t *testing.T, db *pebble.DB, h uint64, rec *ledger.Record) {
	t.Helper()
	b, err := tx.Marshal(&blockRecord{Header: rec.Header, Results: rec.Results})
	mustOK(t, err, "encode")
	set(t, db, blockKey(h), b)
	first := rec.Header.LogSize - uint64(len(rec.Results))
	for i, e := range rec.Txs {
		set(t, db, binary.BigEndian.AppendUint64([]byte("v"), first+uint64(i)), e)
	}
}

func TestFsckDetectsTampering(t *testing.T) {
	alice := key(t, "alice")
	recordKey := func(doc string) string {
		return "notary/a/" + hexDigest(doc)
	}
	tests := []struct {
		name   string
		change func(t *testing.T, db *pebble.DB, id tx.ID)
		text   string
	}{
		{name: "state value changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			v, closer, err := db.Get(stateKey(recordKey("one")))
			mustOK(t, err, "get")
			b := append([]byte(nil), v...)
			closer.Close()
			b[len(b)-1] ^= 1
			set(t, db, stateKey(recordKey("one")), b)
		}, text: "stored value of"},
		{name: "state key added", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			set(t, db, stateKey(recordKey("forged")), []byte{0xa0})
		}, text: "is not in the replay"},
		{name: "state key deleted", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			mustOK(t, db.Delete(stateKey("ledger/acct/"+alice.Public().Address()), pebble.Sync), "delete")
		}, text: "lacks state \"ledger/acct/" + alice.Public().Address()},
		{name: "last state key deleted", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			mustOK(t, db.Delete(stateKey("notary/policy"), pebble.Sync), "delete")
		}, text: "lacks state \"notary/policy\""},
		{name: "transaction in a block changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			rec := getRecord(t, db, 2)
			rec.Txs[0] = anchor(t, alice, 1, "not two")
			putRecord(t, db, 2, rec)
		}, text: "block 2"},
		{name: "block header changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			rec := getRecord(t, db, 1)
			rec.Header.AppHash[0] ^= 1
			putRecord(t, db, 1, rec)
		}, text: "block 1: stored header differs"},
		{name: "genesis header changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			rec := getRecord(t, db, 0)
			rec.Header.Time++
			putRecord(t, db, 0, rec)
		}, text: "block 0 is not this genesis"},
		{name: "result of a failed transaction changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			rec := getRecord(t, db, 1)
			rec.Results[1] = ledger.Result{Code: "ok"}
			putRecord(t, db, 1, rec)
		}, text: "block 1: stored results differ"},
		{name: "block record corrupt", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			set(t, db, blockKey(2), []byte{0xff})
		}, text: "block 2"},
		{name: "block missing", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			mustOK(t, db.Delete(blockKey(2), pebble.Sync), "delete")
		}, text: "no block at height 2"},
		{name: "block above head", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			rec := getRecord(t, db, 3)
			rec.Header.Height = 4
			putRecord(t, db, 4, rec)
		}, text: "above the head"},
		{name: "index entry missing", change: func(t *testing.T, db *pebble.DB, id tx.ID) {
			mustOK(t, db.Delete(append([]byte("x"), id[:]...), pebble.Sync), "delete")
		}, text: "not indexed at its place"},
		{name: "checkpoint signature forged", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			k := binary.BigEndian.AppendUint64([]byte("c"), 2)
			v, closer, err := db.Get(k)
			mustOK(t, err, "get")
			b := append([]byte(nil), v...)
			closer.Close()
			b[len(b)-5] ^= 1 // inside the base64 signature
			set(t, db, k, b)
		}, text: "block 2 checkpoint"},
		{name: "checkpoint missing", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			mustOK(t, db.Delete(binary.BigEndian.AppendUint64([]byte("c"), 1), pebble.Sync), "delete")
		}, text: "no checkpoint at height 1"},
		{name: "log entry changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			set(t, db, binary.BigEndian.AppendUint64([]byte("e"), 0), []byte{0xa0})
		}, text: "log entry 0"},
		{name: "log entry beyond the log", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			set(t, db, binary.BigEndian.AppendUint64([]byte("e"), 99), []byte{0xa0})
		}, text: "beyond the log's size"},
		{name: "state map node deleted", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			mustOK(t, db.Delete([]byte("t"), pebble.Sync), "delete") // the root node
		}, text: "lacks state map node"},
		{name: "log node changed", change: func(t *testing.T, db *pebble.DB, _ tx.ID) {
			set(t, db, binary.BigEndian.AppendUint64([]byte{'n', 0}, 0), make([]byte, 32))
		}, text: "log node \"0/0\""},
		{name: "index entry for no transaction", change: func(t *testing.T, db *pebble.DB, id tx.ID) {
			v, closer, err := db.Get(append([]byte("x"), id[:]...))
			mustOK(t, err, "get")
			stray := append([]byte(nil), v...)
			closer.Close()
			id[0] ^= 1
			set(t, db, append([]byte("x"), id[:]...), stray)
		}, text: "index has 4 entries for 3 committed"},
		{name: "index entry moved", change: func(t *testing.T, db *pebble.DB, id tx.ID) {
			loc := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, 2), 0)
			set(t, db, append([]byte("x"), id[:]...), loc)
		}, text: "not indexed at its place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, id := fsckChain(t)
			tamper(t, e, func(db *pebble.DB) { tt.change(t, db, id) })
			_, err := Fsck(e.st, newExec(t), e.g, e.verifier, nil)
			if err == nil {
				t.Fatal("Fsck passed a tampered store")
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Fsck() = %v, want it to mention %q", err, tt.text)
			}
		})
	}
}

func TestFsckOtherGenesis(t *testing.T) {
	e, _ := fsckChain(t)
	g := *e.g
	g.Accounts = g.Accounts[:1]
	if _, err := Fsck(e.st, newExec(t), &g, e.verifier, nil); err == nil || !strings.Contains(err.Error(), "not this genesis") {
		t.Errorf("Fsck with another genesis = %v", err)
	}
	empty, err := store.Open(t.TempDir(), discardLog())
	mustOK(t, err, "open")
	defer empty.Close()
	if _, err := Fsck(empty, newExec(t), e.g, nil, nil); err == nil || !strings.Contains(err.Error(), "never initialised") {
		t.Errorf("Fsck of an empty store = %v", err)
	}
	if _, err := Init(e.st, newExec(t), e.g, []byte("g"), nil); err == nil {
		t.Error("Init of an initialised store succeeded")
	}
}

func hexDigest(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}
