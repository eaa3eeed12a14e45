package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// govmod stands in for the governance module: its "enact" message enacts
// the actions it carries (and then fails if asked to), its "revert"
// message reverts the changes the last enact recorded, and an enact with
// In set schedules its actions that many milliseconds later instead: its
// Due enacts them.
type govmod struct{}

type enactMsg struct {
	Actions []ledger.Action `cbor:"1,keyasint"`
	Fail    bool            `cbor:"2,keyasint,omitempty"`
	Revert  bool            `cbor:"3,keyasint,omitempty"`
	In      int64           `cbor:"4,keyasint,omitempty"`
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
	m := msg.(*enactMsg)
	if m.Revert {
		var changes []ledger.Change
		if _, err := ctx.KV.GetValue([]byte("changes"), &changes); err != nil {
			return err
		}
		kept, err := ctx.Revert(changes)
		if err != nil {
			return err
		}
		ctx.KV.Set([]byte("kept"), bytes.Join(kept, []byte(",")))
		return nil
	}
	if m.In != 0 {
		if err := ctx.KV.SetValue([]byte("due"), m.Actions); err != nil {
			return err
		}
		return ctx.Schedule(ctx.Block.Time.Add(time.Duration(m.In)*time.Millisecond), []byte("due"))
	}
	ctx.KV.Set([]byte("tried"), []byte("yes"))
	changes, err := ctx.Enact(m.Actions)
	if err != nil {
		ctx.KV.Set([]byte("failure"), []byte(err.Error()))
		return nil // recorded, and the governance module's own writes stay
	}
	if err := ctx.KV.SetValue([]byte("changes"), changes); err != nil {
		return err
	}
	if m.Fail {
		return fmt.Errorf("%w: asked to", ledger.ErrInvalid)
	}
	return nil
}

func (govmod) Due(ctx *ledger.Context, key []byte) error {
	var actions []ledger.Action
	if _, err := ctx.KV.GetValue(key, &actions); err != nil {
		return err
	}
	ctx.KV.Delete(key)
	if _, err := ctx.Enact(actions); err != nil {
		ctx.KV.Set([]byte("failure"), []byte(err.Error()))
	}
	return nil
}

func (govmod) Queries() []ledger.Query { return nil }

func (govmod) InitGenesis(*ledger.KV, json.RawMessage) error { return nil }

func (govmod) ExportGenesis(*ledger.KV) (json.RawMessage, error) { return nil, nil }

// testmod as a governed module: "testmod.put" writes a key, or fails
// after writing when Fail is set.
func (testmod) ActionTypes() []ledger.ActionType {
	return []ledger.ActionType{{Name: "put", Summary: "write a key", New: func() ledger.Msg { return new(putMsg) }}}
}

func (m testmod) ExecuteAction(ctx *ledger.Context, typ string, body ledger.Msg) error {
	return m.Execute(ctx, body)
}

