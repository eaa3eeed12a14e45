package witness_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/witness"
)

// memStore backs a test log's tree.
type memStore map[compact.NodeID][]byte

func (m memStore) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m[id]
		if !ok {
			return nil, fmt.Errorf("node (%d, %d) not stored", id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

const origin = "agora.example/log"

// testLog is a log whose checkpoints a witness cosigns. Two testLogs with
// the same key seed are the same log's key: growing them differently
// forks the log.
type testLog struct {
	t      *testing.T
	origin string
	nodes  memStore
	size   uint64
	signer note.Signer
	vkey   string
}

func logKey(t *testing.T, name, seed string) (note.Signer, string) {
	t.Helper()
	h := sha256.Sum256([]byte(seed))
	key := ed25519.NewKeyFromSeed(h[:])
	s, err := tlog.NewSigner(name, key)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func newLog(t *testing.T) *testLog { return newLogAt(t, origin, "log key") }

// newLogAt returns an empty log with the given origin and key seed.
func newLogAt(t *testing.T, origin, seed string) *testLog {
	s, vkey := logKey(t, origin, seed)
	return &testLog{t: t, origin: origin, nodes: memStore{}, signer: s, vkey: vkey}
}

func (l *testLog) verifier() note.Verifier {
	l.t.Helper()
	v, err := note.NewVerifier(l.vkey)
	if err != nil {
		l.t.Fatal(err)
	}
	return v
}

// grow appends n entries named with prefix.
func (l *testLog) grow(prefix string, n int) *testLog {
	l.t.Helper()
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = tlog.LeafHash(fmt.Appendf(nil, "%s %d", prefix, l.size+uint64(i)))
	}
	_, writes, err := tlog.Append(l.nodes, l.size, leaves)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, w := range writes {
		l.nodes[w.ID] = w.Hash
	}
	l.size += uint64(n)
	return l
}

// fork returns a copy of l that grows separately.
func (l *testLog) fork() *testLog {
	c := *l
	c.nodes = memStore{}
	for id, h := range l.nodes {
		c.nodes[id] = h
	}
	return &c
}

func (l *testLog) root(n uint64) []byte {
	l.t.Helper()
	r, err := tlog.Root(l.nodes, n)
	if err != nil {
		l.t.Fatal(err)
	}
	return r
}

// checkpoint returns the log's signed checkpoint at size n.
func (l *testLog) checkpoint(n uint64) []byte {
	l.t.Helper()
	msg, err := tlog.Sign(&tlog.Checkpoint{Origin: l.origin, Size: n, Hash: l.root(n)}, l.signer)
	if err != nil {
		l.t.Fatal(err)
	}
	return msg
}

func (l *testLog) proof(m, n uint64) [][]byte {
	l.t.Helper()
	p, err := tlog.ConsistencyProof(l.nodes, m, n)
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a witness under test, with its state file and clock.
type env struct {
	t         *testing.T
	w         *witness.Witness
	state     *witness.FileState
	statePath string
	clock     *clock
	skey      string
	logs      []witness.Log
}

func newEnv(t *testing.T, logs ...witness.Log) *env {
	t.Helper()
	skey, _, err := witness.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, statePath: filepath.Join(t.TempDir(), "witness.json"), clock: &clock{t: time.Unix(1_700_000_000, 0)}, skey: skey, logs: logs}
	e.restart()
	return e
}

// restart opens the state file again and makes a new witness, as a
// restarted process would.
func (e *env) restart() {
	e.t.Helper()
	st, err := witness.OpenFileState(e.statePath)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := witness.NewCosigner(e.skey, e.clock.now)
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := witness.New(c, e.logs, st)
	if err != nil {
		e.t.Fatal(err)
	}
	e.w, e.state = w, st
}

// add submits l's checkpoint at size n, proving it from size old, and
// checks the cosignature on success.
func (e *env) add(l *testLog, old, n uint64) error {
	e.t.Helper()
	msg := l.checkpoint(n)
	before, beforeOK, _ := e.state.Latest(origin)
	cosig, err := e.w.AddCheckpoint(old, l.proof(min(old, n), n), msg)
	after, afterOK, _ := e.state.Latest(origin)
	if err != nil {
		if cosig != nil {
			e.t.Fatalf("AddCheckpoint returned a cosignature with %v", err)
		}
		if afterOK != beforeOK || after.Size != before.Size || !bytes.Equal(after.Hash, before.Hash) {
			e.t.Fatalf("refused AddCheckpoint(%d, %d) changed the state from %+v to %+v", old, n, before, after)
		}
		return err
	}
	if !afterOK || after.Size != n || !bytes.Equal(after.Hash, l.root(n)) {
		e.t.Fatalf("after cosigning size %d the state is %+v", n, after)
	}
	e.checkCosignature(msg, cosig)
	return nil
}

// checkCosignature verifies a cosignature line with transparency-dev's
// verifier and, independently, as C2SP tlog-cosignature spells it out.
func (e *env) checkCosignature(msg, cosig []byte) {
	e.t.Helper()
	v, err := fnote.NewVerifierForCosignatureV1(e.w.VerifierKey())
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := note.Open(append(bytes.Clone(msg), cosig...), note.VerifierList(v))
	if err != nil || len(n.Sigs) != 1 {
		e.t.Fatalf("formats' cosignature/v1 verifier refuses %q: %v", cosig, err)
	}
	if ts, err := fnote.CoSigV1Timestamp(n.Sigs[0]); err != nil || !ts.Equal(e.clock.now()) {
		e.t.Fatalf("cosignature timestamp %v, %v; want %v", ts, err, e.clock.now())
	}

	// By hand: "— <name> base64(keyID || timestamp || signature)\n".
	line, ok := strings.CutPrefix(string(cosig), "— witness.example/w1 ")
	line, ok2 := strings.CutSuffix(line, "\n")
	raw, err := base64.StdEncoding.DecodeString(line)
	if !ok || !ok2 || err != nil || len(raw) != 4+8+64 {
		e.t.Fatalf("cosignature line %q is not one signature line", cosig)
	}
	parts := strings.SplitN(e.w.VerifierKey(), "+", 3)
	name, key64 := parts[0], parts[2]
	key, _ := base64.StdEncoding.DecodeString(key64)
	if key[0] != 0x04 {
		e.t.Fatalf("verifier key type %#x, want 0x04", key[0])
	}
	id := sha256.Sum256(append([]byte(name+"\n"), key...))
	if !bytes.Equal(raw[:4], id[:4]) {
		e.t.Fatalf("key ID %x, want SHA-256(name || \\n || 0x04 || key)[:4] = %x", raw[:4], id[:4])
	}
	ts := binary.BigEndian.Uint64(raw[4:12])
	text := msg[:bytes.LastIndex(msg, []byte("\n\n"))+1]
	signed := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", ts, text)
	if ts != uint64(e.clock.now().Unix()) || !ed25519.Verify(key[1:], signed, raw[12:]) {
		e.t.Fatalf("the signature does not verify over %q", signed)
	}
}

func (e *env) latest() uint64 {
	e.t.Helper()
	tr, _, err := e.state.Latest(origin)
	if err != nil {
		e.t.Fatal(err)
	}
	return tr.Size
}

func wantConflict(t *testing.T, err error, known uint64) {
	t.Helper()
	var c *witness.ConflictError
	if !errors.As(err, &c) || !errors.Is(err, witness.ErrConflict) || c.Known != known {
		t.Fatalf("got %v, want a conflict with known size %d", err, known)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
}

func TestCosignsGrowingLog(t *testing.T) {
	l := newLog(t)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	steps := []struct{ old, size, grow uint64 }{
		{0, 0, 0}, // the empty log
		{0, 1, 1},
		{1, 1, 0}, // the same checkpoint again
		{1, 5, 4},
		{5, 8, 3},
		{8, 100, 92},
		{100, 1000, 900},
		{1000, 1001, 1},
		{1001, 4096, 3095},
		{4096, 5000, 904},
	}
	for _, s := range steps {
		l.grow("entry", int(s.grow))
		e.clock.advance(time.Second)
		if err := e.add(l, s.old, s.size); err != nil {
			t.Fatalf("old %d, size %d: %v", s.old, s.size, err)
		}
	}
}

// TestRefusesFork builds two logs with the same origin and key that agree
// on their first 10 entries and then differ, and shows the witness never
// cosigns the second history once it cosigned the first.
func TestRefusesFork(t *testing.T) {
	a := newLog(t).grow("entry", 10)
	b := a.fork()
	a.grow("entry", 10)
	b.grow("forged", 15)
	if bytes.Equal(a.root(20), b.root(20)) || !bytes.Equal(a.root(10), b.root(10)) {
		t.Fatal("the logs should agree at 10 and differ at 20")
	}
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{a.vkey}})
	if err := e.add(a, 0, 10); err != nil {
		t.Fatal(err)
	}
	if err := e.add(a, 10, 20); err != nil {
		t.Fatal(err)
	}

	t.Run("same size, another root", func(t *testing.T) {
		wantConflict(t, e.add(b, 20, 20), 20)
	})
	t.Run("fork's own proof from the witness's size", func(t *testing.T) {
		wantErr(t, e.add(b, 20, 25), witness.ErrInvalidProof)
	})
	t.Run("fork's valid proof from the common prefix", func(t *testing.T) {
		wantConflict(t, e.add(b, 10, 25), 20)
	})
	t.Run("fork's checkpoint with the true log's proof", func(t *testing.T) {
		_, err := e.w.AddCheckpoint(20, a.grow("entry", 5).proof(20, 25), b.checkpoint(25))
		wantErr(t, err, witness.ErrInvalidProof)
	})
	t.Run("fork presented as new", func(t *testing.T) {
		wantConflict(t, e.add(b, 0, 25), 20)
	})
	if e.latest() != 20 {
		t.Fatalf("the witness moved to size %d", e.latest())
	}
	// The true log goes on.
	if err := e.add(a, 20, 25); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesRewind shows the witness refuses to go back to a smaller
// tree, even a correct prefix of the one it cosigned.
func TestRefusesRewind(t *testing.T) {
	l := newLog(t).grow("entry", 30)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	if err := e.add(l, 0, 30); err != nil {
		t.Fatal(err)
	}
	_, err := e.w.AddCheckpoint(30, nil, l.checkpoint(15))
	wantErr(t, err, witness.ErrMalformed) // old size larger than the checkpoint's
	wantConflict(t, e.add(l, 15, 15), 30)
	wantConflict(t, e.add(l, 0, 15), 30)
	wantConflict(t, e.add(l, 10, 15), 30)
	if e.latest() != 30 {
		t.Fatalf("the witness moved to size %d", e.latest())
	}
}

func TestRefusesBadProofs(t *testing.T) {
	l := newLog(t).grow("entry", 100)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	if err := e.add(l, 0, 50); err != nil {
		t.Fatal(err)
	}
	good := l.proof(50, 100)
	flipped := make([][]byte, len(good))
	for i := range good {
		flipped[i] = bytes.Clone(good[i])
	}
	flipped[1][5] ^= 0x10
	tests := []struct {
		name  string
		old   uint64
		proof [][]byte
		size  uint64
		want  error
	}{
		{"flipped bit", 50, flipped, 100, witness.ErrInvalidProof},
		{"truncated", 50, good[:len(good)-1], 100, witness.ErrInvalidProof},
		{"extended", 50, append(append([][]byte{}, good...), good[0]), 100, witness.ErrInvalidProof},
		{"empty", 50, nil, 100, witness.ErrInvalidProof},
		{"proof for other sizes", 50, l.proof(50, 99), 100, witness.ErrInvalidProof},
		{"proof from another size", 50, l.proof(49, 100), 100, witness.ErrInvalidProof},
		{"non-empty proof for the same size", 50, [][]byte{l.root(50)}, 50, witness.ErrInvalidProof},
		{"64 proof hashes", 50, make([][]byte, 64), 100, witness.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.w.AddCheckpoint(tt.old, tt.proof, l.checkpoint(tt.size))
			wantErr(t, err, tt.want)
		})
	}
	if e.latest() != 50 {
		t.Fatalf("the witness moved to size %d", e.latest())
	}

	// A first checkpoint comes with an empty proof, and an empty tree with
	// the empty root.
	fresh := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	_, err := fresh.w.AddCheckpoint(0, [][]byte{l.root(1)}, l.checkpoint(50))
	wantErr(t, err, witness.ErrInvalidProof)
	badEmpty, _ := tlog.Sign(&tlog.Checkpoint{Origin: origin, Size: 0, Hash: l.root(1)}, l.signer)
	_, err = fresh.w.AddCheckpoint(0, nil, badEmpty)
	wantErr(t, err, witness.ErrInvalidProof)
}

func TestRefusesUnknownLogsAndBadSignatures(t *testing.T) {
	l := newLog(t).grow("entry", 10)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	text, _ := (&tlog.Checkpoint{Origin: origin, Size: 10, Hash: l.root(10)}).Marshal()

	other, _ := logKey(t, "other.example/log", "other key")
	unknown, _ := tlog.Sign(&tlog.Checkpoint{Origin: "other.example/log", Size: 10, Hash: l.root(10)}, other)
	impostor, _ := logKey(t, origin, "impostor key")
	byImpostor, _ := note.Sign(&note.Note{Text: string(text)}, impostor)
	good := l.checkpoint(10)
	sig := good[bytes.LastIndex(good, []byte("\n\n")):]
	tampered := append(fmt.Appendf(nil, "%s\n11\n%s\n", origin, base64.StdEncoding.EncodeToString(l.root(10))), sig...)
	cosigner, err := witness.NewCosigner(e.skey, e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	onlyCosigned, _ := note.Sign(&note.Note{Text: string(text)}, cosigner)
	nonCanonical, _ := note.Sign(&note.Note{Text: origin + "\n010\n" + base64.StdEncoding.EncodeToString(l.root(10)) + "\n"}, l.signer)
	shortHash, _ := note.Sign(&note.Note{Text: origin + "\n10\nAAAA\n"}, l.signer)

	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"unknown origin", unknown, witness.ErrUnknownLog},
		{"impostor key with the log's name", byImpostor, witness.ErrBadSignature},
		{"tampered body", tampered, witness.ErrBadSignature},
		{"only a witness signature", onlyCosigned, witness.ErrBadSignature},
		{"not a note", text, witness.ErrMalformed},
		{"empty", nil, witness.ErrMalformed},
		{"non-canonical body", nonCanonical, witness.ErrMalformed},
		{"short root hash", shortHash, witness.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.w.AddCheckpoint(0, nil, tt.msg)
			wantErr(t, err, tt.want)
		})
	}
	if _, ok, _ := e.state.Latest(origin); ok {
		t.Fatal("a refused checkpoint reached the state")
	}
	// Signatures by unknown keys beside the log's are ignored.
	stranger, _ := logKey(t, "someone.example/else", "someone")
	withExtra, _ := note.Sign(&note.Note{Text: string(text)}, l.signer, stranger)
	if _, err := e.w.AddCheckpoint(0, nil, withExtra); err != nil {
		t.Fatalf("an extra unknown signature: %v", err)
	}
}

