package gov

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt from this run")

const testChain = "agora-test"

var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// keyFor derives a fixed key from a name.
func keyFor(name string) *tx.PrivateKey {
	seed := sha256.Sum256([]byte("agora/gov-test/" + name))
	k, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

func pubFor(name string) tx.PublicKey { return keyFor(name).Public() }

// memState is a committed ledger in memory.
type memState = ledgertest.State

// story runs the governance module in a real executor, one transaction
// per block, blocks a second apart, and writes what happens as a
// transcript.
type story struct {
	t     *testing.T
	e     *ledger.Executor
	state memState
	head  ledger.Header
	seq   map[string]uint64
	last  []byte // the last transaction, for a replay
	out   bytes.Buffer
	// advised holds the advice documents the users have given (advice).
	advised map[string]bool
}

func newStory(t *testing.T) *story {
	t.Helper()
	mod := Module{}
	mod.Actions = ledger.NewActions(mod)
	e, err := ledger.NewExecutor(testChain, mod)
	if err != nil {
		t.Fatal(err)
	}
	gj, err := json.Marshal(Demo(pubFor))
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.InitGenesis(&ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
		Modules: map[string]json.RawMessage{Name: gj}})
	if err != nil {
		t.Fatal(err)
	}
	s := &story{t: t, e: e, state: memState{}, head: out.Header, seq: map[string]uint64{}}
	s.state.ApplyOutcome(out)
	return s
}

func (s *story) logf(format string, args ...any) { fmt.Fprintf(&s.out, format+"\n", args...) }

// elapsed is the time since genesis of the last block.
func (s *story) elapsed() time.Duration {
	return time.UnixMilli(s.head.Time).Sub(genesisTime)
}

func (s *story) block(txs [][]byte) *ledger.Outcome {
	s.t.Helper()
	b := ledger.Block{ChainID: testChain, Height: s.head.Height + 1, Time: time.UnixMilli(s.head.Time).UTC().Add(time.Second)}
	out, err := s.e.Apply(s.state, &s.head, b, txs, false)
	if err != nil {
		s.t.Fatalf("block %d: %v", b.Height, err)
	}
	s.state.ApplyOutcome(out)
	s.head = out.Header
	return out
}

// wait lets n seconds pass in empty blocks.
func (s *story) wait(n int) {
	s.t.Helper()
	for range n {
		s.block(nil)
	}
	s.logf("... %ds pass (t=%s)", n, s.elapsed())
}