func TestEnact(t *testing.T) {
	e, err := ledger.NewExecutor(testChain, testmod{}, govmod{})
	if err != nil {
		t.Fatal(err)
	}
	acts := e.Actions()
	if got := strings.Join(acts.Names(), " "); got != "ledger.set_params ledger.set_validator testmod.put" {
		t.Fatalf("action names %q", got)
	}
	put := func(k, v, fail string) ledger.Action {
		a, err := acts.FromJSON("testmod.put", []byte(fmt.Sprintf(`{"Key":%q,"Value":%q,"Fail":%q}`, k, v, fail)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	params, err := acts.FromJSON("ledger.set_params", []byte(`{"max_block_txs":5,"max_block_bytes":1048576}`))
	if err != nil {
		t.Fatal(err)
	}
	valKey := validatorKey(t, "org0")
	addVal, err := acts.FromJSON("ledger.set_validator", []byte(`{"name":"org0","pub_key":"`+b64(valKey)+`","power":10}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acts.FromJSON("ledger.set_params", []byte(`{"max_block_txs":0,"max_block_bytes":1}`)); !errors.Is(err, ledger.ErrInvalid) {
		t.Fatalf("invalid params: %v", err)
	}
	if _, err := acts.FromJSON("ledger.nope", []byte(`{}`)); !errors.Is(err, ledger.ErrInvalid) {
		t.Fatalf("unknown action: %v", err)
	}

	g := testGenesis(t)
	c, err := ledgertest.StartChain(t, e, g)
	if err != nil {
		t.Fatal(err)
	}
	st := c.State
	alice := keyFor(t, "alice", tx.Ed25519)
	block := func(module string, body any) *ledger.Outcome {
		t.Helper()
		typ := "enact"
		if module == "testmod" {
			typ = "put"
		}
		raw := c.Sign(&tx.Tx{Module: module, Type: typ, Body: ledgertest.Body(t, body), ExpiryHeight: 1000}, []*tx.PrivateKey{alice}, nil)
		out, err := c.DoRaw(raw, c.Next())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	get := func(k string) string { return string(st[k]) }

	t.Run("atomic success", func(t *testing.T) {
		out := block("gov", &enactMsg{Actions: []ledger.Action{put("a", "1", ""), params, addVal}})
		if !out.Results[0].OK() || get("testmod/a") != "1" {
			t.Fatalf("result %+v, a=%q", out.Results[0], get("testmod/a"))
		}
		p, err := ledger.GetParams(st)
		if err != nil || p.MaxBlockTxs != 5 {
			t.Fatalf("params %+v %v", p, err)
		}
		if len(out.ValidatorUpdates) != 1 || out.ValidatorUpdates[0].Power != 10 || out.ValidatorUpdates[0].Name != "org0" {
			t.Fatalf("validator updates %+v", out.ValidatorUpdates)
		}
		if ev := out.Results[0].Events; len(ev) != 2 || ev[0].Module != "testmod" || ev[1].Module != "ledger" {
			t.Fatalf("events %+v", ev)
		}
	})
	t.Run("atomic failure", func(t *testing.T) {
		out := block("gov", &enactMsg{Actions: []ledger.Action{put("b", "2", ""), put("c", "3", "nope")}})
		if !out.Results[0].OK() {
			t.Fatalf("result %+v", out.Results[0])
		}
		if _, ok := st["testmod/b"]; ok {
			t.Fatal("first action of a failed enactment kept its write")
		}
		if f := get("gov/failure"); !strings.Contains(f, "action 2 (testmod.put)") || !strings.Contains(f, "nope") {
			t.Fatalf("failure %q", f)
		}
	})
	t.Run("failed transaction discards enacted writes", func(t *testing.T) {
		out := block("gov", &enactMsg{Actions: []ledger.Action{put("d", "4", "")}, Fail: true})
		if out.Results[0].OK() {
			t.Fatal("transaction succeeded")
		}
		if _, ok := st["testmod/d"]; ok {
			t.Fatal("failed transaction's enacted write kept")
		}
	})
	t.Run("revert", func(t *testing.T) {
		block("gov", &enactMsg{Actions: []ledger.Action{put("a", "5", ""), put("e", "6", "")}})
		if get("testmod/a") != "5" || get("testmod/e") != "6" {
			t.Fatal("not enacted")
		}
		block("testmod", &putMsg{Key: "e", Value: "changed since"})
		block("gov", &enactMsg{Revert: true})
		if get("testmod/a") != "1" {
			t.Fatalf("a = %q after revert, want its old value 1", get("testmod/a"))
		}
		if get("testmod/e") != "changed since" || get("gov/kept") != "testmod/e" {
			t.Fatalf("e = %q, kept %q", get("testmod/e"), get("gov/kept"))
		}
	})
	t.Run("only governance enacts", func(t *testing.T) {
		ctx := &ledger.Context{}
		if _, err := ctx.Enact([]ledger.Action{put("x", "1", "")}); !errors.Is(err, ledger.ErrUnauthorized) {
			t.Fatalf("enact outside governance: %v", err)
		}
	})
	t.Run("last validator stays", func(t *testing.T) {
		rm, err := acts.FromJSON("ledger.set_validator", []byte(`{"name":"org0","pub_key":"`+b64(valKey)+`","power":0}`))
		if err != nil {
			t.Fatal(err)
		}
		block("gov", &enactMsg{Actions: []ledger.Action{rm}})
		if f := get("gov/failure"); !strings.Contains(f, "last validator") {
			t.Fatalf("failure %q", f)
		}
		vals, err := ledger.Validators(st)
		if err != nil || len(vals) != 1 {
			t.Fatalf("validators %+v %v", vals, err)
		}
	})
	t.Run("scheduled", func(t *testing.T) {
		block("gov", &enactMsg{Actions: []ledger.Action{put("ticked", "yes", "")}, In: 2000})
		if _, ok := st["testmod/ticked"]; ok {
			t.Fatal("enacted at once")
		}
		block("testmod", &putMsg{Key: "z", Value: "1"}) // +1 s: not yet due
		if _, ok := st["testmod/ticked"]; ok {
			t.Fatal("ran early")
		}
		block("testmod", &putMsg{Key: "z", Value: "2"}) // +2 s: due
		if get("testmod/ticked") != "yes" {
			t.Fatal("did not run")
		}
		if _, ok := st["gov/due"]; ok {
			t.Fatal("due item kept")
		}
	})
}

func TestGenesisValidators(t *testing.T) {
	e := newExecutor(t)
	g := testGenesis(t)
	g.Validators = []ledger.Validator{{Name: "org0", PubKey: validatorKey(t, "org0"), Power: 1}}
	gen, err := e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.State{}
	st.ApplyOutcome(gen)
	back, err := e.ExportGenesis(st, genesisTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Validators) != 1 || back.Validators[0].Name != "org0" {
		t.Fatalf("exported validators %+v", back.Validators)
	}
	for _, tc := range []struct {
		name string
		v    ledger.Validator
		want string
	}{
		{name: "short key", v: ledger.Validator{Name: "x", PubKey: []byte{1}, Power: 1}, want: "32-byte"},
		{name: "no power", v: ledger.Validator{Name: "x", PubKey: validatorKey(t, "org0")}, want: "no power"},
		{name: "no name", v: ledger.Validator{PubKey: validatorKey(t, "org0"), Power: 1}, want: "name"},
		{name: "small-order key", v: ledger.Validator{Name: "x", PubKey: make([]byte, 32), Power: 1}, want: "small order"},
		{name: "small-order note key", v: ledger.Validator{Name: "x", PubKey: validatorKey(t, "org0"), Power: 1,
			NoteKey: smallOrderNoteKey(t)}, want: "small order"},
		{name: "bad note key", v: ledger.Validator{Name: "x", PubKey: validatorKey(t, "org0"), Power: 1, NoteKey: "nope"}, want: "note key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis(t)
			g.Validators = []ledger.Validator{tc.v}
			if _, err := e.InitGenesis(g); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// validatorKey is a deterministic Ed25519 consensus key named name.
func validatorKey(t *testing.T, name string) []byte {
	t.Helper()
	seed := sha256.Sum256([]byte("agora ledger test validator " + name))
	k, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k.Public().Key
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// smallOrderNoteKey is a well-formed note verifier key whose Ed25519 key
// is the identity point, under which anyone can sign.
func smallOrderNoteKey(t *testing.T) string {
	t.Helper()
	identity := make([]byte, 32)
	identity[0] = 1
	vkey, err := note.NewEd25519VerifierKey("x", identity)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}