func TestLogWithTwoKeys(t *testing.T) {
	l := newLog(t).grow("entry", 10)
	_, rotated := logKey(t, origin, "next key")
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{rotated, l.vkey}})
	if err := e.add(l, 0, 10); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	c, err := witness.NewCosigner(mustSkey(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := witness.OpenFileState(filepath.Join(t.TempDir(), "s.json"))
	_, vkey := logKey(t, origin, "k")
	for name, logs := range map[string][]witness.Log{
		"no origin": {{Keys: []string{vkey}}},
		"no keys":   {{Origin: origin}},
		"bad key":   {{Origin: origin, Keys: []string{"nonsense"}}},
		"duplicate": {{Origin: origin, Keys: []string{vkey}}, {Origin: origin, Keys: []string{vkey}}},
	} {
		if _, err := witness.New(c, logs, st); err == nil {
			t.Errorf("%s: New accepted %+v", name, logs)
		}
	}
}

func mustSkey(t *testing.T) string {
	skey, _, err := witness.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	return skey
}

func TestStateSurvivesRestart(t *testing.T) {
	l := newLog(t).grow("entry", 40)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	if err := e.add(l, 0, 10); err != nil {
		t.Fatal(err)
	}
	if err := e.add(l, 10, 20); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if e.latest() != 20 {
		t.Fatalf("after a restart the witness is at size %d, want 20", e.latest())
	}
	wantConflict(t, e.add(l, 0, 30), 20)
	wantConflict(t, e.add(l, 10, 30), 20)
	// A fork is still a fork after the restart.
	b := newLog(t).grow("entry", 10).grow("forged", 30)
	wantConflict(t, e.add(b, 20, 20), 20)
	if err := e.add(l, 20, 30); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if e.latest() != 30 {
		t.Fatalf("after a second restart the witness is at size %d, want 30", e.latest())
	}

	// The file is what the doc says, and no temporary file is left.
	b64 := base64.StdEncoding.EncodeToString(l.root(30))
	got, err := os.ReadFile(e.statePath)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("{\n\t\"logs\": {\n\t\t%q: {\n\t\t\t\"size\": 30,\n\t\t\t\"hash\": %q\n\t\t}\n\t}\n}\n", origin, b64)
	if string(got) != want {
		t.Fatalf("state file:\n%s\nwant:\n%s", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(e.statePath))
	if len(entries) != 1 {
		t.Fatalf("the state directory holds %d files, want only the state", len(entries))
	}
}

func TestOpenFileStateRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	hash := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, content := range map[string]string{
		"not JSON":      "size 10",
		"unknown field": `{"logs": {}, "extra": 1}`,
		"short hash":    `{"logs": {"o": {"size": 1, "hash": "AAAA"}}}`,
		"trailing data": `{"logs": {"o": {"size": 1, "hash": "` + hash + `"}}} {}`,
		"negative size": `{"logs": {"o": {"size": -1, "hash": "` + hash + `"}}}`,
		"truncated":     `{"logs": {"o": {"size": 1, "ha`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := witness.OpenFileState(path); err == nil {
			t.Errorf("%s: OpenFileState accepted %s", name, content)
		}
	}
	if _, err := witness.OpenFileState(filepath.Join(dir, "missing", "state.json")); err != nil {
		t.Errorf("a missing file is an empty state, got %v", err)
	}
}

// failingState fails every update.
type failingState struct{ witness.State }

func (failingState) Latest(string) (witness.Tree, bool, error) { return witness.Tree{}, false, nil }
func (failingState) Update(string, witness.Tree) error         { return errors.New("disk full") }

func TestNoCosignatureWithoutPersisting(t *testing.T) {
	l := newLog(t).grow("entry", 5)
	c, err := witness.NewCosigner(mustSkey(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(c, []witness.Log{{Origin: origin, Keys: []string{l.vkey}}}, failingState{})
	if err != nil {
		t.Fatal(err)
	}
	cosig, err := w.AddCheckpoint(0, nil, l.checkpoint(5))
	if err == nil || cosig != nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("AddCheckpoint with a failing state = %q, %v; want an internal error", cosig, err)
	}
}

// TestConcurrentRequests races requests that start from the same size:
// exactly one wins each round, and the witness never moves backwards.
func TestConcurrentRequests(t *testing.T) {
	l := newLog(t).grow("entry", 200)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	old := uint64(0)
	for round := range 10 {
		sizes := []uint64{old + 1, old + 5, old + 10, old + 10}
		type req struct {
			proof [][]byte
			msg   []byte
		}
		reqs := make([]req, len(sizes))
		for i, n := range sizes {
			reqs[i] = req{l.proof(old, n), l.checkpoint(n)}
		}
		var wg sync.WaitGroup
		errs := make([]error, len(sizes))
		for i := range reqs {
			wg.Go(func() { _, errs[i] = e.w.AddCheckpoint(old, reqs[i].proof, reqs[i].msg) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				if e.latest() < sizes[i] {
					t.Fatalf("round %d: cosigned size %d but the witness is at %d", round, sizes[i], e.latest())
				}
			case errors.Is(err, witness.ErrConflict):
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d requests won", round, won)
		}
		if e.latest() <= old {
			t.Fatalf("round %d: the witness went from %d to %d", round, old, e.latest())
		}
		old = e.latest()
	}
}
