package consent

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
)

// seeded is a deterministic stand-in for the holder's randomness: the
// SHA-256 stream of a seed.
type seeded struct {
	seed string
	n    int
	buf  []byte
}

func (s *seeded) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) {
		h := sha256.Sum256([]byte(s.seed + "/" + strconv.Itoa(s.n)))
		s.n++
		s.buf = append(s.buf, h[:]...)
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// TestTranscripts runs the stories in testdata/*.txt with the one
// transcript runner (package ledgertest, whose documentation lists the
// commands), with the identity module beside consent. The stories extend
// it:
//
//	do NAME identity create
//	    a DID whose controller key is NAME's; <did:NAME>.
//	do SIGNERS consent create terms=T
//	    the contract of the terms testdata/terms/T.json (placeholders
//	    expanded; nonce and salts drawn from T), shown as <contract:T>.
//	do SIGNERS consent use terms=T event=E items=I,J [purpose=P]
//	        [recipient=R] [place=L] [as=T2] [rules=omit|tamper]
//	    the controller of T asks for E, proving the decision at the next
//	    block's time from the contract's counts (as=T2: presenting T2's
//	    controller DID and salt; rules=omit leaves out the opening of the
//	    rule before the deciding one, tamper raises the deciding rule's
//	    count).
//	do SIGNERS consent transfer terms=T child=C items=I,... [purpose=P]
//	        [recipient=R] [place=L] [tamper=subject|item|expiry]
//	    a transfer to the controller of C (testdata/terms/C.json holds
//	    its controller and rules), deriving <contract:C>; tamper makes
//	    the child's subject, first item or expiry other than its parent's.
//	do SIGNERS consent revoke terms=T [as=T2]
//	    the subject of T (or of T2) revokes T's contract.
func TestTranscripts(t *testing.T) {
	terms := map[string]*Terms{}
	load := func(r *ledgertest.Runner, name string) *Terms {
		b, err := os.ReadFile(filepath.Join("testdata", "terms", name+".json"))
		if err != nil {
			r.Fatalf("%v", err)
		}
		var tm Terms
		if err := json.Unmarshal([]byte(r.Expand(string(b))), &tm); err != nil {
			r.Fatalf("%s: %v", name, err)
		}
		return &tm
	}
	get := func(r *ledgertest.Runner, name string) *Terms {
		tm, ok := terms[name]
		if !ok {
			r.Fatalf("no terms %q created", name)
		}
		return tm
	}
	items := func(r *ledgertest.Runner, a *ledgertest.Args) []uint32 {
		var out []uint32
		for _, s := range a.List("items") {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				r.Fatalf("items: %v", err)
			}
			out = append(out, uint32(n))
		}
		return out
	}
	request := func(a *ledgertest.Args, event string) Request {
		return Request{Event: event, Purpose: a.Get("purpose", ""), Recipient: a.Get("recipient", ""), Place: a.Get("place", "")}
	}
	// counts are the contract's counts now: what its controller reads
	// before it proves a decision.
	counts := func(r *ledgertest.Runner, tm *Terms) []uint32 {
		c, err := Lookup(r.Chain.View(Name, nil), tm.ID())
		if err != nil {
			return nil
		}
		return c.Counts
	}
	ledgertest.Run(t, ledgertest.Ext{
		Seed:    "agora/consent-test/",
		Modules: func() []ledger.Module { return []ledger.Module{identity.Module{}, Module{}} },
		Body: func(r *ledgertest.Runner, a *ledgertest.Args, module, typ string) ([]byte, bool) {
			var msg any
			switch {
			case module == identity.Name && typ == "create":
				name := a.Pos[0]
				_, k := r.Key(name)
				_, next := r.Key(name + "-next")
				c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: k.Public(), Relationships: []string{identity.CapabilityInvocation}}},
					Next: identity.Commitment(next.Public())}
				r.Name(c.DID(), "<did:"+name+">")
				msg = c
			case module != Name:
				return nil, false
			case typ == "create":
				name := a.Get("terms", "")
				tm := load(r, name)
				if err := tm.Seal(&seeded{seed: name}); err != nil {
					r.Fatalf("%v", err)
				}
				terms[name] = tm
				r.Name(tm.ID(), "<contract:"+name+">")
				msg = tm.Create()
			case typ == "use":
				tm := get(r, a.Get("terms", ""))
				u, _ := tm.Use(request(a, a.Get("event", "")), items(r, a), counts(r, tm), r.Chain.Next().UnixMilli())
				if a.Has("as") {
					u.Controller = get(r, a.Get("as", "")).Controller
				}
				switch a.Get("rules", "") {
				case "omit":
					if len(u.Proof.Misses) == 0 {
						r.Fatalf("rules=omit: no rule comes before the deciding one")
					}
					u.Proof.Misses = u.Proof.Misses[:len(u.Proof.Misses)-1]
				case "tamper":
					if len(u.Proof.Match) == 0 {
						r.Fatalf("rules=tamper: no rule decides")
					}
					u.Proof.Match[SlotCount].Count += 10
				}
				msg = u
			case typ == "transfer":
				tm := get(r, a.Get("terms", ""))
				cname := a.Get("child", "")
				ct := load(r, cname)
				child, err := tm.Derive(items(r, a), ct.Controller, ct.Rules, ct.Expires, &seeded{seed: cname})
				if err != nil {
					r.Fatalf("%v", err)
				}
				terms[cname] = child
				r.Name(child.ID(), "<contract:"+cname+">")
				tr, _ := tm.Transfer(request(a, EventTransfer), items(r, a), child, counts(r, tm), r.Chain.Next().UnixMilli())
				switch a.Get("tamper", "") {
				case "subject": // a child of another subject
					tr.Child.Subject = Fingerprint(TagDID, child.Subject.Salt, "did:agora:someone-else")
				case "item": // a child over another item than the one transferred
					tr.Child.Items[0] = Fingerprint(TagItem, child.Items[0].Salt, &Item{Type: "dpv-pd:Income", Value: "0 EUR"})
				case "expiry": // a child that outlives its parent
					tr.Child.Expires = tm.Expires + 1
				}
				msg = tr
			case typ == "revoke":
				tm := get(r, a.Get("terms", ""))
				rv := tm.Revoke()
				if a.Has("as") {
					rv.Subject = get(r, a.Get("as", "")).Subject
				}
				msg = rv
			default:
				return nil, false
			}
			return ledgertest.Body(r.T, msg), true
		},
	})
}

// TestFingerprintEncoding pins the documented encoding (docs/spec/consent.md).
func TestFingerprintEncoding(t *testing.T) {
	salt := []byte(strings.Repeat("s", 16))
	got := Fingerprint(TagDID, salt, "did:agora:x")
	// tag || 0x00 || len(salt) || salt || CBOR text "did:agora:x" (0x6b + 11 bytes)
	h := sha256.Sum256(append(append([]byte(TagDID+"\x00\x10"), salt...), append([]byte{0x6b}, "did:agora:x"...)...))
	if string(got) != string(h[:]) {
		t.Fatalf("fingerprint %x, want %x", got, h)
	}
}