// sign builds a transaction of module's typ signed by the named keys.
func (s *story) sign(signers []string, module, typ string, msg ledger.Msg) []byte {
	s.t.Helper()
	body, err := tx.Marshal(msg)
	if err != nil {
		s.t.Fatal(err)
	}
	x := &tx.Tx{Version: tx.Version, ChainID: testChain, Module: module, Type: typ, Body: body, ExpiryHeight: s.head.Height + 10}
	keys := make([]*tx.PrivateKey, len(signers))
	for i, n := range signers {
		keys[i] = keyFor(n)
		x.Signers = append(x.Signers, tx.Signer{Key: keys[i].Public(), Sequence: s.seq[n]})
	}
	signed, err := tx.Sign(x, keys...)
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := signed.Encode()
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

// do applies one transaction in a block of its own, writes the step and
// its result to the transcript, and returns the result. A refused
// transaction must change nothing but its signers' sequence numbers: the
// block's writes must be those of the same block without it.
func (s *story) do(signers string, typ string, msg ledger.Msg) ledger.Result {
	s.t.Helper()
	return s.doIn(Name, signers, typ, msg)
}

// doIn is do for a message of module (the ledger's own pending actions).
func (s *story) doIn(module, signers string, typ string, msg ledger.Msg) ledger.Result {
	s.t.Helper()
	names := strings.Split(signers, ",")
	raw := s.sign(names, module, typ, msg)
	b := ledger.Block{ChainID: testChain, Height: s.head.Height + 1, Time: time.UnixMilli(s.head.Time).UTC().Add(time.Second)}
	out, err := s.e.Apply(s.state, &s.head, b, [][]byte{raw}, false)
	if err != nil {
		s.t.Fatalf("block %d: %v", b.Height, err)
	}
	r := out.Results[0]
	if !r.OK() {
		without, err := s.e.Apply(s.state, &s.head, b, nil, false)
		if err != nil {
			s.t.Fatal(err)
		}
		if diff := cmp.Diff(writesBut(without.Writes, "ledger/acct/"), writesBut(out.Writes, "ledger/acct/")); diff != "" {
			s.t.Errorf("refused %s changed state (-without +with):\n%s", typ, diff)
		}
	}
	s.state.ApplyOutcome(out)
	s.head = out.Header
	for _, n := range names {
		s.seq[n]++
	}
	s.last = raw
	res := "ok"
	if !r.OK() {
		res = r.Code + ": " + r.Error
	}
	s.logf("> %s: %s %s\n  %s", signers, typ, describe(msg), res)
	return r
}

func writesBut(ws []ledger.Write, prefix string) map[string]string {
	out := map[string]string{}
	for _, w := range ws {
		if !strings.HasPrefix(string(w.Key), prefix) {
			out[string(w.Key)] = fmt.Sprintf("%x", w.Value)
		}
	}
	return out
}

// must is do, requiring success.
func (s *story) must(signers, typ string, msg ledger.Msg) {
	s.t.Helper()
	if r := s.do(signers, typ, msg); !r.OK() {
		s.t.Fatalf("%s by %s: %s", typ, signers, r.Error)
	}
}

// refused is do, requiring the error code.
func (s *story) refused(code, signers, typ string, msg ledger.Msg) {
	s.t.Helper()
	if r := s.do(signers, typ, msg); r.Code != code {
		s.t.Fatalf("%s by %s: got %s (%s), want %s", typ, signers, r.Code, r.Error, code)
	}
}

// replay submits the last transaction's bytes again: the block that holds
// it is invalid.
func (s *story) replayLast() {
	s.t.Helper()
	b := ledger.Block{ChainID: testChain, Height: s.head.Height + 1, Time: time.UnixMilli(s.head.Time).UTC().Add(time.Second)}
	_, err := s.e.Apply(s.state, &s.head, b, [][]byte{s.last}, false)
	if err == nil {
		s.t.Fatal("a replayed transaction was accepted")
	}
	s.logf("> replay of the last transaction\n  refused: %s", ledger.Code(err))
}

func (s *story) view() *machine {
	return reader(ledger.NewReadView(s.state, Name, nil))
}

func (s *story) change(id uint64) *Change {
	s.t.Helper()
	c, err := s.view().change(id)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// showChange writes a change's status and timeline.
func (s *story) showChange(id uint64) *Change {
	s.t.Helper()
	c := s.change(id)
	s.logf("= change %d %q: %s (round %d)", c.ID, c.Title, c.Status, c.Round)
	for _, st := range c.Timeline {
		s.logf("    %s  %s%s%s", time.UnixMilli(int64(st.Time)).Sub(genesisTime), st.What, prefix(" by ", st.By), prefix(": ", st.Note))
	}
	return c
}

func prefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func (s *story) params() ledger.Params {
	s.t.Helper()
	p, err := ledger.GetParams(s.state)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// describe summarises a message for the transcript.
func describe(m ledger.Msg) string {
	switch m := m.(type) {
	case *ledger.ProposeAction:
		inner, err := Module{}.Decode(m.Type, m.Body)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("as=%s ttl=%s: %s %s", m.Principal, time.Duration(m.TTL)*time.Millisecond, m.Type, describe(inner))
	case *ledger.Approve:
		return fmt.Sprintf("id=%d", m.ID)
	case *SetMembers:
		names := make([]string, len(m.Members))
		for i, mb := range m.Members {
			names[i] = mb.Name
		}
		return fmt.Sprintf("as=%s members=%s threshold=%d", m.As, strings.Join(names, ","), m.Threshold)
	case *Propose:
		return fmt.Sprintf("as=%s resource=%s %q", m.As, m.Resource, m.Doc.Title)
	case *Advise:
		return fmt.Sprintf("as=%s about=%s %q", m.As, short(m.About), m.Doc.Title)
	case *Draft:
		return fmt.Sprintf("%q actions=%s", m.Doc.Title, actionNames(m.Actions))
	case *Revise:
		return fmt.Sprintf("change=%d %q actions=%s", m.Change, m.Doc.Title, actionNames(m.Actions))
	case *CastVote:
		return fmt.Sprintf("change=%d %s", m.Change, m.Choice)
	case *Comment:
		return fmt.Sprintf("change=%d as=%s %q", m.Change, m.As, m.Doc.Title)
	case *OpenReview:
		return fmt.Sprintf("change=%d", m.Change)
	case *Object:
		return fmt.Sprintf("change=%d as=%s %q", m.Change, m.As, m.Doc.Title)
	case *RequestReview:
		return fmt.Sprintf("change=%d as=%s", m.Change, m.As)
	case *AssignPanel:
		return fmt.Sprintf("review=%d panel=%d threshold=%d", m.Review, len(m.Panel), m.Threshold)
	case *Declare:
		return fmt.Sprintf("review=%d %s", m.Review, m.Decision)
	case *Act:
		return fmt.Sprintf("%q actions=%s consulted=%s", m.Title, actionNames(m.Actions), m.Consulted)
	case *VerifyEmergency:
		return fmt.Sprintf("emergency=%d as=%s", m.Emergency, m.As)
	case *PetitionMsg:
		if m.Petition != 0 {
			return fmt.Sprintf("petition=%d as=%s", m.Petition, m.As)
		}
		return fmt.Sprintf("power=%s target=%d as=%s", m.Power, m.Target, m.As)
	case *Appoint:
		return fmt.Sprintf("as=%s seat=%d director=%s", m.As, m.Seat, m.Director.Name)
	case *SetEntry:
		return fmt.Sprintf("resource=%s key=%s value=%q", m.Resource, m.Key, m.Value)
	case *Report:
		return fmt.Sprintf("as=%s kind=%s %q", m.As, m.Kind, m.Doc.Title)
	case *CreateGroup:
		return fmt.Sprintf("id=%s theme=%q director=%s", m.ID, m.Theme, m.Director.Name)
	case *Agenda:
		return fmt.Sprintf("group=%s item=%d status=%s %q", m.Group, m.Item, m.Status, m.Title+m.Progress)
	case *SendOutcome:
		return fmt.Sprintf("group=%s to=%s %q", m.Group, m.To, m.Doc.Title)
	case *Withdraw:
		return fmt.Sprintf("change=%d %q", m.Change, m.Doc.Title)
	case *Cancel:
		return fmt.Sprintf("change=%d %q", m.Change, m.Doc.Title)
	}
	return fmt.Sprintf("%T", m)
}

func short(s string) string {
	if validDigest(s) {
		return s[:12]
	}
	return s
}

func actionNames(acts []ledger.Action) string {
	names := make([]string, len(acts))
	for i := range acts {
		names[i] = acts[i].Name()
	}
	return strings.Join(names, ",")
}

// golden compares the transcript with testdata/name, or rewrites it.
func (s *story) golden(name string) {
	s.t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, s.out.Bytes(), 0o644); err != nil {
			s.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), s.out.String()); diff != "" {
		s.t.Errorf("transcript %s differs (-want +got; -update rewrites it):\n%s", path, diff)
	}
}

func doc(title string) DocRef { return NewDocRef(title, title+": the full text.") }

func action(t *testing.T, e *ledger.Executor, name, body string) ledger.Action {
	t.Helper()
	a, err := e.Actions().FromJSON(name, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func member(name string) Member {
	k := pubFor(name)
	return Member{Name: name, Key: &k}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
